"""The engine run over a store of conversations: what the stream agent does per event and batch.

The store is any mutable mapping of conversation id -> stored conversation (a faust Table in
the worker, a dict in tests and benchmarks). The processor reads through it, keeps the writes
of a batch to itself and hands them over in ``commit``: the worker delivers a batch's outputs
first and commits the state second, so a crash in between loses no output.

The reverse crash (state committed, input offsets not yet) re-delivers events whose effect is
already stored: each stored conversation records the input positions of the last events that
changed it, and an event at or before the newest of them is skipped, so a re-delivered customer
message never re-opens a wait that was answered. "At or before" and not only the recorded
positions: an event that changed nothing when it came (a customer's "好的" before any question)
can change the newer state when applied again (it would start the wait earlier). This relies on
each input's records coming in offset order, which the worker's sequencer guarantees
(pipeline/sequencing.py).

A stored conversation is the JSON bytes of ``{"p": partition, "s": ConversationState.to_dict(),
"a": {input: [[offset, index], ...]}}`` (pipeline/latency/decoded.py says why bytes);
``index`` numbers the events one raw record became. The partition lets a new owner rebuild its
timers from the keys that moved with the partition.

Decoding a stored state on every event and encoding it on every change cost a fifth of the
faust pass, so the processor keeps the decoded states of recently used conversations (see
``DecodedStates``) and holds the pending writes decoded: a state is encoded once, when a batch
commits it.

A stored value this version cannot read (corrupt, or written by another version, as after a
rollback) must not stop the worker: raising on it would crash the deadline timer and every
restart's timer rebuild, a crash loop. It is treated as absent, so the conversation starts
afresh, and handed to the worker (``take_unreadable``) to keep as a dead letter; the next
commit deletes it.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from datetime import datetime

from pipeline.latency.decoded import (
    Applied,
    Conversation,
    DecodedStates,
    UnreadableState,
    encode_stored,
    stored_partition,
)
from pipeline.latency.engine import Output, apply_event, fire_due, next_due
from pipeline.latency.policy import SlaPolicy
from pipeline.latency.state import ConversationState
from pipeline.latency.timers import DeadlineIndex, EventClock
from schemas.events import CanonicalEvent

#: A pending write: the new conversation; None deletes it.
Change = Conversation | None
#: Where an event was read: (input name, offset, index of the event within its raw record).
Position = tuple[str, int, int]
#: Positions kept per input and conversation: more than a conversation sees between commits.
POSITIONS_KEPT = 16


@dataclass(frozen=True)
class Unreadable:
    """A stored conversation that could not be read, and why."""

    key: str
    stored: bytes
    error: str


class LatencyProcessor:
    """Applies events and fires due timers against stored conversations, batching the writes."""

    def __init__(self, policy: SlaPolicy, store: MutableMapping[str, bytes]) -> None:
        self.policy = policy
        self.store = store
        self.clock = EventClock()
        self._indexes: dict[int, DeadlineIndex] = {}
        self._pending: dict[str, Change] = {}
        self._decoded = DecodedStates()
        self._unreadable: dict[str, Unreadable] = {}

    def process(
        self,
        event: CanonicalEvent,
        partition: int = 0,
        *,
        source: str = "",
        position: Position | None = None,
    ) -> list[Output]:
        """Apply one event; call ``fire`` after it to raise what became due.

        ``source`` names the upstream input for the partition's clock (see EventClock);
        ``position`` is where the event was read, to skip it when it is re-delivered.
        """
        key = event.conversation_id
        state, applied = self._read(key)
        if position is not None and _already_applied(applied, position):
            return []
        self.clock.observe(partition, event.occurred_at, source)
        transition = apply_event(state, event, self.policy)
        if transition.changed:
            applied = dict(applied)
            if position is not None:
                kept = applied.get(position[0], [])[-(POSITIONS_KEPT - 1) :]
                applied[position[0]] = [*kept, [position[1], position[2]]]
            self._write(partition, key, transition.state, applied)
        return transition.outputs

    def fire(self, partition: int, wall_now: datetime, caught_up: bool) -> list[Output]:
        """Raise reminders and breaches due on ``partition`` by its clock (see EventClock)."""
        now = self.clock.now(partition, wall_now, caught_up)
        index = self._index(partition)
        outputs: list[Output] = []
        for key in index.pop_due(now):
            state, applied = self._read(str(key))
            if state is None:
                continue
            transition = fire_due(state, now, self.policy)
            outputs.extend(transition.outputs)
            if transition.changed:
                self._write(partition, str(key), transition.state, applied)
            else:
                index.schedule(key, next_due(state))
        return outputs

    def due(self, partition: int) -> datetime | None:
        """The earliest pending deadline or reminder of ``partition``."""
        return self._index(partition).peek()

    def commit(self) -> int:
        """Write the pending states to the store (after their outputs were delivered)."""
        pending, self._pending = self._pending, {}
        for key, change in pending.items():
            if change is None:
                self.store.pop(key, None)
                self._decoded.discard(key)
                continue
            stored = encode_stored(change)
            self.store[key] = stored
            self._decoded.keep(key, stored, change)
        return len(pending)

    @property
    def has_unreadable(self) -> bool:
        return bool(self._unreadable)

    def take_unreadable(self) -> list[Unreadable]:
        """Stored values found unreadable since the last call. Each is deleted by the next
        commit (unless an event wrote its conversation afresh): deliver their dead letters
        before that commit."""
        taken = list(self._unreadable.values())
        self._unreadable.clear()
        for item in taken:
            self._pending.setdefault(item.key, None)
        return taken

    def rebuild(self, partition: int, keys: list[str] | None = None) -> int:
        """Re-index the timers of an assigned partition from the store; returns their count."""
        index = self._indexes[partition] = DeadlineIndex()
        for key, state in self._states_on(partition, keys):
            index.schedule(key, next_due(state))
        return len(index)

    def revoke(self, partition: int) -> None:
        """Forget a partition that moved to another worker (its states moved with it)."""
        self._indexes.pop(partition, None)
        self.clock.forget(partition)
        self._decoded.forget(partition)
        # An unreadable value names no partition: forget them all rather than delete one whose
        # conversation now lives on another worker (which may have written it afresh); those
        # still here are found again when their partition's timers are rebuilt.
        self._unreadable.clear()

    def partitions(self) -> list[int]:
        return sorted(self._indexes)

    def pending_timers(self, partition: int | None = None) -> int:
        if partition is None:
            return sum(len(index) for index in self._indexes.values())
        return len(self._index(partition))

    def _index(self, partition: int) -> DeadlineIndex:
        """A partition first seen here (assigned, or moved in) gets its timers from the store."""
        if partition not in self._indexes:
            self.rebuild(partition)
        return self._indexes[partition]

    def _states_on(
        self, partition: int, keys: list[str] | None
    ) -> Iterator[tuple[str, ConversationState | None]]:
        if keys is not None:
            for key in keys:
                state, applied = self._read(key)
                if state is not None:
                    yield key, state
            return
        for key, stored in list(self.store.items()):
            if not stored:
                continue
            try:
                on_partition = stored_partition(stored) == partition
            except UnreadableState as exc:
                self._found_unreadable(key, stored, exc)
                continue
            if on_partition and (conversation := self._conversation(key, stored)) is not None:
                yield key, conversation.state

    def _read(self, key: str) -> tuple[ConversationState | None, Applied]:
        """The state of ``key`` and the positions that changed it: pending first, then stored."""
        if key in self._pending:
            change = self._pending[key]
            return (None, {}) if change is None else (change.state, change.applied)
        stored = self.store.get(key)
        conversation = None if stored is None else self._conversation(key, stored)
        if conversation is None:
            return None, {}
        return conversation.state, conversation.applied

    def _conversation(self, key: str, stored: bytes) -> Conversation | None:
        """The decoded conversation; None when ``stored`` cannot be read (kept for the worker)."""
        try:
            return self._decoded.conversation(key, stored)
        except UnreadableState as exc:
            self._found_unreadable(key, stored, exc)
            return None

    def _found_unreadable(self, key: str, stored: bytes, exc: UnreadableState) -> None:
        if key not in self._pending:  # a pending write or delete replaces the value anyway
            self._unreadable.setdefault(key, Unreadable(key, bytes(stored), str(exc)))

    def _write(
        self, partition: int, key: str, state: ConversationState | None, applied: Applied
    ) -> None:
        self._pending[key] = None if state is None else Conversation(partition, state, applied)
        self._index(partition).schedule(key, next_due(state))


def _already_applied(applied: Applied, position: Position) -> bool:
    kept = applied.get(position[0])
    return bool(kept) and [position[1], position[2]] <= max(kept)
