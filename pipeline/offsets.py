"""Which offset a partition may commit: never past a record that was not acked.

A record is held unacked until everything it caused is safe (a batch's writes, an alert's
final outcome). faust's own rule commits the first run of acked offsets it finds, and its check
for an unacked record at the head of that run misses two cases: no offset committed yet, and
a held record exactly at the committed offset. Either way it committed past the held record,
so a crash lost it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TypeVar

T = TypeVar("T")


def next_commit(acked: Sequence[int], head: int | None) -> int | None:
    """One past the run of acked offsets that starts at ``head`` (the first offset not yet
    committed); None when ``head`` is unknown or not acked. ``acked`` is sorted."""
    if head is None:
        return None
    offset = head
    for acked_offset in acked:
        if acked_offset == offset:
            offset += 1
        elif acked_offset > offset:
            break
    return offset if offset > head else None


def read_to_end(next_offset: int, committed: int | None, end: int | None) -> bool:
    """Whether a partition has no backlog: every record before ``end`` (its end offset; None
    until the consumer has fetched from it) was read here (``next_offset``) or processed before
    the assignment (``committed``). A partition with no new record since an assignment is read
    to its end at its committed offset, not behind forever."""
    if end is None:
        return False
    return max(next_offset, committed or 0) >= end


def known_end(highwater: int | None, furthest_read: int | None) -> int | None:
    """The end offset a partition is known to have: the broker's high watermark, or just past
    the furthest record already read when that is further. The embedded broker reports the
    base offset of its last record batch plus one, so a partition whose last batch was read
    but is still being processed would otherwise count as read to its end."""
    if furthest_read is None:
        return highwater
    return max(highwater or 0, furthest_read + 1)


def never_committed(committed: Mapping[T, int | None], changelogs: Collection[str]) -> list[T]:
    """The stream partitions (not a table's changelog, which recovery positions itself) whose
    group has committed nothing, or offset 0: the consumer does not seek those when it seeks to
    committed offsets, so records it fetched and then dropped in a rebalance would be skipped
    for good. They must be read again from the start of the log."""
    return [
        tp
        for tp, offset in committed.items()
        if not offset and getattr(tp, "topic", "") not in changelogs
    ]
