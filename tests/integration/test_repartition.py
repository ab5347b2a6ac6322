"""Raw records not keyed by conversation still reach the worker that owns the conversation.

Production sources may key raw topics by their own natural key (a message id, a record id).
The worker then re-keys each event through the repartition topic; every event must still be
stored once and applied once, on the partition its conversation hashes to.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from agents.app import build_app
from agents.process import partition_for
from agents.runner import create_topics, prepare_clickhouse, run_app_until
from pipeline.demo_data import generate_week
from pipeline.embedded_broker import EmbeddedBroker
from pipeline.normalize import normalize_record
from pipeline.runtime import Runtime
from pipeline.settings import load_settings
from schemas.events import CanonicalEvent

pytestmark = pytest.mark.integration
PARTITIONS = 3


async def _run_unkeyed(runtime: Runtime, records: dict[str, list[bytes]]) -> int:
    settings = runtime.settings
    await create_topics(settings, runtime.all_topics())
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers)
    await producer.start()
    sent = 0
    try:  # keyed by position, as a source keyed by its own message id would be
        for source, raws in records.items():
            for raw in raws:
                key = f"{source}-{sent}".encode()
                await producer.send(settings.raw_topic(source), raw, key=key)
                sent += 1
        await producer.flush()
    finally:
        await producer.stop()
    backend = prepare_clickhouse(runtime)
    app = build_app(runtime, backend, sink_group=f"sink-{uuid.uuid4().hex[:8]}")
    progress = runtime.progress

    def done() -> bool:
        return (
            progress.raw_consumed >= sent
            and progress.rekeyed_in >= progress.rekeyed_out
            and progress.sink_records["events"] >= progress.events_produced > 0
        )

    try:
        await run_app_until(app, done, timeout_s=120)
        rows = backend.query_rows(
            "SELECT conversation_id, _partition AS p, count() AS n FROM events FINAL "
            "GROUP BY conversation_id, p"
        )
    finally:
        backend.close()
    assert all(
        row["p"] == partition_for(row["conversation_id"].encode(), PARTITIONS) for row in rows
    )
    return sum(int(row["n"]) for row in rows)


def test_unkeyed_raw_records_are_rekeyed_to_their_conversation(tmp_path: Path) -> None:
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    data = generate_week(5, start - timedelta(days=14), reps=2, customers=6)
    with EmbeddedBroker() as broker:
        settings = load_settings(
            db_dir=tmp_path / "db",
            table_dir=tmp_path / "tables",
            **broker.worker_settings(),
            topic_partitions=PARTITIONS,
        )
        runtime = Runtime.from_settings(settings)
        stored = asyncio.run(_run_unkeyed(runtime, data.records))
    expected = {
        item.event_id
        for source, raws in data.records.items()
        for raw in raws
        for item in normalize_record(source, raw, runtime.normalize_context)
        if isinstance(item, CanonicalEvent)
    }
    progress = runtime.progress
    assert stored == len(expected)
    assert progress.rekeyed_out > 0 and progress.rekeyed_in == progress.rekeyed_out
    assert progress.events_consumed == len(expected)  # every event applied once, by its owner
