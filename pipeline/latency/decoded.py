"""Stored conversations: compact JSON bytes in the store, recently used states decoded beside it.

The store (the worker's faust table, held in memory and in its changelog) keeps each
conversation as the bytes of ``{"p": partition, "s": ConversationState.to_dict(), "a":
applied}``: about 600 bytes, where the same value held as Python dicts took about 2 KB, which at
100k open waits decided whether a worker fits its memory budget. Decoding those bytes on every
event cost a fifth of the faust pass, so the states of recently written or read conversations
are kept decoded.

An entry is valid only for the very stored value it was decoded from (checked by identity): a
value the store got from elsewhere (a changelog recovery, another writer) is a new object and
is decoded afresh, so the cache can never hand out a state the store no longer holds. The
engine never mutates a state it is given (it works on a copy), so sharing one is safe.
"""

from __future__ import annotations

from typing import NamedTuple

import orjson

from pipeline.compact_json import dumps_kept
from pipeline.latency.state import ConversationState

#: Input positions that changed a conversation: input name -> [[offset, index], ...].
Applied = dict[str, list[list[int]]]
#: Decoded conversations kept; older ones are decoded again when next read (~1.5 KB each).
KEPT = 40_000


class Conversation(NamedTuple):
    """A stored conversation, decoded."""

    partition: int
    state: ConversationState
    applied: Applied


def encode_stored(conversation: Conversation) -> bytes:
    return dumps_kept(
        {"p": conversation.partition, "s": conversation.state.to_dict(), "a": conversation.applied}
    )


class UnreadableState(ValueError):
    """A stored conversation this version cannot read: corrupt bytes, or a state written by
    another version (a rolled-back worker reads what its successor wrote)."""


def decode_stored(stored: bytes) -> Conversation:
    try:
        value = orjson.loads(stored)
        applied = value["a"]
        if not isinstance(applied, dict):
            raise TypeError(f"applied positions are a {type(applied).__name__}")
        return Conversation(int(value["p"]), ConversationState.from_dict(value["s"]), applied)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise UnreadableState(f"{type(exc).__name__}: {exc}") from exc


def stored_partition(stored: bytes) -> int:
    """The partition of a stored conversation, without decoding its state (timers are rebuilt
    from every stored value at an assignment)."""
    try:
        return int(orjson.loads(stored)["p"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise UnreadableState(f"{type(exc).__name__}: {exc}") from exc


class DecodedStates:
    """Stored value -> its decoded conversation, for the ``kept`` most recently written or
    first read keys."""

    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._entries: dict[str, tuple[bytes, Conversation]] = {}

    def conversation(self, key: str, stored: bytes) -> Conversation:
        """What ``stored`` holds, decoded once per stored value."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] is stored:
            return entry[1]
        conversation = decode_stored(stored)
        self.keep(key, stored, conversation)
        return conversation

    def keep(self, key: str, stored: bytes, conversation: Conversation) -> None:
        """Remember that ``stored`` decodes to ``conversation`` (called when it is written)."""
        self._entries.pop(key, None)
        self._entries[key] = (stored, conversation)
        if len(self._entries) > self._kept:
            del self._entries[next(iter(self._entries))]

    def discard(self, key: str) -> None:
        """Drop ``key``'s entry (its stored value was deleted)."""
        self._entries.pop(key, None)

    def forget(self, partition: int) -> None:
        """Drop a revoked partition's entries: its keys now change on another worker."""
        gone = [key for key, (_, kept) in self._entries.items() if kept.partition == partition]
        for key in gone:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
