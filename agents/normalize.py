"""normalize: raw vendor records → canonical, tagged events keyed by conversation; bad → DLQ.

Tagging runs in this same pass: it is stateless, and every extra topic hop costs a whole
faust pass (ARCHITECTURE.md, "What bounds speed"). Each event carries, in a header, the raw
topic-partition it came from: the latency stage's clock is the slowest of its inputs.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import faust

from agents.codec import encode_model, encode_rejection
from pipeline import metrics
from pipeline.normalize import normalize_record
from pipeline.runtime import Runtime
from schemas.events import CanonicalEvent, Rejection

log = logging.getLogger(__name__)

#: Recently seen event ids per worker: a webhook retried within minutes is one event.
DEDUP_WINDOW = 200_000
#: Header naming the raw topic-partition an event was read from.
INPUT_HEADER = "salesradar-input"


class RecentIds:
    """A bounded set of recently seen ids, oldest forgotten first."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen_before(self, key: str) -> bool:
        if key in self._ids:
            return True
        self._ids[key] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return False


def register(app: faust.App, runtime: Runtime, topics: dict[str, faust.TopicT]) -> None:
    raw_topics = runtime.raw_topics()
    source_stream = app.topic(*raw_topics, value_serializer="raw", key_serializer="raw")
    recent = RecentIds(DEDUP_WINDOW)
    progress = runtime.progress

    async def dead_letter(item: Rejection) -> None:
        progress.rejected += 1
        progress.reject_reasons[item.reason] += 1
        metrics.NORMALIZE_REJECTS.labels(source=item.source, reason=item.reason).inc()
        metrics.DEAD_LETTERS.labels(source=item.source, reason=item.reason).inc()
        await topics["dlq"].send(key=item.source.encode(), value=encode_rejection(item))

    async def publish(item: CanonicalEvent, source_input: bytes) -> None:
        if recent.seen_before(item.event_id):
            metrics.DUPLICATES.labels(source=item.source.value).inc()
            return
        with metrics.TAGGING_SECONDS.time():
            tagged = runtime.tagger.current().tag_event(item)
        for signal in tagged.signals:
            metrics.SIGNALS.labels(signal=signal).inc()
        progress.events_produced += 1
        await topics["events"].send(
            key=tagged.conversation_id.encode(),
            value=encode_model(tagged),
            headers={INPUT_HEADER: source_input},
        )

    @app.agent(source_stream, name="normalize")
    async def normalize(stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            source = raw_topics[message.topic]
            raw = event.value or b""
            progress.raw_consumed += 1
            progress.raw_positions[(message.topic, message.partition)] = message.offset
            metrics.record_consumed(message.topic, source)
            where = {
                "topic": message.topic,
                "partition": message.partition,
                "offset": message.offset,
            }
            source_input = f"{message.topic}/{message.partition}".encode()
            # faust acks a message whose agent body raised, so nothing may escape this loop.
            try:
                for item in normalize_record(source, raw, runtime.normalize_context, **where):
                    if isinstance(item, Rejection):
                        await dead_letter(item)
                    else:
                        await publish(item, source_input)
            except Exception as exc:
                log.exception("normalize failed at %(topic)s[%(partition)s]@%(offset)s", where)
                await dead_letter(
                    Rejection(
                        source=source,
                        reason="internal_error",
                        message=f"{type(exc).__name__}: {exc}",
                        raw=raw[:65536],
                        **where,
                    )
                )
