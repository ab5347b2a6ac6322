"""The offset a partition may commit never passes a record still held unacked."""

from __future__ import annotations

from pipeline.offsets import next_commit, read_to_end


def test_commits_the_acked_run_from_the_head() -> None:
    assert next_commit([5, 6, 7, 9], head=5) == 8


def test_a_held_record_at_the_committed_offset_blocks_the_commit() -> None:
    # faust's own rule committed 8 here: the record at offset 5 would be lost by a crash
    assert next_commit([6, 7], head=5) is None


def test_a_held_first_record_blocks_the_commit_before_anything_is_committed() -> None:
    assert next_commit([1, 2, 3], head=0) is None
    assert next_commit([0, 1, 2, 3], head=0) == 4


def test_an_unknown_head_commits_nothing() -> None:
    assert next_commit([0, 1], head=None) is None


def test_offsets_below_the_head_are_stale_and_skipped() -> None:
    assert next_commit([3, 4, 5, 6], head=5) == 7


def test_read_to_end_needs_a_known_end_reached_here_or_before_the_assignment() -> None:
    assert read_to_end(10, None, 10)
    assert not read_to_end(4, None, 5)
    assert not read_to_end(0, None, None)
    assert read_to_end(0, 76, 76)  # nothing new since the assignment: caught up when committed
    assert not read_to_end(0, 75, 76)
