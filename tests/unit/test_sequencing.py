"""Offset order per partition: jumps are held back, records behind are skipped."""

from __future__ import annotations

from pipeline.sequencing import PartitionSequencer, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_in_order_records_pass_and_a_jump_is_held_back() -> None:
    sequencer = PartitionSequencer()
    sequencer.start("p3", 105)
    assert sequencer.admit("p3", 105) is Verdict.IN_ORDER
    assert sequencer.admit("p3", 106) is Verdict.IN_ORDER
    assert sequencer.admit("p3", 120) is Verdict.AHEAD  # 107..119 dropped by the consumer
    assert sequencer.expected("p3") == 107
    assert sequencer.admit("p3", 107) is Verdict.IN_ORDER  # read again after the rewind
    sequencer.start("p1", 49)
    assert sequencer.admit("p1", 49) is Verdict.IN_ORDER  # partitions are independent


def test_a_record_delivered_again_is_not_applied_again() -> None:
    """After a rebalance the consumer hands out records it buffered before: applied once."""
    sequencer = PartitionSequencer()
    sequencer.start("p0", 10)
    for offset in (10, 11, 12):
        assert sequencer.admit("p0", offset) is Verdict.IN_ORDER
    assert sequencer.admit("p0", 11) is Verdict.BEHIND
    assert sequencer.admit("p0", 9) is Verdict.BEHIND  # committed before this assignment
    assert sequencer.expected("p0") == 13


def test_the_first_record_of_an_assignment_is_held_to_the_committed_offset() -> None:
    """Later records may come first: they must wait for the ones from the committed offset."""
    sequencer = PartitionSequencer()
    sequencer.start("p0", 61)
    assert sequencer.admit("p0", 99) is Verdict.AHEAD
    sequencer.start("p1", None)  # nothing committed yet: from the start of the log
    assert sequencer.admit("p1", 3) is Verdict.AHEAD
    assert sequencer.expected("p1") == 0


def test_records_buffered_before_a_re_read_do_not_use_up_the_rewinds() -> None:
    """Each asks for a re-read again (the consumer may drop the first one's records), but
    they count as one attempt: the gap is not taken for a retention gap."""
    clock = Clock()
    sequencer = PartitionSequencer(max_rewinds=1, rewind_wait_s=5.0, clock=clock)
    sequencer.start("p0", 5)
    assert sequencer.admit("p0", 9) is Verdict.AHEAD
    for offset in (10, 11, 12):  # still in flight from before the seek
        clock.now += 1.0
        assert sequencer.admit("p0", offset) is Verdict.AHEAD
    assert sequencer.admit("p0", 5) is Verdict.IN_ORDER


def test_a_jump_that_keeps_coming_back_is_accepted() -> None:
    clock = Clock()
    sequencer = PartitionSequencer(max_rewinds=2, rewind_wait_s=5.0, clock=clock)
    sequencer.start("p0", 5)
    sequencer.admit("p0", 5)
    assert sequencer.admit("p0", 9) is Verdict.AHEAD
    clock.now += 6.0
    assert sequencer.admit("p0", 9) is Verdict.AHEAD
    clock.now += 6.0
    assert sequencer.admit("p0", 9) is Verdict.IN_ORDER  # 6..8 are gone (retention)
    assert sequencer.expected("p0") == 10


def test_a_new_assignment_starts_over() -> None:
    sequencer = PartitionSequencer()
    sequencer.start("p0", 50)
    sequencer.admit("p0", 50)
    sequencer.reset()
    assert not sequencer.started("p0")
    sequencer.start("p0", 40)
    assert sequencer.admit("p0", 40) is Verdict.IN_ORDER
    assert sequencer.expected("p0") == 41


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
