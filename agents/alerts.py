"""alerts: breaches and reminders from the latency topic → WeCom / DingTalk / webhooks.

Every attempt's outcome goes to the alerts topic, from which the sink writes the `alerts` table.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import faust
import orjson

from agents.codec import encode_model
from pipeline.alerts import AlertConfig, AlertRecord, AlertService
from pipeline.alerts.clickhouse_store import ClickHouseAlertStateStore
from pipeline.alerts.contacts import contacts_from_directory
from pipeline.clickhouse import ClickHouseBackend
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
) -> AlertService:
    """Wire the alert service to the latency topic; returned so a finite run can flush it."""
    progress = runtime.progress

    async def publish(record: AlertRecord) -> None:
        progress.alerts_produced += 1
        await topics["alerts"].send(key=record.breach_id.encode(), value=encode_model(record))

    service = AlertService(
        config,
        clock=lambda: datetime.now(UTC),
        store=ClickHouseAlertStateStore(backend),
        on_record=publish,
        directory=contacts_from_directory(runtime.directory) if runtime.directory.reps else None,
    )

    @app.agent(topics["latency"], name="alerts")
    async def alerts(stream: faust.StreamT) -> None:
        async for value in stream:
            try:
                record = orjson.loads(value)
                model = ALERTABLE.get(record.get("type"))
                if model is not None:
                    await service.submit(model.model_validate(record["data"]))
            except Exception:  # faust acks a message whose agent raised: log it, keep going
                log.exception("alert stage could not read a latency record")

    @app.task
    async def deliver() -> None:
        await service.run(interval_s=1.0)

    return service
