"""Records of a partition go to the stages once each, in offset order, without gaps.

Across a rebalance the consumer can drop records fetched under the old assignment and deliver
later records of the same partition first; it can also hand out records it had buffered before
the rebalance after the partition was read again from its committed offset. The latency engine
must see a conversation's records in order and once, so each partition is tracked from the
offset it resumed at (its committed offset) and only the next offset is processed:

* a record ahead of it is held back (not processed, not acknowledged) and the partition is
  read again from the expected offset;
* a record behind it was processed already, here since the assignment or anywhere before the
  commit, and is skipped. Applying it again out of order would let a reply answer a message
  that came after it, or drop a message as answered.

The same next-expected offset says whether a partition has a backlog (``caught_up``), which
decides when the wall clock may drive its timers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from enum import Enum

from pipeline.offsets import read_to_end


class Verdict(Enum):
    IN_ORDER = "in order"  # the next offset: process it
    BEHIND = "behind"  # processed before: skip it
    AHEAD = "ahead"  # offsets before it were not seen yet: do not process, read again


class PartitionSequencer:
    """Tracks the next offset expected from each partition since the last assignment."""

    def __init__(
        self,
        max_rewinds: int = 3,
        rewind_wait_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._next: dict[Hashable, int] = {}
        self._rewinds: dict[tuple[Hashable, int], tuple[int, float]] = {}
        self._max_rewinds = max_rewinds
        self._rewind_wait_s = rewind_wait_s
        self._clock = clock

    def reset(self) -> None:
        """A new assignment: the consumer starts each partition again at its committed offset."""
        self._next.clear()
        self._rewinds.clear()

    def started(self, partition: Hashable) -> bool:
        return partition in self._next

    def start(self, partition: Hashable, committed: int | None) -> None:
        """Where the consumer resumes a partition after an assignment: its committed offset,
        None when nothing was committed (the log's start, 0 for our topics)."""
        if partition not in self._next:
            self._next[partition] = max(committed or 0, 0)

    def admit(self, partition: Hashable, offset: int) -> Verdict:
        expected = self._next.setdefault(partition, 0)
        if offset == expected:
            self._next[partition] = offset + 1
            return Verdict.IN_ORDER
        if offset < expected:
            return Verdict.BEHIND
        rewinds, last_at = self._rewinds.get((partition, expected), (0, float("-inf")))
        now = self._clock()
        # Every record ahead asks for a re-read: the consumer drops what it re-reads below a
        # record it was still handing out, so only the last re-read counts. Re-reads close
        # together are one attempt, though: records buffered before the first must not use up
        # the attempts that accept a retention gap.
        if now - last_at >= self._rewind_wait_s:
            if rewinds >= self._max_rewinds:
                # Read again several times and the offsets are really not there (deleted by
                # retention): accept the jump.
                self._next[partition] = offset + 1
                return Verdict.IN_ORDER
            self._rewinds[(partition, expected)] = (rewinds + 1, now)
        return Verdict.AHEAD

    def expected(self, partition: Hashable) -> int:
        return self._next[partition]

    def caught_up(self, partition: Hashable, committed: int | None, end: int | None) -> bool:
        """Whether every record before ``end`` (the partition's end offset; None until the
        consumer has fetched from it) was processed, here since the assignment or anywhere
        before it (``committed``). A partition that gets no new record after an assignment
        is caught up at its committed offset, not behind forever."""
        return read_to_end(self._next.get(partition, 0), committed, end)
