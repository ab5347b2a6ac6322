"""The faust app: topics and the stages wired to them, built from one Runtime."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import faust
from aiokafka.errors import IllegalStateError
from faust.types import TP

from agents import alerts, process
from agents.offsets import commit_only_acked_heads
from agents.sink import ClickHouseSink
from pipeline.alerts import AlertConfig
from pipeline.clickhouse import ClickHouseBackend
from pipeline.end_offsets import last_record_ends
from pipeline.health import Check, HealthState
from pipeline.offsets import never_committed
from pipeline.partitioner import RememberingPartitioner
from pipeline.runtime import Runtime

APP_ID = "salesradar"

log = logging.getLogger(__name__)


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
    group_timeouts: dict[str, object] = {}
    if settings.fast_group_join:
        group_timeouts = {
            "broker_session_timeout": 6,
            "broker_rebalance_timeout": 6,
            "broker_heartbeat_interval": 1,
        }
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
