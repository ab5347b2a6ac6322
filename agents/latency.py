"""latency: per-conversation waits in a changelog-backed table; breaches fire at their deadline.

State is written only on transitions (most events change nothing), and timers run on each
partition's event time, or on the wall clock once the partition has no backlog. faust lets a
table change only inside stream iteration, so the wall-clock timer does not fire breaches itself:
it sends a tick into the partition, and the agent fires what is due when the tick arrives.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

import faust
from faust.types import TP

from agents.codec import encode_tagged
from agents.normalize import INPUT_HEADER
from pipeline import metrics
from pipeline.latency import (
    ConversationState,
    DeadlineIndex,
    EventClock,
    Transition,
    apply_event,
    fire_due,
    next_due,
)
from pipeline.runtime import Runtime
from pipeline.sink.rows import EVENTS_TOPIC_TICK
from schemas.events import CanonicalEvent
from schemas.latency import Breach, LatencySample, WaitReminder

log = logging.getLogger(__name__)

OUTPUT_TYPES = {LatencySample: "sample", Breach: "breach", WaitReminder: "reminder"}


def is_tick(value: bytes | None) -> bool:
    """Ticks share the events topic; every consumer of it skips them."""
    return value == EVENTS_TOPIC_TICK


def source_input(message: faust.types.Message) -> str:
    """The raw topic-partition the normalize stage read this event from (see EventClock)."""
    headers = message.headers or ()
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in pairs:
        if name == INPUT_HEADER:
            return value.decode()
    return ""


def register(app: faust.App, runtime: Runtime, topics: dict[str, faust.TopicT]) -> None:
    settings = runtime.settings
    policy = runtime.sla_policy
    progress = runtime.progress
    events_topic = topics["events"]
    table = app.Table(
        "conversations",
        default=None,
        partitions=settings.topic_partitions,
        key_type=str,
        # No value_type: faust would rebuild a changelog value with `dict.from_data` and
        # fail every recovery (standby or takeover); JSON already gives back the dict.
    )
    indexes: dict[int, DeadlineIndex] = {}
    clock = EventClock()
    last_offset: dict[int, int] = {}

    def index_for(partition: int) -> DeadlineIndex:
        """The partition's timer index, rebuilt from the table when the partition is new here."""
        index = indexes.get(partition)
        if index is None:
            index = indexes[partition] = DeadlineIndex()
            for key, stored in table.items():
                if stored and stored.get("p") == partition:
                    state = ConversationState.from_dict(stored["s"])
                    index.schedule(key, next_due(state))
        return index

    async def commit(partition: int, key: str, transition: Transition) -> None:
        if transition.changed:
            if transition.state is None:
                table.pop(key, None)
            else:
                table[key] = {"p": partition, "s": transition.state.to_dict()}
        index_for(partition).schedule(key, next_due(transition.state))
        for output in transition.outputs:
            kind = OUTPUT_TYPES[type(output)]
            if isinstance(output, Breach) and output.status == "open":
                metrics.BREACHES.labels(kind=output.kind).inc()
            elif isinstance(output, WaitReminder):
                metrics.REMINDERS.inc()
            progress.latency_produced += 1
            await topics["latency"].send(key=key.encode(), value=encode_tagged(kind, output))

    async def fire(partition: int, now: datetime) -> None:
        for key in index_for(partition).pop_due(now):
            stored = table.get(key)
            if not stored:
                continue
            state = ConversationState.from_dict(stored["s"])
            await commit(partition, key, fire_due(state, now, policy))

    raw_topics = set(runtime.raw_topics())

    def read_to_the_end(tp: TP, position: int) -> bool:
        highwater = app.consumer.highwater(tp)
        return highwater is not None and position + 1 >= highwater

    def caught_up(partition: int) -> bool:
        """No backlog here nor in the raw partitions this worker normalizes: only then may the
        wall clock run ahead of event time (else a reply still unread upstream would be late).
        Raw partitions owned by other workers are not seen: with several workers, a backlog
        upstream of them can still let a wait breach early (documented in operations.md)."""
        events_tp = TP(events_topic.get_topic_name(), partition)
        if not read_to_the_end(events_tp, last_offset.get(partition, -1)):
            return False
        return all(
            read_to_the_end(tp, progress.raw_positions.get((tp.topic, tp.partition), -1))
            for tp in app.assignor.assigned_actives()
            if tp.topic in raw_topics
        )

    @app.agent(events_topic, name="latency")
    async def latency(stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            partition = message.partition
            last_offset[partition] = message.offset
            if is_tick(event.value):
                await fire(partition, clock.now(partition, datetime.now(UTC), caught_up(partition)))
                continue
            progress.events_consumed += 1
            try:
                canonical = CanonicalEvent.model_validate_json(event.value)
                clock.observe(partition, canonical.occurred_at, source_input(message))
                key = canonical.conversation_id
                stored = table.get(key)
                state = ConversationState.from_dict(stored["s"]) if stored else None
                await commit(partition, key, apply_event(state, canonical, policy))
                await fire(partition, clock.now(partition, datetime.now(UTC), False))
            except Exception:  # faust would ack and move on silently: say so loudly instead
                log.exception(
                    "latency failed at %s[%s]@%s", message.topic, partition, message.offset
                )

    @app.timer(interval=1.0, name="latency-deadlines")
    async def deadlines() -> None:
        """Tick each caught-up partition whose earliest deadline the wall clock has passed."""
        assigned = {
            tp.partition
            for tp in app.assignor.assigned_actives()
            if tp.topic == events_topic.get_topic_name()
        }
        for gone in set(indexes) - assigned:
            indexes.pop(gone, None)
            clock.forget(gone)
        wall = datetime.now(UTC)
        for partition in sorted(assigned):
            due = index_for(partition).peek()
            if due is not None and due <= wall and caught_up(partition):
                progress.ticks_produced += 1
                await events_topic.send(value=EVENTS_TOPIC_TICK, partition=partition)
        metrics.OPEN_WAITS.set(sum(len(index) for index in indexes.values()))
