"""When to look at a conversation again: a deadline heap and a per-partition clock.

The heap holds one live entry per conversation key; rescheduling a key pushes a new entry
and leaves the old one to be skipped when it surfaces (lazy invalidation), which keeps
every operation O(log n) without searching the heap.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from datetime import UTC, datetime

from pipeline.latency.state import from_us, to_us

#: What ``EventClock.now`` answers before it has seen anything: nothing can be due yet.
BEGINNING_OF_TIME = datetime.min.replace(tzinfo=UTC)

#: Rebuild the heap when stale entries outnumber live ones by this factor.
_COMPACT_FACTOR = 2


class DeadlineIndex:
    """Which conversation keys have a reminder or deadline due, earliest first."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, Hashable]] = []
        self._due_us: dict[Hashable, int] = {}

    def __len__(self) -> int:
        return len(self._due_us)

    def schedule(self, key: Hashable, due_at: datetime | None) -> None:
        """Set (or with None, clear) the next instant at which ``key`` needs a ``fire_due``."""
        if due_at is None:
            self._due_us.pop(key, None)
            return
        due_us = to_us(due_at)
        if self._due_us.get(key) == due_us:
            return
        self._due_us[key] = due_us
        heapq.heappush(self._heap, (due_us, key))
        if len(self._heap) > _COMPACT_FACTOR * len(self._due_us) + 64:
            self._compact()

    def pop_due(self, now: datetime) -> list[Hashable]:
        """Keys due at or before ``now``, each once; they are unscheduled until rescheduled."""
        now_us = to_us(now)
        due: list[Hashable] = []
        while self._heap and self._heap[0][0] <= now_us:
            due_us, key = heapq.heappop(self._heap)
            if self._due_us.get(key) == due_us:
                del self._due_us[key]
                due.append(key)
        return due

    def peek(self) -> datetime | None:
        """The earliest live due instant, to know how long the timer may sleep."""
        while self._heap and self._due_us.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)
        return from_us(self._heap[0][0]) if self._heap else None

    def _compact(self) -> None:
        self._heap = [(due_us, key) for key, due_us in self._due_us.items()]
        heapq.heapify(self._heap)


class EventClock:
    """The time a partition's timers run on: its inputs' event time, or the wall clock.

    Event time is the default driver so that replaying an export raises a breach only when
    the input itself has moved past the deadline, never for a wait whose reply is simply
    further down the same input. The wall clock takes over only when the partition is caught
    up (no backlog), so a customer left unanswered in a quiet hour still breaches on time.

    A partition of the events topic merges several upstream inputs (each raw topic-partition)
    that are read at different speeds: a short CRM export races through while a long chat
    export is still on Monday. So the clock is the *minimum* over the inputs seen of each
    input's newest event time (a watermark, as in Flink or Beam): no input can still deliver
    anything older than that, barring disorder within one input.
    """

    def __init__(self) -> None:
        self._newest: dict[int, dict[str, datetime]] = {}

    def observe(self, partition: int, event_time: datetime, source: str = "") -> None:
        """``source`` names the upstream input the event came through."""
        inputs = self._newest.setdefault(partition, {})
        seen = inputs.get(source)
        if seen is None or event_time > seen:
            inputs[source] = event_time

    def now(self, partition: int, wall_now: datetime, caught_up: bool) -> datetime:
        inputs = self._newest.get(partition)
        event_now = min(inputs.values()) if inputs else BEGINNING_OF_TIME
        if caught_up and wall_now > event_now:
            return wall_now
        return event_now

    def forget(self, partition: int) -> None:
        """Drop a revoked partition; its new owner rebuilds the clock from its own input."""
        self._newest.pop(partition, None)
