"""`salesradar bench`: the pipeline's speed on the embedded broker and chDB, in one run.

Three phases share one broker and one input (a generated week, the demo's realistic mix):
1. the bare ceiling: a faust agent that only consumes the raw topics;
2. the pipeline (the same app a worker runs, in this process) over the same backlog, timed
   from its first raw record to the last row committed in ClickHouse;
3. a second week produced at a fixed rate by another process while the pipeline is caught up:
   produce time against `ingested_at` of sampled event rows gives produce -> row latency;
4. the same with a third week at half the rate phase 2 measured: a fixed rate above what the
   pipeline sustains measures a growing backlog, this one the path's own latency.
faust is imported inside the functions, as in the worker command: pipeline/ logic stays free of it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from prometheus_client import REGISTRY

from pipeline.bench_stats import BenchResult, load_average, quantile, rss_mb
from pipeline.clickhouse import ClickHouseBackend
from pipeline.demo_data import generate_week
from pipeline.embedded_broker import scratch_faust_app
from pipeline.normalize import normalize_record
from pipeline.normalize.keys import keyed_in_event_order
from pipeline.runtime import Progress, Runtime
from pipeline.settings import Settings
from schemas.events import CanonicalEvent

if TYPE_CHECKING:
    import faust

#: Every how many paced records one is followed to its ClickHouse row.
SAMPLE_EVERY = 10
POLL_S = 0.02


@dataclass
class BenchOptions:
    reps: int = 12
    customers: int = 200
    rate: float = 5000.0
    paced_seconds: float = 10.0
    #: Rate of the last phase, as a fraction of the measured end-to-end rate.
    sustained_fraction: float = 0.5
    seed: int = 7
    timeout_s: float = 600.0


@dataclass
class RawRecord:
    source: str
    topic: str
    key: bytes
    value: bytes


def _week(options: BenchOptions, seed: int, weeks_ago: int) -> dict[str, list[bytes]]:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=today.weekday() + 7 * weeks_ago)
    return generate_week(seed, start, reps=options.reps, customers=options.customers).records


def _keyed(runtime: Runtime, records: dict[str, list[bytes]]) -> list[RawRecord]:
    """Records keyed and ordered as `salesradar run` produces a finite input."""
    out = []
    for source, raws in records.items():
        topic = runtime.settings.raw_topic(source)
        for key, raw in keyed_in_event_order(source, raws, runtime.normalize_context):
            out.append(RawRecord(source, topic, key, raw))
    return out


def _first_event_id(runtime: Runtime, record: RawRecord) -> str:
    """The id of the first event a raw record becomes; "" when it is rejected."""
    for item in normalize_record(record.source, record.value, runtime.normalize_context):
        if isinstance(item, CanonicalEvent):
            return item.event_id
    return ""


async def _produce_all(settings: Settings, records: list[RawRecord]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, linger_ms=10)
    await producer.start()
    try:
        for record in records:
            await producer.send(record.topic, record.value, key=record.key)
        await producer.flush()
    finally:
        await producer.stop()


def _paced_producer(
    bootstrap: str, records: list[tuple[str, bytes, bytes]], rate: float, out: str
) -> None:
    """Child process: send at ``rate`` records/s; write each record's send time (epoch s)."""

    async def produce() -> list[float]:
        from aiokafka import AIOKafkaProducer

        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
        await producer.start()
        sent_at = []
        started = time.monotonic()
        try:
            for number, (topic, key, value) in enumerate(records):
                due = started + number / rate
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                sent_at.append(time.time())
                await producer.send(topic, value, key=key)
            await producer.flush()
        finally:
            await producer.stop()
        return sent_at

    Path(out).write_bytes(orjson.dumps(asyncio.run(produce())))


def _streamed(progress: Progress, raw_total: int) -> bool:
    """Every raw record through the faust pass (its outputs delivered to the broker)."""
    return progress.raw_consumed >= raw_total and progress.rekeyed_in >= progress.rekeyed_out


def _drained(progress: Progress, raw_total: int) -> bool:
    """Every raw record consumed, every event timed, every output committed to ClickHouse."""
    sunk = progress.sink_records
    return (
        progress.raw_consumed >= raw_total
        and progress.rekeyed_in >= progress.rekeyed_out
        and all(sunk[role] >= n for role, n in progress.produced_for_sink.items())
    )


