"""Batches per partition: recorded ranges are re-formed exactly, and marked as retried."""

from __future__ import annotations

from pipeline.sink.batching import PartitionBatcher


def _batcher(recorded: list[tuple[int, int]]) -> PartitionBatcher:
    return PartitionBatcher(
        "salesradar.events",
        1,
        namespace="sink-group",
        max_records=100,
        max_bytes=10**6,
        max_age_s=60,
        recorded_ranges=recorded,
    )


def test_a_recorded_range_is_re_formed_exactly_and_marked_as_attempted_before() -> None:
    batcher = _batcher([(5, 7)])
    assert batcher.add(5, {"events": [{"n": 5}]}, 10) is None
    assert batcher.add(6, {"events": [{"n": 6}]}, 10) is None
    batch = batcher.add(7, {"events": [{"n": 7}]}, 10)
    assert batch is not None and (batch.first_offset, batch.last_offset) == (5, 7)
    assert batch.dedup_token == "sink-group/salesradar.events-1-5-7"
    assert batch.attempted_before


def test_a_new_batch_is_a_first_attempt() -> None:
    batcher = _batcher([(0, 3)])  # committed before the restart: offsets past it start fresh
    assert batcher.add(8, {"events": [{"n": 8}]}, 10) is None
    batch = batcher.close_now()
    assert batch is not None and batch.first_offset == 8
    assert not batch.attempted_before
