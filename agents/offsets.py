"""Commit a partition only up to its first unacked record (pipeline/offsets.py says why)."""

from __future__ import annotations

import logging

import faust
from faust.sensors import Sensor
from faust.types import TP

from pipeline.offsets import next_commit

log = logging.getLogger(__name__)


class FirstRead(Sensor):
    """The first offset read from each partition: its head while nothing is committed."""

    def __init__(self) -> None:
        super().__init__()
        self.offsets: dict[TP, int] = {}

    def on_message_in(self, tp: TP, offset: int, message: faust.types.Message) -> None:
        self.offsets.setdefault(tp, offset)


def commit_only_acked_heads(app: faust.App) -> None:
    """Replace faust's choice of the offset to commit with `next_commit`."""
    consumer = app.consumer
    first_read = FirstRead()
    app.sensors.add(first_read)

    def new_offset(tp: TP) -> int | None:
        acked = consumer._acked[tp]
        acked.sort()
        committed = consumer._committed_offset[tp]
        head = committed if committed is not None else first_read.offsets.get(tp)
        offset = next_commit(acked, head)
        if committed is None and offset is not None:
            log.info("%s: first commit, %d, from the first record read, %s", tp, offset, head)
        if offset is not None:
            done = [o for o in acked if o < offset]
            del acked[: len(done)]
            consumer._acked_index[tp].difference_update(done)
        return offset

    consumer._new_offset = new_offset  # type: ignore[method-assign]
