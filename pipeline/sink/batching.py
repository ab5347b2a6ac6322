"""Deterministic per-partition batches, so a retried insert carries the same dedup token.

A batch is closed by row count, bytes, or age. Before its insert the sink records the batch's
offset range (an *intent*); after a crash the partition resumes from the committed offset and
re-forms exactly the recorded ranges first, whatever closed them. Token and rows of a retried
batch are then identical and ClickHouse drops the second copy, in every table the batch touches.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Rows = dict[str, list[dict[str, Any]]]


@dataclass
class Batch:
    """Rows of one topic-partition from `first_offset` to `last_offset` inclusive."""

    topic: str
    partition: int
    first_offset: int
    namespace: str  # the sink's consumer group: offsets only mean something within one cluster
    last_offset: int = -1
    rows: Rows = field(default_factory=dict)
    records: int = 0
    nbytes: int = 0
    opened_at: float = field(default_factory=time.monotonic)
    #: True when an insert of exactly this batch may have run before (a recorded intent
    #: re-formed after a restart, or a retry): rows it left behind are its own.
    attempted_before: bool = False

    @property
    def dedup_token(self) -> str:
        """The Kafka Connect sink's convention, topic-partition-first-last, within a namespace."""
        offsets = f"{self.first_offset}-{self.last_offset}"
        return f"{self.namespace}/{self.topic}-{self.partition}-{offsets}"

    @property
    def row_count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def add(self, offset: int, rows: Rows, nbytes: int) -> None:
        for table, table_rows in rows.items():
            self.rows.setdefault(table, []).extend(table_rows)
        self.last_offset = offset
        self.records += 1
        self.nbytes += nbytes


class PartitionBatcher:
    """Turns one partition's records into batches; replays recorded ranges exactly."""

    def __init__(
        self,
        topic: str,
        partition: int,
        *,
        namespace: str,
        max_records: int,
        max_bytes: int,
        max_age_s: float,
        recorded_ranges: Iterable[tuple[int, int]] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.topic = topic
        self.partition = partition
        self._namespace = namespace
        self._max_records = max_records
        self._max_bytes = max_bytes
        self._max_age_s = max_age_s
        self._clock = clock
        self._replay = sorted(recorded_ranges)
        self._current: Batch | None = None

    @property
    def replaying(self) -> bool:
        """True while recorded ranges remain: only their exact end may close a batch."""
        return bool(self._replay)

    def add(self, offset: int, rows: Rows, nbytes: int) -> Batch | None:
        """Add one record; returns the batch it closed, if any."""
        while self._replay and self._replay[0][1] < offset:
            self._replay.pop(0)  # a recorded range already committed before the restart
        if self._current is None:
            self._current = Batch(
                self.topic, self.partition, offset, self._namespace, opened_at=self._clock()
            )
        self._current.add(offset, rows, nbytes)
        if self._replay:
            if offset >= self._replay[0][1]:
                self._replay.pop(0)
                self._current.attempted_before = True
                return self._close()
            return None
        if self._current.records >= self._max_records or self._current.nbytes >= self._max_bytes:
            return self._close()
        return None

    def close_if_old(self) -> Batch | None:
        """Close the open batch when it is older than the age limit (never while replaying)."""
        if self._current is None or self._replay:
            return None
        if self._clock() - self._current.opened_at >= self._max_age_s:
            return self._close()
        return None

    def close_now(self) -> Batch | None:
        """Close whatever is open (partition revoked, shutdown): the intent makes it repeatable."""
        if self._replay:
            return None
        return self._close()

    @property
    def pending_records(self) -> int:
        return self._current.records if self._current else 0

    def _close(self) -> Batch | None:
        batch, self._current = self._current, None
        return batch
