"""process: raw records → tagged canonical events → conversation state, in one faust pass.

Every topic hop costs a whole faust pass (ARCHITECTURE.md, "What bounds speed"), so the
stages a record goes through share one agent: normalize and tag (stateless), then the
latency engine on the conversation table, which is co-partitioned with the raw topics. A raw
record keyed by its conversation (as `salesradar run`, replay and connectors that know the
conversation produce them) is finished where it is read. An event whose conversation lives on
another partition (a source keyed by something else) goes through the repartition topic,
which this same agent reads, to the worker that owns its conversation.

Each batch (``take_events``) is handled in three steps, and faust acks its offsets only after
the third: (1) run every record through the stages, collecting what goes out; (2) send it all
(events, latency outputs, dead letters, re-keyed events) and wait for the broker; (3) write
the changed conversation states to the table, one write per conversation per batch. A crash
before (3) re-delivers the batch onto the old state, which reproduces the same outputs (the
sink drops what it already stored); a crash after (3) re-delivers events the state already
holds, which the processor skips by their recorded input position.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import faust
from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError
from faust.types import TP, EventT

from agents.codec import encode_model, encode_rejection, encode_tagged
from agents.delivery import send_all
from agents.offsets import ReadOffsets
from pipeline import metrics
from pipeline.dead_letter_codes import REPARTITION_SOURCE, STATE_SOURCE, STATE_UNREADABLE
from pipeline.latency.engine import Output
from pipeline.latency.processor import LatencyProcessor, Position
from pipeline.logging_json import at
from pipeline.normalize import RAW_PREFIX_BYTES, normalize_record
from pipeline.normalize.recent import RecentIds
from pipeline.offsets import known_end
from pipeline.partitioner import partition_for
from pipeline.runtime import Runtime
from pipeline.sequencing import PartitionSequencer, Verdict
from schemas.events import CanonicalEvent, Rejection
from schemas.latency import Breach, LatencySample, WaitReminder

log = logging.getLogger(__name__)

#: Recently seen event ids per worker: a webhook retried within minutes is one event.
DEDUP_WINDOW = 200_000
#: Header of a re-keyed event naming the raw topic-partition it was read from (its clock input).
INPUT_HEADER = "salesradar-input"
OUTPUT_TYPES = {LatencySample: "sample", Breach: "breach", WaitReminder: "reminder"}
SEND_RETRY_START_S = 0.5
SEND_RETRY_MAX_S = 30.0
#: Seconds to wait for the broker's metadata of every input topic before checking its partitions.
PARTITION_CHECK_TRIES = 60


@dataclass
class Outbox:
    """What one batch sends; nothing leaves before the whole batch has been computed."""

    messages: list[tuple[str, bytes, bytes, list[tuple[str, bytes]] | None]] = field(
        default_factory=list
    )

    def add(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]] | None = None
    ) -> None:
        self.messages.append((topic, key, value, headers))


class ChangelogReceipts:
    """Waits until the table's writes are on the broker.

    faust queues a table write in its producer buffer, and its ``flush`` returns once the
    buffer sent nothing for 0.1 s, even when writes are still queued. On a busy worker the
    input offsets could then be committed before the states behind them reached the
    changelog, and a kill -9 lost the waits those states held. Each changelog send has its
    own future: wait for those.
    """

    def __init__(self, table: Any) -> None:
        self._pending: list[asyncio.Future[Any]] = []
        send = table.send_changelog

        def send_and_keep(*args: Any, **kwargs: Any) -> Any:
            future = send(*args, **kwargs)
            self._pending.append(future)
            return future

        table.send_changelog = send_and_keep

    async def wait(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending)


class Utf8Keys(MutableMapping[str, Any]):
    """The conversation table seen with str keys; faust keeps them as bytes (see register)."""

    def __init__(self, table: MutableMapping[bytes, Any]) -> None:
        self._table = table

    def __getitem__(self, key: str) -> Any:
        return self._table[key.encode()]

    def get(self, key: str, default: Any = None) -> Any:
        return self._table.get(key.encode(), default)

    def __setitem__(self, key: str, value: Any) -> None:
        self._table[key.encode()] = value

    def __delitem__(self, key: str) -> None:
        del self._table[key.encode()]

    def __iter__(self) -> Iterator[str]:
        return (key.decode() for key in self._table)

    def __len__(self) -> int:
        return len(self._table)


def header(message: faust.types.Message, name: str) -> str:
    headers = message.headers or ()
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in pairs:
        if key == name:
            return value.decode()
    return ""


def read_at(message: faust.types.Message) -> dict[str, Any]:
    """Where a record was read, as logs and dead letters name it."""
    return {"topic": message.topic, "partition": message.partition, "offset": message.offset}


def failed(source: str, message: faust.types.Message, exc: Exception) -> Rejection:
    """A record a stage failed on unexpectedly, kept for a look and a replay: whole, or its
    first 64 KiB flagged as truncated (replay then keeps it back)."""
    raw = message.value or b""
    return Rejection(
        source=source,
        reason="internal_error",
        message=f"{type(exc).__name__}: {exc}",
        raw=raw[:RAW_PREFIX_BYTES],
        raw_truncated=len(raw) > RAW_PREFIX_BYTES,
        **read_at(message),
    )


def register(app: faust.App, runtime: Runtime, read_offsets: ReadOffsets) -> LatencyProcessor:
    """Wire the stages to the raw and repartition topics; returns the processor (for metrics)."""
    settings = runtime.settings
    progress = runtime.progress
    raw_topics = runtime.raw_topics()
    repartition_topic = settings.repartition_topic
    source_topics = {*raw_topics, repartition_topic}
    stream_source = app.topic(
        *raw_topics,
        repartition_topic,
        value_serializer="raw",
        key_serializer="raw",
        partitions=settings.topic_partitions,
    )
    # use_partitioner: a key's changelog partition is the one the producer's partitioner gives
    # its conversation id, which is the partition its events are processed on (see above); so
    # the table may be written after a batch and by the deadline timer, outside an event.
    table = app.Table(
        "conversations",
        default=None,
        partitions=settings.topic_partitions,
        # bytes keys travel raw: the changelog key is the raw records' key (the conversation id),
        # not its JSON, so both hash to the same partition.
        key_type=bytes,
        use_partitioner=True,
        # Values are the processor's own JSON bytes (pipeline/latency/decoded.py), kept raw so
        # faust neither decodes them into dicts (three times the memory) nor encodes them again.
        # A changelog an earlier version wrote as faust JSON reads back as JSON text too.
        value_type=bytes,
    )
    processor = LatencyProcessor(runtime.sla_policy, Utf8Keys(table))
    receipts = ChangelogReceipts(table)
    recent = RecentIds(DEDUP_WINDOW)
    sequencer = PartitionSequencer()
    lock = asyncio.Lock()  # the batch and the deadline timer share the processor's pending writes

    def emit(key: str, outputs: Iterable[Output], outbox: Outbox) -> None:
        for output in outputs:
            if isinstance(output, Breach) and output.status == "open":
                metrics.BREACHES.labels(kind=output.kind).inc()
            elif isinstance(output, WaitReminder):
                metrics.REMINDERS.inc()
            progress.latency_produced += 1
            kind = OUTPUT_TYPES[type(output)]
            outbox.add(settings.latency_topic, key.encode(), encode_tagged(kind, output))

    def apply(
        event: CanonicalEvent, partition: int, source: str, position: Position, outbox: Outbox
    ) -> None:
        """The owner of the conversation: store the event, then run it through the latency clock."""
        key = event.conversation_id
        progress.events_produced += 1
        outbox.add(settings.events_topic, key.encode(), encode_model(event))
        progress.events_consumed += 1
        emit(key, processor.process(event, partition, source=source, position=position), outbox)
        emit(key, processor.fire(partition, datetime.now(UTC), False), outbox)

    def dead_letter(item: Rejection, outbox: Outbox) -> None:
        progress.rejected += 1
        progress.reject_reasons[item.reason] += 1
        metrics.NORMALIZE_REJECTS.labels(source=item.source, reason=item.reason).inc()
        internal_dead_letter(item, outbox)

    def quarantine(outbox: Outbox) -> None:
        """Stored states the processor could not read: dead letters with their bytes, so the
        conversation's lost wait can be looked into; the next commit deletes them."""
        for item in processor.take_unreadable():
            partition = partition_for(item.key.encode(), settings.topic_partitions)
            log.error(
                "conversation %s: stored state unreadable, starting it afresh: %s",
                item.key,
                item.error,
                extra=at(table.changelog_topic_name, partition, tenant=settings.tenant),
            )
            rejection = Rejection(
                source=STATE_SOURCE,
                reason=STATE_UNREADABLE,
                message=f"conversation {item.key}: {item.error}",
                raw=item.stored[:RAW_PREFIX_BYTES],
                raw_truncated=len(item.stored) > RAW_PREFIX_BYTES,
                topic=table.changelog_topic_name,
                partition=partition,
            )
            internal_dead_letter(rejection, outbox)

    def internal_dead_letter(item: Rejection, outbox: Outbox) -> None:
        """Send a dead letter; alone, for one that is not a normalize reject of raw input."""
        metrics.DEAD_LETTERS.labels(source=item.source, reason=item.reason).inc()
        outbox.add(settings.dlq_topic, item.source.encode(), encode_rejection(item))

    def from_raw(message: faust.types.Message, outbox: Outbox) -> None:
        source = raw_topics[message.topic]
        raw = message.value or b""
        progress.raw_consumed += 1
        metrics.record_consumed(message.topic, source)
        where = read_at(message)
        clock_input = f"{message.topic}/{message.partition}"
        try:
            items = normalize_record(source, raw, runtime.normalize_context, **where)
            for number, item in enumerate(items):
                if isinstance(item, Rejection):
                    dead_letter(item, outbox)
                    continue
                if recent.seen_before(item.event_id):
                    metrics.DUPLICATES.labels(source=item.source.value).inc()
                    continue
                with metrics.TAGGING_SECONDS.time():
                    tagged = runtime.tagger.current().tag_event(item)
                metrics.count_signals(tagged.signals)
                key = tagged.conversation_id.encode()
                if key == message.key or (
                    partition_for(key, settings.topic_partitions) == message.partition
                ):
                    position = (clock_input, message.offset, number)
                    apply(tagged, message.partition, clock_input, position, outbox)
                else:
                    progress.rekeyed_out += 1
                    headers = [(INPUT_HEADER, clock_input.encode())]
                    outbox.add(repartition_topic, key, encode_model(tagged), headers)
        except Exception as exc:  # faust acks a failed batch: nothing may escape unrecorded
            log.exception(
                "processing failed at %(topic)s[%(partition)s]@%(offset)s",
                where,
                extra={**where, "tenant": settings.tenant},
            )
            dead_letter(failed(source, message, exc), outbox)

    def from_repartition(message: faust.types.Message, outbox: Outbox) -> None:
        progress.rekeyed_in += 1
        try:
            event = CanonicalEvent.model_validate_json(message.value or b"")
            metrics.record_consumed(message.topic, event.source.value)
            own_input = f"{message.topic}/{message.partition}"
            position = (own_input, message.offset, 0)
            source = header(message, INPUT_HEADER) or own_input
            apply(event, message.partition, source, position, outbox)
        except Exception as exc:  # written by this pipeline: a failure here is a bug
            where = read_at(message)
            log.exception(
                "re-keyed event failed at %(topic)s[%(partition)s]@%(offset)s",
                where,
                extra={**where, "tenant": settings.tenant},
            )
            internal_dead_letter(failed(REPARTITION_SOURCE, message, exc), outbox)

    async def deliver(outbox: Outbox) -> None:
        """Send it all and wait for the broker; retry (never drop, never ack) until it takes it."""
        delay = SEND_RETRY_START_S
        while True:
            try:
                producer = app.producer._ensure_producer()  # type: ignore[attr-defined]
                await send_all(producer, app.producer.partitioner, outbox.messages)
                return
            except Exception as exc:
                log.warning(
                    "sending %d records failed, retrying in %.1fs: %s",
                    len(outbox.messages),
                    delay,
                    exc,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, SEND_RETRY_MAX_S)

    def last_commit_seen(tp: TP) -> int | None:
        """faust's copy of the committed offset (no public accessor): set after the seek that
        follows an assignment, then after each commit; None when unknown or 0."""
        return app.consumer._committed_offset.get(tp)  # type: ignore[attr-defined]

    async def committed_on_broker(tp: TP) -> int | None:
        """The group's committed offset, asked of the broker. faust's copy is unset between an
        assignment and its seek, while records it buffered before the rebalance still come."""
        thread = app.consumer._thread  # type: ignore[attr-defined]
        consumer = thread._ensure_consumer()
        return await thread.call_thread(consumer.committed, TopicPartition(tp.topic, tp.partition))

    async def start_partition(tp: TP, first_offset: int) -> None:
        """Where a partition resumes after an assignment; logged, since a hand-over that
        resumed at the wrong offset is otherwise invisible until the counts disagree."""
        committed = await committed_on_broker(tp)
        sequencer.start(tp, committed)
        log.info(
            "%s resumes at offset %d (committed %s); first record read %d",
            tp,
            sequencer.expected(tp),
            committed,
            first_offset,
            extra=at(tp.topic, tp.partition, sequencer.expected(tp)),
        )

    async def handle(batch: list[EventT]) -> list[EventT]:
        """Process what is next in offset order; returns those events. Records ahead are read
        again, records behind were processed already."""
        async with lock:
            outbox = Outbox()
            done: list[EventT] = []
            rewind: dict[TP, int] = {}
            behind: dict[TP, list[int]] = {}
            for event in batch:
                message = event.message
                tp = message.tp
                if tp in rewind:
                    continue
                if not sequencer.started(tp):
                    await start_partition(tp, message.offset)
                verdict = sequencer.admit(tp, message.offset)
                if verdict is Verdict.AHEAD:
                    rewind[tp] = sequencer.expected(tp)
                elif verdict is Verdict.BEHIND:
                    behind.setdefault(tp, []).append(message.offset)
                if verdict is not Verdict.IN_ORDER:
                    continue
                done.append(event)
                if message.topic == repartition_topic:
                    from_repartition(message, outbox)
                else:
                    from_raw(message, outbox)
            quarantine(outbox)
            await deliver(outbox)
            await store_states()
            for tp, offsets in behind.items():
                log.info(
                    "skipped %d records of %s processed before (offsets %d-%d)",
                    len(offsets),
                    tp,
                    min(offsets),
                    max(offsets),
                    extra=at(tp.topic, tp.partition, min(offsets)),
                )
            for tp, offset in rewind.items():
                log.warning(
                    "records of %s arrived ahead of offset %d: reading again",
                    tp,
                    offset,
                    extra=at(tp.topic, tp.partition, offset),
                )
                try:
                    await app.consumer.seek(tp, offset)
                except IllegalStateError:  # moved away meanwhile: its new owner reads it
                    log.warning(
                        "%s is no longer assigned here", tp, extra=at(tp.topic, tp.partition)
                    )
            return done

    async def store_states() -> None:
        """Write the batch's states and wait until the changelog has them: faust commits an
        offset without waiting for table writes, and a state lost behind a committed offset
        would lose the wait it held."""
        if processor.commit():
            await receipts.wait()

    @app.agent(stream_source, name="process")
    async def process(stream: faust.StreamT) -> None:
        async for batch in stream.take_events(settings.batch_records, settings.batch_seconds):
            events = list(batch)
            # take_events acks a batch even when its body failed or was cancelled (a worker
            # stopping mid-batch): hold each message until the batch is done, so an unfinished
            # batch leaves a gap faust will not commit past, and is read again.
            for event in events:
                event.message.incref()
            try:
                done = await handle(events)
            except Exception as exc:  # not a bad record (those are dead letters): stop loudly
                log.exception("batch failed; stopping the worker so its input is read again")
                await app.crash(exc)
                return
            processed = {id(event) for event in done}
            for event in events:
                if id(event) in processed:
                    await stream.ack(event)
                else:
                    # Held back (read again) or behind (processed before): its offset must
                    # not count as processed here, but faust must not wait for it either (a
                    # rebalance or a stop waits for every message not acked: SIGTERM hung).
                    # Mark it done without recording the offset.
                    event.message.acked = True

    @app.task
    async def refuse_mismatched_partitions() -> None:
        """A conversation is owned by the partition its id hashes to in every input topic and
        in the table's changelog: inputs with another partition count would split it."""
        counts: dict[str, int | None] = {}
        for _ in range(PARTITION_CHECK_TRIES):
            counts = {topic: app.consumer.topic_partitions(topic) for topic in source_topics}
            if None not in counts.values():
                break
            await asyncio.sleep(1.0)
        expected = settings.topic_partitions
        wrong = {t: n for t, n in sorted(counts.items()) if n is not None and n != expected}
        if wrong:
            error = ValueError(
                f"input topics must have SALESRADAR_TOPIC_PARTITIONS={expected} partitions "
                f"(co-partitioned with the conversation table); found {wrong}"
            )
            log.error("%s", error)
            await app.crash(error)

    def caught_up() -> bool:
        """No backlog in any input this worker reads: only then may the wall clock run ahead
        of event time (else a reply still unread would arrive late). A partition is caught up
        at its committed offset too: one with no new record since a restart or hand-over has
        nothing left to read, and must not hold the wall clock back on every other partition.
        Inputs of other workers are not seen: with several workers, a backlog upstream of them
        can still let a wait breach early (docs/operations.md, known limits)."""
        return all(
            sequencer.caught_up(
                tp,
                last_commit_seen(tp),
                known_end(app.consumer.highwater(tp), read_offsets.furthest.get(tp)),
            )
            for tp in app.assignor.assigned_actives()
            if tp.topic in source_topics
        )

    @app.on_rebalance_complete.connect
    async def reindex_timers(sender: faust.App, **kwargs: object) -> None:
        """A partition may have left and come back between two timer beats, its conversations
        changed by another worker meanwhile: rebuild every timer index from the table."""
        async with lock:
            sequencer.reset()
            for partition in processor.partitions():
                processor.revoke(partition)

    @app.timer(interval=1.0, name="latency-deadlines")
    async def deadlines() -> None:
        """Fire what the wall clock made due on caught-up partitions: outputs, then state."""
        if app.tables.recovery.in_recovery:
            return  # the table is still being rebuilt: timers would be indexed from half of it
        assigned = {
            tp.partition for tp in app.assignor.assigned_actives() if tp.topic == repartition_topic
        }
        for gone in set(processor.partitions()) - assigned:
            processor.revoke(gone)
        wall = datetime.now(UTC)
        due = [p for p in sorted(assigned) if (at := processor.due(p)) is not None and at <= wall]
        if due and not caught_up():
            due = []
        if due or processor.has_unreadable:
            async with lock:
                outbox = Outbox()
                for partition in due:
                    for output in processor.fire(partition, wall, True):
                        emit(output.conversation_id, [output], outbox)
                quarantine(outbox)
                await deliver(outbox)
                await store_states()
        metrics.OPEN_WAITS.set(processor.pending_timers())

    return processor
