"""Records of a partition go to the stages in offset order, or not at all.

Across a rebalance the consumer can drop records fetched under the old assignment and deliver
later records of the same partition first; the dropped ones only come back after a re-read.
The latency engine must see a conversation's records in order, so a record that jumps ahead
of the next expected offset is held back (not processed, not acknowledged) and the partition
is read again from the expected offset. A re-delivered earlier record is let through: the
processor recognises what it already applied.

The same next-expected offset says whether a partition has a backlog (``caught_up``), which
decides when the wall clock may drive its timers.
"""

from __future__ import annotations

from collections.abc import Hashable
from enum import Enum


class Verdict(Enum):
    IN_ORDER = "in order"  # the next offset, or one read again: process it
    AHEAD = "ahead"  # offsets before it were not seen yet: rewind, do not process


class PartitionSequencer:
    """Tracks the next offset expected from each partition since the last assignment."""

    def __init__(self, max_rewinds: int = 3) -> None:
        self._next: dict[Hashable, int] = {}
        self._rewinds: dict[tuple[Hashable, int], int] = {}
        self._max_rewinds = max_rewinds

    def reset(self) -> None:
        """A new assignment: the consumer starts each partition again at its committed offset."""
        self._next.clear()
        self._rewinds.clear()

    def start(self, partition: Hashable, committed: int | None) -> None:
        """Where the consumer resumes a partition after an assignment (its committed offset)."""
        if partition not in self._next and committed is not None and committed >= 0:
            self._next[partition] = committed

    def admit(self, partition: Hashable, offset: int) -> Verdict:
        expected = self._next.get(partition)
        if expected is None or offset <= expected:
            self._next[partition] = max(offset + 1, expected or 0)
            return Verdict.IN_ORDER
        rewinds = self._rewinds.get((partition, expected), 0)
        if rewinds >= self._max_rewinds:
            # The offsets are really not there (deleted by retention): accept the jump.
            self._next[partition] = offset + 1
            return Verdict.IN_ORDER
        self._rewinds[(partition, expected)] = rewinds + 1
        return Verdict.AHEAD

    def expected(self, partition: Hashable) -> int:
        return self._next[partition]

    def caught_up(self, partition: Hashable, committed: int | None, end: int | None) -> bool:
        """Whether every record before ``end`` (the partition's end offset; None until the
        consumer has fetched from it) was processed, here since the assignment or anywhere
        before it (``committed``). A partition that gets no new record after an assignment
        is caught up at its committed offset, not behind forever."""
        if end is None:
            return False
        self.start(partition, committed)
        return self._next.get(partition, 0) >= end
