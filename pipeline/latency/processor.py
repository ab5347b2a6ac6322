"""The engine run over a store of conversation states: what the stream agent does per event.

The store is any mutable mapping of key -> ``ConversationState.to_dict()`` (a faust Table
in the worker, a dict in tests and benchmarks). The processor writes it only on changed
transitions and keeps one deadline index and one event clock per partition, so timers
follow the partition when it moves: the new owner calls ``rebuild`` with its keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, MutableMapping
from datetime import datetime
from typing import Any

from pipeline.latency.engine import Output, apply_event, fire_due, next_due
from pipeline.latency.policy import SlaPolicy
from pipeline.latency.state import ConversationState
from pipeline.latency.timers import DeadlineIndex, EventClock
from schemas.events import CanonicalEvent


def state_key(tenant: str, conversation_id: str) -> str:
    """Table key of a conversation; tenants may reuse conversation ids."""
    return f"{tenant}\x1f{conversation_id}"


class LatencyProcessor:
    """Applies events and fires due timers against a mapping of stored states."""

    def __init__(self, policy: SlaPolicy, store: MutableMapping[str, dict[str, Any]]) -> None:
        self.policy = policy
        self.store = store
        self.clock = EventClock()
        self._indexes: defaultdict[int, DeadlineIndex] = defaultdict(DeadlineIndex)

    def process(self, event: CanonicalEvent, partition: int = 0) -> list[Output]:
        """Apply one event; call ``fire`` after it (or after a batch) to raise what is due."""
        key = state_key(event.tenant, event.conversation_id)
        transition = apply_event(self._load(key), event, self.policy)
        self.clock.observe(partition, event.occurred_at)
        if transition.changed:
            self._save(partition, key, transition.state)
        return transition.outputs

    def fire(self, partition: int, wall_now: datetime, caught_up: bool) -> list[Output]:
        """Raise reminders and breaches due on ``partition`` by its clock (see EventClock)."""
        now = self.clock.now(partition, wall_now, caught_up)
        outputs: list[Output] = []
        for key in self._indexes[partition].pop_due(now):
            state = self._load(str(key))
            if state is None:
                continue
            transition = fire_due(state, now, self.policy)
            outputs.extend(transition.outputs)
            if transition.changed:
                self._save(partition, str(key), transition.state)
            else:
                self._indexes[partition].schedule(key, next_due(state))
        return outputs

    def rebuild(self, partition: int, keys: Iterable[str]) -> int:
        """Re-index the timers of an assigned partition from its stored states; returns count."""
        index = self._indexes[partition] = DeadlineIndex()
        for key in keys:
            state = self._load(key)
            index.schedule(key, next_due(state))
        return len(index)

    def revoke(self, partition: int) -> None:
        """Forget a partition that moved to another worker (its states moved with it)."""
        self._indexes.pop(partition, None)
        self.clock.forget(partition)

    def pending_timers(self, partition: int) -> int:
        return len(self._indexes[partition])

    def _load(self, key: str) -> ConversationState | None:
        stored = self.store.get(key)
        return None if stored is None else ConversationState.from_dict(stored)

    def _save(self, partition: int, key: str, state: ConversationState | None) -> None:
        if state is None:
            self.store.pop(key, None)
        else:
            self.store[key] = state.to_dict()
        self._indexes[partition].schedule(key, next_due(state))
