"""A worker refuses input topics that are not co-partitioned with its conversation table."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from agents.app import build_app
from agents.runner import create_topics, prepare_clickhouse
from pipeline.embedded_broker import EmbeddedBroker
from pipeline.runtime import Runtime
from pipeline.settings import load_settings

pytestmark = pytest.mark.integration


async def _start_with_a_mismatched_topic(runtime: Runtime) -> str:
    settings = runtime.settings
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:  # one raw topic with more partitions than the setting says
        await admin.create_topics([NewTopic(settings.raw_topic("crm"), 3, 1)])
    finally:
        await admin.close()
    await create_topics(settings, runtime.all_topics())
    backend = prepare_clickhouse(runtime)
    app = build_app(runtime, backend, sink_group="sink-partition-check")
    await app.start()
    try:
        deadline = time.monotonic() + 60
        while not app.crashed and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        return repr(app.crash_reason) if app.crashed else ""
    finally:
        await app.stop()
        backend.close()


def test_input_topics_with_another_partition_count_stop_the_worker(tmp_path: Path) -> None:
    with EmbeddedBroker() as broker:
        settings = load_settings(
            db_dir=tmp_path / "db",
            table_dir=tmp_path / "tables",
            **broker.worker_settings(),
            topic_partitions=2,
        )
        reason = asyncio.run(_start_with_a_mismatched_topic(Runtime.from_settings(settings)))
    assert "SALESRADAR_TOPIC_PARTITIONS=2" in reason
    assert "'salesradar.raw.crm': 3" in reason
