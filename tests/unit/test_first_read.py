"""The head a never-committed partition commits from is the first record read since its
assignment (agents/offsets.py)."""

from __future__ import annotations

from faust.types import TP

from agents.offsets import FirstRead
from pipeline.offsets import next_commit

RAW = TP("salesradar.raw.wecom", 0)
OTHER = TP("salesradar.raw.wecom", 1)


def test_the_first_offset_read_stays_until_the_partition_is_revoked() -> None:
    first = FirstRead()
    first.on_message_in(RAW, 50, None)
    first.on_message_in(RAW, 51, None)
    first.on_message_in(OTHER, 7, None)
    assert first.offsets == {RAW: 50, OTHER: 7}
    first.forget([RAW])
    assert first.offsets == {OTHER: 7}


def test_after_expired_offsets_a_partition_commits_from_its_new_first_read() -> None:
    """Read from 50 once; back after the group's offsets expired, reading from 120."""
    first = FirstRead()
    first.on_message_in(RAW, 50, None)
    first.forget([RAW])  # revoked, then assigned again with nothing committed
    for offset in (120, 121, 122):
        first.on_message_in(RAW, offset, None)
    assert next_commit([120, 121, 122], first.offsets.get(RAW)) == 123
    assert next_commit([120, 121, 122], 50) is None  # what the old first read gave: never
