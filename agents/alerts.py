"""alerts: breaches and reminders from the latency topic → WeCom / DingTalk / webhooks.

Every attempt's outcome goes to the alerts topic, from which the sink writes the `alerts` table.

A latency record stays unacked until everything it caused has ended (AlertService.submit's
`on_done`), and faust's offset gap filling is off (agents/offsets.py): a crash or kill -9 re-reads
it, and the alert ids already final in ClickHouse are not sent again. Such a record may be
held for hours (an escalation interval, quiet hours): it is kept out of faust's "wait until
every stream is empty" on rebalance and stop, else a rebalance would wait that long; its
partition's offset simply stays uncommitted, and whoever owns the partition next reads it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import faust
import orjson
from faust.types import TP

from agents.codec import encode_model
from agents.offsets import ReadOffsets
from pipeline.alerts import AlertConfig, AlertRecord, AlertService
from pipeline.alerts.clickhouse_store import ClickHouseAlertStateStore
from pipeline.alerts.contacts import contacts_from_directory
from pipeline.clickhouse import ClickHouseBackend
from pipeline.logging_json import at
from pipeline.offsets import known_end, read_to_end
from pipeline.runtime import Runtime
from schemas.latency import Breach, WaitReminder

log = logging.getLogger(__name__)

ALERTABLE = {"breach": Breach, "reminder": WaitReminder}


def register(
    app: faust.App,
    runtime: Runtime,
    topics: dict[str, faust.TopicT],
    backend: ClickHouseBackend,
    config: AlertConfig,
    read_offsets: ReadOffsets,
) -> AlertService:
    """Wire the alert service to the latency topic; returned so a finite run can flush it."""
    progress = runtime.progress
    latency_topic = topics["latency"].get_topic_name()
    last_read: dict[TP, int] = {}
    #: bumped when a partition is revoked: a hold taken before must not ack into the new owner's
    generation: dict[TP, int] = {}

    def no_backlog() -> bool:
        consumer = app.consumer
        return all(
            read_to_end(
                last_read.get(tp, -1) + 1,
                consumer._committed_offset.get(tp),
                known_end(consumer.highwater(tp), read_offsets.furthest.get(tp)),
            )
            for tp in app.assignor.assigned_actives()
            if tp.topic == latency_topic
        )

    async def publish(record: AlertRecord) -> None:
        progress.alerts_produced += 1
        await topics["alerts"].send(key=record.breach_id.encode(), value=encode_model(record))

    service = AlertService(
        config,
        clock=lambda: datetime.now(UTC),
        store=ClickHouseAlertStateStore(backend),
        on_record=publish,
        directory=contacts_from_directory(runtime.directory) if runtime.directory.reps else None,
        caught_up=no_backlog,
    )

    def hold(event: faust.types.EventT) -> Callable[[], None]:
        """Keep the record's offset uncommitted until `release` runs."""
        message = event.message
        taken = generation.get(message.tp, 0)
        message.incref()
        app.consumer._unacked_messages.discard(message)  # not waited for on rebalance/stop

        def release() -> None:
            if generation.get(message.tp, 0) == taken:
                event.ack()

        return release

    @app.on_partitions_revoked.connect
    async def forget_revoked(sender: faust.App, revoked: set[TP], **kwargs: object) -> None:
        for tp in revoked:
            generation[tp] = generation.get(tp, 0) + 1
            last_read.pop(tp, None)
        dropped = service.abandon(revoked)
        if dropped:
            log.info("left %d queued alerts and escalations to the new owners", dropped)

    @app.agent(topics["latency"], name="alerts")
    async def alerts(stream: faust.StreamT) -> None:
        async for value in stream:
            event = stream.current_event
            if event is not None:
                last_read[event.message.tp] = event.message.offset
            try:
                record = orjson.loads(value)
                model = ALERTABLE.get(record.get("type"))
                if model is not None:
                    item = model.model_validate(record["data"])
                    if event is None:
                        await service.submit(item)
                    else:
                        await service.submit(item, hold(event), origin=event.message.tp)
            except Exception:  # faust acks a message whose agent raised: log it, keep going
                # (the sink keeps an unreadable record as a dead letter: nothing is lost)
                where = {}
                if event is not None:
                    message = event.message
                    where = at(message.topic, message.partition, message.offset)
                log.exception("alert stage could not read a latency record", extra=where)

    @app.task
    async def deliver() -> None:
        await service.run(interval_s=1.0)

    return service
