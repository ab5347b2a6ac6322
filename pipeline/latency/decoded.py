"""Decoded conversation states, kept beside the store so an event does not decode its state.

An entry is valid only for the very stored value it was decoded from (checked by identity):
a value the store got from elsewhere (a changelog recovery, another writer) is a new object
and is decoded afresh, so the cache can never hand out a state the store no longer holds.
The engine never mutates a state it is given (it works on a copy), so sharing one is safe.
"""

from __future__ import annotations

from typing import Any

from pipeline.latency.state import ConversationState

#: Decoded states kept per partition; older ones are decoded again when next read.
KEPT_PER_PARTITION = 50_000


class DecodedStates:
    """Stored value -> ConversationState, per partition (the stored value's ``"p"``)."""

    def __init__(self, kept_per_partition: int = KEPT_PER_PARTITION) -> None:
        self._kept = kept_per_partition
        self._by_partition: dict[int, dict[str, tuple[dict[str, Any], ConversationState]]] = {}

    def state(self, key: str, stored: dict[str, Any]) -> ConversationState:
        """The state ``stored`` holds, decoded once per stored value."""
        entries = self._by_partition.get(stored["p"])
        if entries is not None:
            entry = entries.get(key)
            if entry is not None and entry[0] is stored:
                return entry[1]
        state = ConversationState.from_dict(stored["s"])
        self.keep(key, stored, state)
        return state

    def keep(self, key: str, stored: dict[str, Any], state: ConversationState) -> None:
        """Remember that ``stored`` decodes to ``state`` (called when a state is written)."""
        entries = self._by_partition.setdefault(stored["p"], {})
        entries.pop(key, None)
        entries[key] = (stored, state)
        if len(entries) > self._kept:
            del entries[next(iter(entries))]

    def discard(self, key: str) -> None:
        """Drop ``key``'s state (its stored value was deleted)."""
        for entries in self._by_partition.values():
            entries.pop(key, None)

    def forget(self, partition: int) -> None:
        """Drop a revoked partition's states: its keys now change on another worker."""
        self._by_partition.pop(partition, None)

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_partition.values())
