"""Offsets read per partition since its assignment (agents/offsets.py): the head a
never-committed partition commits from, and how far the broker is known to hold records."""

from __future__ import annotations

from faust.types import TP

from agents.offsets import ReadOffsets
from pipeline.offsets import known_end, never_committed, next_commit

RAW = TP("salesradar.raw.wecom", 0)
OTHER = TP("salesradar.raw.wecom", 1)


def test_first_and_furthest_offsets_read_stay_until_the_partition_is_revoked() -> None:
    read = ReadOffsets()
    for offset in (50, 51, 52, 50, 51):  # read again from 50 after a rewind
        read.on_message_in(RAW, offset, None)
    read.on_message_in(OTHER, 7, None)
    assert read.lowest == {RAW: 50, OTHER: 7}
    assert read.furthest == {RAW: 52, OTHER: 7}
    read.forget([RAW])
    assert (read.lowest, read.furthest) == ({OTHER: 7}, {OTHER: 7})


def test_the_head_is_the_lowest_offset_read_when_the_log_is_read_again_from_its_start() -> None:
    read = ReadOffsets()
    for offset in (3, 4, 0, 1, 2, 3):  # 0-2 dropped in a rebalance, then read from the start
        read.on_message_in(RAW, offset, None)
    assert (read.lowest[RAW], read.furthest[RAW]) == (0, 4)
    assert next_commit([0, 1], read.lowest[RAW]) == 2
    assert next_commit([3, 4], read.lowest[RAW]) is None  # never past the unprocessed 0-2


def test_after_expired_offsets_a_partition_commits_from_its_new_first_read() -> None:
    """Read from 50 once; back after the group's offsets expired, reading from 120."""
    read = ReadOffsets()
    read.on_message_in(RAW, 50, None)
    read.forget([RAW])  # revoked, then assigned again with nothing committed
    for offset in (120, 121, 122):
        read.on_message_in(RAW, offset, None)
    assert next_commit([120, 121, 122], read.lowest.get(RAW)) == 123
    assert next_commit([120, 121, 122], 50) is None  # what the old first read gave: never


def test_the_known_end_is_past_the_furthest_record_read_when_the_broker_says_less() -> None:
    """The embedded broker reports 5 after a batch at offsets 4-9 (its base + 1); a worker
    that read offset 9 knows the partition holds at least 10 records."""
    assert known_end(5, 9) == 10
    assert known_end(12, 9) == 12  # the broker knows of more than was read
    assert known_end(None, 3) == 4  # no fetch answer yet, but records were read
    assert known_end(7, None) == 7 and known_end(None, None) is None


def test_partitions_with_nothing_committed_are_read_again_from_the_start() -> None:
    """aiokafka seeks only committed offsets above 0; the others keep a position past records
    faust dropped in a rebalance unless they are sought to the start."""
    changelog = "salesradar-conversations-changelog"
    committed = {
        TP("salesradar.raw.dingtalk", 3): None,
        TP("salesradar.raw.email", 2): 0,
        TP("salesradar.raw.wecom", 1): 32,
        TP(changelog, 3): None,  # recovery positions a changelog itself
    }
    assert never_committed(committed, {changelog}) == [
        TP("salesradar.raw.dingtalk", 3),
        TP("salesradar.raw.email", 2),
    ]
