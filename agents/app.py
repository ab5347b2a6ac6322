"""The faust app: topics and the stages wired to them, built from one Runtime."""

from __future__ import annotations

import faust

from agents import alerts, process
from agents.offsets import (
    commit_only_acked_heads,
    keep_offset_gaps_uncommitted,
    recover_to_last_records,
    reread_never_committed_partitions,
)
from agents.sink import ClickHouseSink
from pipeline.alerts import AlertConfig
from pipeline.clickhouse import ClickHouseBackend
from pipeline.embedded_broker import FAUST_FAST_JOIN
from pipeline.health import Check, HealthState
from pipeline.partitioner import RememberingPartitioner
from pipeline.runtime import Runtime

APP_ID = "salesradar"


def build_app(
    runtime: Runtime,
    backend: ClickHouseBackend,
    *,
    health: HealthState | None = None,
    sink_group: str = f"{APP_ID}-sink",
    alert_config: AlertConfig | None = None,
) -> faust.App:
    """One app per worker process; the sink shares its process but commits on its own.

    ``sink_group`` must be new for every new Kafka cluster (the embedded broker forgets its
    offsets), because the sink's dedup tokens are offsets within that group.
    """
    settings = runtime.settings
    settings.table_dir.mkdir(parents=True, exist_ok=True)
    group_timeouts = FAUST_FAST_JOIN if settings.fast_group_join else {}
    app = faust.App(
        APP_ID,
        broker=settings.broker_url,
        store="memory://",
        topic_partitions=settings.topic_partitions,
        topic_allow_declare=True,
        web_enabled=False,
        datadir=str(settings.table_dir),
        producer_linger_ms=5,
        # the default partitioner's choices, without hashing the same key again per record
        producer_partitioner=RememberingPartitioner(),
        # The memory store rebuilds every table from its changelog on each assignment, so
        # faust's check of local against broker offsets (meant for rocksdb) only misfires:
        # after a kill -9 it stopped recovery on an offset one past the broker's highwater.
        recovery_consistency_check=False,
        # No standby replicas: a partition taken over is read from the start of its changelog.
        # With the memory store a standby holds another worker's tables in this worker's RAM,
        # and standbys were off while the fault tests were made exact (the stale takeovers seen
        # before came from the embedded broker's end offsets, see recover_to_last_records).
        table_standby_replicas=0,
        **group_timeouts,
    )
    keep_offset_gaps_uncommitted(app)
    read_offsets = commit_only_acked_heads(app)
    reread_never_committed_partitions(app)
    if settings.broker_end_probe:
        recover_to_last_records(app, settings.bootstrap_servers)
    topics = {
        role: app.topic(
            name,
            value_serializer="raw",
            key_serializer="raw",
            partitions=settings.topic_partitions,
        )
        for name, role in runtime.topic_roles().items()
    }
    process.register(app, runtime, read_offsets)
    if alert_config is not None:
        runtime.alert_service = alerts.register(
            app, runtime, topics, backend, alert_config, read_offsets
        )
    sink = ClickHouseSink(runtime, backend, group_id=sink_group, health=health)

    @app.task
    async def clickhouse_sink() -> None:
        await sink.run()

    if health is not None:

        @app.on_rebalance_complete.connect
        async def on_rebalanced(sender: faust.App, **kwargs: object) -> None:
            health.set_check(Check.PARTITIONS_ASSIGNED, True, "group joined")

    return app
