"""Commit a partition only up to its first unacked record (pipeline/offsets.py says why)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import faust
from faust.sensors import Sensor
from faust.types import TP

from pipeline.logging_json import at
from pipeline.offsets import next_commit

log = logging.getLogger(__name__)


class ReadOffsets(Sensor):
    """The lowest and the furthest offset read from each partition since it was assigned.

    The lowest is a partition's head while nothing is committed. Kept across assignments, an
    old first read would outlive the group's committed offsets expiring (Kafka drops those of
    a group idle for a week), and the partition would never commit again. The furthest says
    how far the broker is known to hold records (see ``pipeline.offsets.known_end``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.first: dict[TP, int] = {}
        self.furthest: dict[TP, int] = {}

    def on_message_in(self, tp: TP, offset: int, message: faust.types.Message) -> None:
        # the lowest, not the first seen: a partition read again from the start of its log
        # after records were dropped in a rebalance has its head there
        if offset < self.first.get(tp, offset + 1):
            self.first[tp] = offset
        if offset > self.furthest.get(tp, -1):
            self.furthest[tp] = offset

    def forget(self, partitions: Iterable[TP]) -> None:
        for tp in partitions:
            self.first.pop(tp, None)
            self.furthest.pop(tp, None)


def commit_only_acked_heads(app: faust.App) -> ReadOffsets:
    """Replace faust's choice of the offset to commit with `next_commit`; returns the offsets
    read per partition it tracks for that (the stages use them too)."""
    consumer = app.consumer
    read = ReadOffsets()
    app.sensors.add(read)

    @app.on_partitions_revoked.connect
    async def forget_reads(sender: faust.App, revoked: set[TP], **kwargs: object) -> None:
        read.forget(revoked)

    def new_offset(tp: TP) -> int | None:
        acked = consumer._acked[tp]
        acked.sort()
        committed = consumer._committed_offset[tp]
        head = committed if committed is not None else read.first.get(tp)
        offset = next_commit(acked, head)
        if committed is None and offset is not None:
            log.info(
                "%s: first commit, %d, from the first record read, %s",
                tp,
                offset,
                head,
                extra=at(tp.topic, tp.partition, offset),
            )
        if offset is not None:
            done = [o for o in acked if o < offset]
            del acked[: len(done)]
            consumer._acked_index[tp].difference_update(done)
        return offset

    consumer._new_offset = new_offset  # type: ignore[method-assign]
    return read
