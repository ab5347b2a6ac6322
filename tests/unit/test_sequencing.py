"""Offset order per partition: jumps are held back, re-reads let through."""

from __future__ import annotations

from pipeline.sequencing import PartitionSequencer, Verdict


def test_in_order_records_pass_and_a_jump_is_held_back() -> None:
    sequencer = PartitionSequencer()
    assert sequencer.admit("p3", 105) is Verdict.IN_ORDER
    assert sequencer.admit("p3", 106) is Verdict.IN_ORDER
    assert sequencer.admit("p3", 120) is Verdict.AHEAD  # 107..119 dropped by the consumer
    assert sequencer.expected("p3") == 107
    assert sequencer.admit("p3", 107) is Verdict.IN_ORDER  # read again after the rewind
    assert sequencer.admit("p1", 49) is Verdict.IN_ORDER  # partitions are independent


def test_a_re_read_earlier_record_is_let_through() -> None:
    sequencer = PartitionSequencer()
    for offset in (10, 11, 12):
        assert sequencer.admit("p0", offset) is Verdict.IN_ORDER
    assert sequencer.admit("p0", 11) is Verdict.IN_ORDER
    assert sequencer.expected("p0") == 13


def test_a_jump_that_keeps_coming_back_is_accepted() -> None:
    sequencer = PartitionSequencer(max_rewinds=2)
    sequencer.admit("p0", 5)
    assert sequencer.admit("p0", 9) is Verdict.AHEAD
    assert sequencer.admit("p0", 9) is Verdict.AHEAD
    assert sequencer.admit("p0", 9) is Verdict.IN_ORDER  # 6..8 are gone (retention)
    assert sequencer.expected("p0") == 10


def test_a_new_assignment_starts_over() -> None:
    sequencer = PartitionSequencer()
    sequencer.admit("p0", 50)
    sequencer.reset()
    assert sequencer.admit("p0", 40) is Verdict.IN_ORDER
    assert sequencer.expected("p0") == 41


def test_the_first_record_after_an_assignment_must_be_the_committed_one() -> None:
    sequencer = PartitionSequencer()
    sequencer.start("p3", 166)
    assert sequencer.admit("p3", 167) is Verdict.AHEAD  # 166 was dropped at the head
    assert sequencer.admit("p3", 166) is Verdict.IN_ORDER


def test_caught_up_by_what_was_processed_here() -> None:
    sequencer = PartitionSequencer()
    sequencer.start("p0", 10)
    assert not sequencer.caught_up("p0", 10, 13)
    for offset in (10, 11, 12):
        sequencer.admit("p0", offset)
    assert sequencer.caught_up("p0", 10, 13)
    assert not sequencer.caught_up("p0", 10, 14)  # a record arrived meanwhile


def test_a_partition_with_nothing_new_after_an_assignment_is_caught_up() -> None:
    """A restarted worker sees no record of a partition whose input was committed before."""
    sequencer = PartitionSequencer()
    assert sequencer.caught_up("p1", 76, 76)
    assert not sequencer.caught_up("p2", 70, 76)  # six records still to read
    assert sequencer.caught_up("p3", None, 0)  # an empty partition, nothing committed


def test_an_unknown_end_is_not_caught_up() -> None:
    """The end offset is known only after a fetch: until then, assume a backlog."""
    assert not PartitionSequencer().caught_up("p0", 76, None)
