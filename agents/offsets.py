"""Where faust's consumer reads from and commits to, corrected for what the fault tests found.

Commit a partition only up to its first unacked record (pipeline/offsets.py says why), never
fill a jump in offsets as if it were processed, read a never-committed partition again from
the start after a rebalance, and recover tables to each changelog's last record.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import faust
from aiokafka.errors import IllegalStateError
from faust.sensors import Sensor
from faust.types import TP

from pipeline.end_offsets import last_record_ends
from pipeline.logging_json import at
from pipeline.offsets import never_committed, next_commit

log = logging.getLogger(__name__)


class ReadOffsets(Sensor):
    """The lowest and the furthest offset read from each partition since it was assigned.

    The lowest is a partition's head while nothing is committed. Kept across assignments, an
    old lowest read would outlive the group's committed offsets expiring (Kafka drops those of
    a group idle for a week), and the partition would never commit again. The furthest says
    how far the broker is known to hold records (see ``pipeline.offsets.known_end``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.lowest: dict[TP, int] = {}
        self.furthest: dict[TP, int] = {}

    def on_message_in(self, tp: TP, offset: int, message: faust.types.Message) -> None:
        # the lowest, not the first seen: a partition read again from the start of its log
        # after records were dropped in a rebalance has its head there
        if offset < self.lowest.get(tp, offset + 1):
            self.lowest[tp] = offset
        if offset > self.furthest.get(tp, -1):
            self.furthest[tp] = offset

    def forget(self, partitions: Iterable[TP]) -> None:
        for tp in partitions:
            self.lowest.pop(tp, None)
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
        head = committed if committed is not None else read.lowest.get(tp)
        offset = next_commit(acked, head)
        if committed is None and offset is not None:
            log.info(
                "%s: first commit, %d, from the lowest offset read, %s",
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


def keep_offset_gaps_uncommitted(app: faust.App) -> None:
    """Never commit past an offset that was not processed.

    faust fills a jump in the offsets it delivers (meant for compacted topics and transaction
    markers) by treating the skipped offsets as acked. Across a rebalance it also sees such a
    jump when records fetched under the old assignment were dropped, and then commits past
    records no stage ever saw: the hand-over fault test lost runs of 13-14 raw records that way.
    Our topics are neither compacted nor transactional, so a jump is never a real gap: leave it
    uncommitted, and the records are read again.
    """

    async def no_gap(tp: object, offset_from: int, offset_to: int) -> None:
        return None

    app.consumer._add_gap = no_gap  # type: ignore[method-assign]


def reread_never_committed_partitions(app: faust.App) -> None:
    """After each seek to committed offsets, start every partition with nothing committed
    from the beginning of its log.

    faust drops records it fetched while a rebalance was under way and relies on the seek to
    committed offsets that follows to read them again; aiokafka does not seek a partition with
    no committed offset (or 0), so its position stayed past the dropped records. A raw
    partition that first got records while its worker was handing it over lost them: the
    hand-over test caught the first record of a partition never processed, its dead letter
    missing and, since that partition never caught up, no wall-clock breach raised after it.
    """
    consumer = app.consumer
    seek_to_committed = consumer.seek_to_committed

    async def seek_and_restart_uncommitted() -> Mapping[TP, int]:
        committed = await seek_to_committed()
        changelogs = {table.changelog_topic_name for table in app.tables.values()}
        fresh = never_committed(committed, changelogs)
        if fresh:
            try:
                await consumer._thread.seek_to_beginning(*fresh)  # type: ignore[attr-defined]
            except IllegalStateError as exc:  # moved away meanwhile: the next owner reads it
                log.warning("could not restart %s from the beginning: %s", fresh, exc)
        return committed

    consumer.seek_to_committed = seek_and_restart_uncommitted  # type: ignore[method-assign]


def recover_to_last_records(app: faust.App, bootstrap_servers: str) -> None:
    """Recover tables up to each changelog partition's last record, not the end the broker
    reports (pipeline/end_offsets.py says why)."""
    consumer = app.consumer
    reported_ends = consumer.highwaters

    async def highwaters(*partitions: TP) -> Mapping[TP, int | None]:
        return await last_record_ends(bootstrap_servers, await reported_ends(*partitions))

    consumer.highwaters = highwaters  # type: ignore[method-assign]
