"""sink: pipeline topics → ClickHouse, committing each partition's offsets after the insert.

A dedicated aiokafka consumer rather than a faust agent: the commit must be the last step after
ClickHouse acknowledged the insert (faust's take() acks a batch even when its body failed), and
batches must be formed per partition with deterministic offset ranges (pipeline.sink.batching).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from pipeline import metrics
from pipeline.clickhouse import ClickHouseBackend, ClickHouseError, ClickHouseUnavailable
from pipeline.clickhouse.sql_text import literal
from pipeline.dead_letter_codes import SINK_DECODE, SINK_REFUSED, SINK_SOURCE
from pipeline.health import Check, HealthState
from pipeline.logging_json import at
from pipeline.normalize import RAW_PREFIX_BYTES
from pipeline.runtime import Runtime
from pipeline.sink.batching import Batch, PartitionBatcher
from pipeline.sink.dedup import NaturalKey, fresh_rows
from pipeline.sink.rows import kafka_position, rows_for

log = logging.getLogger(__name__)

BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 30.0
#: A batch ClickHouse refuses (not merely unreachable) this many times goes to dead_letters.
MAX_REFUSALS = 5
#: Ids per natural-key lookup query.
LOOKUP_CHUNK = 1000


class ClickHouseSink:
    """Consumes the pipeline's output topics and writes them in deterministic batches."""

    def __init__(
        self,
        runtime: Runtime,
        backend: ClickHouseBackend,
        *,
        group_id: str,
        health: HealthState | None = None,
    ) -> None:
        self._runtime = runtime
        self._backend = backend
        self._group_id = group_id
        self._health = health
        self._roles = runtime.topic_roles()
        self._batchers: dict[TopicPartition, PartitionBatcher] = {}
        #: Batches closed but not yet written, oldest first, per partition.
        self._closed: dict[TopicPartition, list[Batch]] = {}
        #: The fetch loop and the rebalance callback both write: one at a time, in order.
        self._writing = asyncio.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clickhouse")
        self._consumer: AIOKafkaConsumer | None = None
        self.paused_seconds = 0.0

    async def run(self) -> None:
        settings = self._runtime.settings
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers,
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **_group_timeouts(settings.fast_group_join),
        )
        self._consumer = consumer
        await consumer.start()
        consumer.subscribe(list(self._roles), listener=_Rebalance(self))
        try:
            while True:
                fetched = await consumer.getmany(timeout_ms=200, max_records=20000)
                for tp, messages in fetched.items():
                    closed = await self._accept(tp, messages)
                    self._closed.setdefault(tp, []).extend(closed)
                for tp, batcher in self._batchers.items():
                    if (batch := batcher.close_if_old()) is not None:
                        self._closed.setdefault(tp, []).append(batch)
                self._drop_unassigned(consumer.assignment())
                await self._write_closed(list(self._closed))
        finally:
            await consumer.stop()
            self._executor.shutdown(wait=True)

    async def _accept(self, tp: TopicPartition, messages: list[Any]) -> list[Batch]:
        batcher = self._batchers.get(tp)
        if batcher is None:
            batcher = self._batchers[tp] = await self._plan(tp, messages[0].offset)
        role = self._roles[tp.topic]
        closed = []
        for message in messages:
            position = kafka_position(tp.topic, tp.partition, message.offset)
            try:
                rows = rows_for(
                    role,
                    message.value,
                    self._runtime.settings.zone,
                    position,
                    store_text=self._runtime.settings.store_text,
                )
            except Exception as exc:  # a record we cannot map is kept as a dead letter
                rows = {"dead_letters": [_undecodable(tp, message, exc)]}
            batch = batcher.add(message.offset, rows, len(message.value or b""))
            if batch is not None:
                closed.append(batch)
        return closed

    def _new_batcher(
        self, tp: TopicPartition, recorded: Iterable[tuple[int, int]]
    ) -> PartitionBatcher:
        settings = self._runtime.settings
        return PartitionBatcher(
            tp.topic,
            tp.partition,
            namespace=self._group_id,
            max_records=settings.sink_batch_rows,
            max_bytes=settings.sink_batch_bytes,
            max_age_s=settings.sink_flush_seconds,
            recorded_ranges=recorded,
        )

    async def _plan(self, tp: TopicPartition, resume_offset: int) -> PartitionBatcher:
        """First records of a partition here: re-form the batches recorded but not committed.

        Planning happens on the first fetched records (not in the rebalance callback, which
        can run while a fetch is already delivering), from the offset consumption resumed at.
        """
        rows = await self._call(
            self._backend.query_rows,
            "SELECT first_offset, last_offset FROM sink_batches FINAL "
            "WHERE consumer_group = {g:String} AND topic = {t:String} "
            "AND partition = {p:Int32} AND last_offset >= {c:Int64} ORDER BY first_offset",
            {"g": self._group_id, "t": tp.topic, "p": tp.partition, "c": resume_offset},
        )
        ranges = [(int(r["first_offset"]), int(r["last_offset"])) for r in rows]
        log.info(
            "sink resumes %s[%s] at %s, re-forming recorded batches %s",
            tp.topic,
            tp.partition,
            resume_offset,
            ranges,
            extra=at(tp.topic, tp.partition, resume_offset),
        )
        return self._new_batcher(tp, ranges)

    def _drop_unassigned(self, assigned: set[TopicPartition]) -> None:
        """Forget partitions a rebalance moved away while their records were being batched:
        nothing of them was committed here, so their new owner reads them again."""
        for tp in [tp for tp in (*self._batchers, *self._closed) if tp not in assigned]:
            self._batchers.pop(tp, None)
            self._closed.pop(tp, None)

    async def flush_revoked(self, partitions: Iterable[TopicPartition]) -> None:
        """Before giving partitions away: write and commit what is closed or open, in order."""
        partitions = list(partitions)
        for tp in partitions:
            batcher = self._batchers.pop(tp, None)
            if batcher is not None and (batch := batcher.close_now()) is not None:
                self._closed.setdefault(tp, []).append(batch)
        await self._write_closed(partitions)

    async def _write_closed(self, partitions: Iterable[TopicPartition]) -> None:
        """Write and commit each partition's closed batches oldest first: a commit must never
        pass a batch still waiting to be written (a crash would then lose it)."""
        async with self._writing:
            for tp in partitions:
                queue = self._closed.get(tp, [])
                while queue:
                    await self._write_and_commit(queue[0])
                    queue.pop(0)
                self._closed.pop(tp, None)

    async def _write_and_commit(self, batch: Batch) -> None:
        assert self._consumer is not None
        await self._insert_with_retry(batch)
        tp = TopicPartition(batch.topic, batch.partition)
        try:
            await self._consumer.commit({tp: batch.last_offset + 1})
        except (CommitFailedError, IllegalStateError) as exc:
            # The group moved on while ClickHouse took the batch: the partition's next owner
            # reads it again and re-forms it from its recorded intent, under the same token.
            log.warning(
                "batch %s written, offset not committed: %s",
                batch.dedup_token,
                exc,
                extra=at(batch.topic, batch.partition, batch.first_offset),
            )
            return
        self._runtime.progress.sink_records[self._roles[batch.topic]] += batch.records

    async def _insert_with_retry(self, batch: Batch) -> None:
        """Retry until ClickHouse takes it; pause fetching meanwhile (backpressure)."""
        assert self._consumer is not None
        delay, refusals, paused_at = BACKOFF_START_S, 0, None
        while True:
            try:
                await self._call(self._insert, batch)
                self._report_clickhouse(True, "ok")
                break
            except ClickHouseUnavailable as exc:
                self._report_clickhouse(False, str(exc)[:200])
                log.warning(
                    "ClickHouse unavailable, retrying batch %s in %.1fs: %s",
                    batch.dedup_token,
                    delay,
                    exc,
                    extra=at(batch.topic, batch.partition, batch.first_offset),
                )
            except ClickHouseError as exc:
                refusals += 1
                log.error(
                    "ClickHouse refused batch %s (%d/%d): %s",
                    batch.dedup_token,
                    refusals,
                    MAX_REFUSALS,
                    exc,
                    extra=at(batch.topic, batch.partition, batch.first_offset),
                )
                if refusals >= MAX_REFUSALS:
                    batch.rows = {"dead_letters": [_refused(batch, exc)]}
                    refusals = 0
            batch.attempted_before = True
            if paused_at is None:
                paused_at = time.monotonic()
                self._consumer.pause(*self._consumer.assignment())
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)
        if paused_at is not None:
            waited = time.monotonic() - paused_at
            self.paused_seconds += waited
            metrics.BACKPRESSURE_SECONDS.inc(waited)
            self._consumer.resume(*self._consumer.assignment())

    def _insert(self, batch: Batch) -> None:
        """Record the intent, then insert every table with the batch's token (blocking)."""
        self._backend.insert_rows(
            "sink_batches",
            [
                {
                    "consumer_group": self._group_id,
                    "topic": batch.topic,
                    "partition": batch.partition,
                    "first_offset": batch.first_offset,
                    "last_offset": batch.last_offset,
                }
            ],
            dedup_token=f"intent-{batch.dedup_token}",
        )
        stored_before = functools.partial(self._stored_keys, batch)
        for table, batch_rows in batch.rows.items():
            rows = fresh_rows(table, batch_rows, stored_before)
            if not rows:
                continue
            started = time.perf_counter()
            try:
                self._backend.insert_rows(table, rows, dedup_token=batch.dedup_token)
            except ClickHouseError:
                metrics.SINK_INSERT_FAILURES.labels(table=table).inc()
                raise
            metrics.SINK_INSERT_SECONDS.labels(table=table).observe(time.perf_counter() - started)
            metrics.SINK_BATCH_ROWS.labels(table=table).observe(len(rows))
            metrics.SINK_ROWS.labels(table=table).inc(len(rows))

    def _stored_keys(
        self, batch: Batch, table: str, key: NaturalKey, lookups: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        """Natural keys of ``table`` among ``lookups`` already stored (blocking).

        When this batch may have been inserted before (``attempted_before``), rows at its own
        positions are not counted: ClickHouse can keep a table's part of an insert and lose its
        materialized views' part (a server killed in between), and only the retry under the
        batch's token completes the views. A first attempt counts every stored row: positions
        repeat across clusters (a replay into a new broker starts at offset 0 again).
        """
        columns = ", ".join(f"`{column}`" for column in key.columns)
        this_batch = "0"
        if batch.attempted_before:
            this_batch = (
                f"_topic = {literal(batch.topic)} AND _partition = {batch.partition} "
                f"AND _offset BETWEEN {batch.first_offset} AND {batch.last_offset}"
            )
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(lookups), LOOKUP_CHUNK):
            values = ", ".join(literal(v) for v in lookups[start : start + LOOKUP_CHUNK])
            rows = self._backend.query_rows(
                f"SELECT DISTINCT {columns} FROM {table} "
                f"WHERE `{key.lookup}` IN ({values}) AND NOT ({this_batch})"
            )
            found.extend(key.of(row) for row in rows)
        return found

    def _report_clickhouse(self, ok: bool, detail: str) -> None:
        if self._health is not None:
            self._health.set_check(Check.CLICKHOUSE_REACHABLE, ok, detail)

    async def _call(self, func: Any, *args: Any) -> Any:
        """chDB blocks its thread: keep the event loop (and group heartbeats) free."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, sink: ClickHouseSink) -> None:
        self._sink = sink

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self._sink.flush_revoked(revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        """Nothing to do: a partition is planned when its first records arrive."""


def _group_timeouts(fast: bool) -> dict[str, int]:
    """Short group timeouts make the first join take ~3 s instead of ~30 s (tests, demo)."""
    if not fast:
        return {}
    return {"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000, "rebalance_timeout_ms": 6000}


def _undecodable(tp: TopicPartition, message: Any, exc: Exception) -> dict[str, Any]:
    raw = message.value or b""
    return {
        "source": SINK_SOURCE,
        "reason": SINK_DECODE,
        "message": f"{type(exc).__name__}: {exc}",
        "raw": raw[:RAW_PREFIX_BYTES],
        "raw_truncated": int(len(raw) > RAW_PREFIX_BYTES),
        "topic": tp.topic,
        "partition": tp.partition,
        "offset": message.offset,
        "received_at": datetime.now(UTC),
        **kafka_position(tp.topic, tp.partition, message.offset),
    }


def _refused(batch: Batch, exc: Exception) -> dict[str, Any]:
    sample = orjson.dumps({t: rows[:3] for t, rows in batch.rows.items()}, default=str)
    return {
        "source": SINK_SOURCE,
        "reason": SINK_REFUSED,
        "message": str(exc)[:2000],
        "raw": sample[:RAW_PREFIX_BYTES],
        "raw_truncated": 1,
        "topic": batch.topic,
        "partition": batch.partition,
        "offset": batch.first_offset,
        "received_at": datetime.now(UTC),
        **kafka_position(batch.topic, batch.partition, batch.first_offset),
    }