async def _until(condition: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Poll ``condition``; returns the perf_counter instant it first held."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"bench: timed out waiting for {what}")
        await asyncio.sleep(POLL_S)
    return time.perf_counter()


async def measure_ceiling(
    settings: Settings, topics: list[str], total: int, datadir: Path, timeout_s: float
) -> tuple[float, float]:
    """Records/s of a faust agent that only consumes, the framework's own ceiling here, and
    the CPU microseconds per record of the event-loop thread it runs on."""
    datadir.mkdir(parents=True, exist_ok=True)
    app = scratch_faust_app("salesradar-bench-ceiling", settings.broker_url, datadir)
    source = app.topic(*topics, value_serializer="raw", key_serializer="raw")
    seen: list[float] = []
    cpu: list[float] = []

    @app.agent(source, name="count")
    async def count(stream: faust.StreamT) -> None:
        async for _ in stream:
            seen.append(time.perf_counter())
            if len(seen) in (1, total):
                cpu.append(time.thread_time())

    await app.start()
    try:
        await _until(lambda: len(seen) >= total, timeout_s, f"the bare agent to read {total}")
    finally:
        await app.stop()
    return (total - 1) / (seen[total - 1] - seen[0]), (cpu[1] - cpu[0]) / (total - 1) * 1e6


async def run_bench(
    settings: Settings, options: BenchOptions, report: Callable[[str], None]
) -> BenchResult:
    """All three phases on the broker in ``settings``; ClickHouse is embedded chDB (db_dir)."""
    from agents.app import build_app
    from agents.runner import create_topics, prepare_clickhouse

    runtime = Runtime.from_settings(settings)
    await create_topics(settings, runtime.all_topics())
    backlog = _keyed(runtime, _week(options, options.seed, weeks_ago=2))
    await _produce_all(settings, backlog)
    report(f"bench: {len(backlog):,} raw records produced; measuring the bare faust agent")
    ceiling, ceiling_cpu_us = await measure_ceiling(
        settings,
        list(runtime.raw_topics()),
        len(backlog),
        settings.table_dir / "ceiling",
        options.timeout_s,
    )
    report(f"bench: bare agent {ceiling:,.0f} records/s; running the pipeline on the backlog")
    backend = prepare_clickhouse(runtime)
    app = build_app(runtime, backend, sink_group=f"salesradar-sink-{uuid.uuid4().hex[:12]}")
    progress = runtime.progress
    await app.start()
    try:
        started = await _until(lambda: progress.raw_consumed > 0, options.timeout_s, "start")
        cpu_started = time.thread_time()
        streamed = await _until(
            lambda: _streamed(progress, len(backlog)), options.timeout_s, "the faust pass"
        )
        stream_cpu_us = (time.thread_time() - cpu_started) / len(backlog) * 1e6
        finished = await _until(
            lambda: _drained(progress, len(backlog)), options.timeout_s, "the backlog"
        )
        stream_rate = len(backlog) / (streamed - started)
        pipeline_rate = len(backlog) / (finished - started)
        report(
            f"bench: pipeline {pipeline_rate:,.0f} records/s; producing at {options.rate:,.0f}/s"
        )
        produced = len(backlog)

        async def paced_latencies(seed: int, weeks_ago: int, rate: float, what: str) -> list[float]:
            """Produce a week's first ``paced_seconds`` at ``rate``; produce -> row latencies."""
            nonlocal produced
            records = _keyed(runtime, _week(options, seed, weeks_ago))
            records = records[: int(rate * options.paced_seconds)]
            sent_at = await _paced(settings, records, rate)
            produced += len(records)
            await _until(lambda: _drained(progress, produced), options.timeout_s, what)
            return await asyncio.get_running_loop().run_in_executor(
                None, _row_latencies, runtime, backend, records, sent_at
            )

        latencies = await paced_latencies(options.seed + 1, 1, options.rate, "paced")
        paced_records = produced - len(backlog)
        sustained_rate = max(1.0, pipeline_rate * options.sustained_fraction)
        report(f"bench: producing at {sustained_rate:,.0f}/s, a rate the pipeline sustains")
        sustained_latencies = await paced_latencies(
            options.seed + 2, 3, sustained_rate, "sustained"
        )
        open_waits = int(REGISTRY.get_sample_value("salesradar_open_waits") or 0)
        memory = rss_mb()
    finally:
        await app.stop()
        backend.close()
    return BenchResult(
        records=len(backlog),
        ceiling_per_s=ceiling,
        stream_per_s=stream_rate,
        pipeline_per_s=pipeline_rate,
        paced_rate=options.rate,
        paced_records=paced_records,
        latency_samples=len(latencies),
        p50_s=quantile(latencies, 0.5),
        p99_s=quantile(latencies, 0.99),
        rss_mb=memory,
        open_waits=open_waits,
        cores=os.cpu_count() or 1,
        load=load_average(),
        ceiling_cpu_us=ceiling_cpu_us,
        stream_cpu_us=stream_cpu_us,
        sustained_rate=sustained_rate,
        sustained_samples=len(sustained_latencies),
        sustained_p50_s=quantile(sustained_latencies, 0.5),
        sustained_p99_s=quantile(sustained_latencies, 0.99),
    )


async def _paced(settings: Settings, records: list[RawRecord], rate: float) -> list[float]:
    """Run the paced producer in its own process, so it takes no time from this worker's loop."""
    out = Path(tempfile.mkstemp(prefix="salesradar-bench-", suffix=".json")[1])
    context = multiprocessing.get_context("spawn")
    child = context.Process(
        target=_paced_producer,
        args=(
            settings.bootstrap_servers,
            [(r.topic, r.key, r.value) for r in records],
            rate,
            str(out),
        ),
    )
    child.start()
    while child.is_alive():
        await asyncio.sleep(0.1)
    if child.exitcode != 0:
        raise RuntimeError(f"bench: the paced producer exited with code {child.exitcode}")
    try:
        return list(orjson.loads(out.read_bytes()))
    finally:
        out.unlink(missing_ok=True)


def _row_latencies(
    runtime: Runtime, backend: ClickHouseBackend, records: list[RawRecord], sent_at: list[float]
) -> list[float]:
    """ingested_at of sampled event rows minus the send time of the record they came from."""
    sampled = {
        event_id: sent_at[n]
        for n in range(0, len(records), SAMPLE_EVERY)
        if (event_id := _first_event_id(runtime, records[n]))
    }
    rows = backend.query_rows(
        "SELECT event_id, toFloat64(min(ingested_at)) AS at FROM events "
        "WHERE event_id IN {ids:Array(String)} GROUP BY event_id",
        {"ids": list(sampled)},
    )
    if len(rows) != len(sampled):
        print(f"bench: {len(sampled) - len(rows)} sampled events have no row", file=sys.stderr)
    return [float(row["at"]) - sampled[row["event_id"]] for row in rows]
