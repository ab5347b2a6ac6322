"""Timers: the deadline heap, the per-partition clock, and the processor that drives them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from pipeline.latency import BusinessCalendar, DeadlineIndex, EventClock, SlaPolicy
from pipeline.latency.decoded import decode_stored
from pipeline.latency.processor import LatencyProcessor
from schemas.events import CanonicalEvent
from schemas.latency import Breach, LatencySample, WaitReminder

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tue 10:00 in Shanghai
POLICY = SlaPolicy(calendar=BusinessCalendar.load())
_ids = count(1)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


# -- DeadlineIndex -------------------------------------------------------------------------


def test_pop_due_returns_due_keys_in_order_each_once() -> None:
    index = DeadlineIndex()
    index.schedule("late", minutes(30))
    index.schedule("early", minutes(10))
    index.schedule("later", minutes(90))
    assert len(index) == 3
    assert index.pop_due(minutes(5)) == []
    assert index.pop_due(minutes(30)) == ["early", "late"]
    assert index.pop_due(minutes(30)) == []
    assert len(index) == 1 and index.peek() == minutes(90)


def test_rescheduling_and_clearing_invalidate_old_entries() -> None:
    index = DeadlineIndex()
    index.schedule("c", minutes(10))
    index.schedule("c", minutes(50))
    index.schedule("gone", minutes(5))
    index.schedule("gone", None)
    assert index.pop_due(minutes(20)) == []
    assert index.peek() == minutes(50)
    assert index.pop_due(minutes(50)) == ["c"]
    assert len(index) == 0 and index.peek() is None


def test_heap_stays_bounded_under_constant_rescheduling() -> None:
    index = DeadlineIndex()
    for step in range(10_000):
        index.schedule("busy", minutes(step))
    assert len(index._heap) <= 2 * len(index) + 65
    assert index.pop_due(minutes(10_000)) == ["busy"]


# -- EventClock ----------------------------------------------------------------------------


def test_event_clock_runs_on_event_time_unless_caught_up() -> None:
    clock = EventClock()
    clock.observe(0, minutes(10))
    clock.observe(0, minutes(5))  # an older event does not move the clock back
    clock.observe(1, minutes(100))
    wall = minutes(60)
    assert clock.now(0, wall, caught_up=False) == minutes(10)
    assert clock.now(0, wall, caught_up=True) == wall
    assert clock.now(1, wall, caught_up=True) == minutes(100)
    assert clock.now(2, wall, caught_up=False) < minutes(-(10**6))
    clock.forget(1)
    assert clock.now(1, wall, caught_up=False) < minutes(-(10**6))


def test_event_clock_waits_for_the_slowest_input_of_a_partition() -> None:
    """A fast CRM export must not drag a chat partition's clock past unread replies."""
    clock = EventClock()
    clock.observe(0, minutes(5000), source="raw.crm/0")
    clock.observe(0, minutes(30), source="raw.wecom/2")
    wall = minutes(10**6)
    assert clock.now(0, wall, caught_up=False) == minutes(30)
    clock.observe(0, minutes(400), source="raw.wecom/2")
    assert clock.now(0, wall, caught_up=False) == minutes(400)
    assert clock.now(0, wall, caught_up=True) == wall


# -- LatencyProcessor: live, replay and restart --------------------------------------------


def message(actor: str, when: datetime, conversation: str, tier: str = "A") -> CanonicalEvent:
    return CanonicalEvent(
        event_id=f"wecom:{next(_ids)}",
        source="wecom",
        source_format="test",
        occurred_at=when,
        kind="message",
        actor=actor,
        rep_id="r1",
        customer_id=f"cust-{conversation}",
        customer_tier=tier,
        conversation_id=conversation,
    )


def week_of_traffic() -> list[CanonicalEvent]:
    """Three conversations on one partition, in event-time order."""
    return [
        message("customer", minutes(0), "answered-late"),  # A: deadline +120
        message("customer", minutes(10), "answered-in-time"),
        message("customer", minutes(20), "never-answered"),
        message("rep", minutes(125), "answered-in-time"),  # 115 min: within
        message("customer", minutes(150), "other"),
        message("rep", minutes(200), "answered-late"),  # 200 min: breached
        message("customer", minutes(400), "other-2"),
    ]


def _drive(events: list[CanonicalEvent], wall_now: datetime, caught_up: bool) -> list[object]:
    processor = LatencyProcessor(POLICY, {})
    outputs: list[object] = []
    for item in events:
        outputs.extend(processor.process(item, partition=0))
        outputs.extend(processor.fire(0, wall_now, caught_up))
    return outputs


def _summary(outputs: list[object]) -> list[tuple[str, str, str]]:
    rows = []
    for output in outputs:
        if isinstance(output, LatencySample):
            rows.append(("sample", output.conversation_id, str(output.breached)))
        elif isinstance(output, Breach):
            rows.append(("breach", output.conversation_id, output.breach_id))
    return sorted(rows)


def test_replay_far_behind_the_wall_clock_raises_only_real_breaches() -> None:
    replayed = _drive(week_of_traffic(), wall_now=minutes(60 * 24 * 30), caught_up=False)
    breached = {o.conversation_id for o in replayed if isinstance(o, Breach)}
    assert breached == {"answered-late", "never-answered", "other"}
    assert "answered-in-time" not in breached


def test_live_and_replay_give_the_same_samples_and_breaches() -> None:
    events = week_of_traffic()
    live = LatencyProcessor(POLICY, {})
    live_outputs: list[object] = []
    for item in events:  # live: the wall clock is the event time, partition caught up
        live_outputs.extend(live.process(item, 0))
        live_outputs.extend(live.fire(0, item.occurred_at, caught_up=True))
    replayed = _drive(events, wall_now=minutes(10**6), caught_up=False)
    assert _summary(live_outputs) == _summary(replayed)


def test_never_answered_breach_fires_on_the_wall_clock_when_caught_up() -> None:
    processor = LatencyProcessor(POLICY, {})
    processor.process(message("customer", minutes(0), "quiet"), 0)
    at_deadline = processor.fire(0, minutes(120), caught_up=True)
    assert [type(o) for o in at_deadline] == [WaitReminder]  # exactly at the deadline: no breach
    assert processor.fire(0, minutes(119), caught_up=True) == []
    raised = processor.fire(0, minutes(120) + timedelta(microseconds=1), caught_up=True)
    assert [type(o) for o in raised] == [Breach]
    assert processor.fire(0, minutes(500), caught_up=True) == []
    assert processor.pending_timers(0) == 0


def test_reminder_then_breach_in_order_as_the_clock_moves() -> None:
    processor = LatencyProcessor(POLICY, {})
    processor.process(message("customer", minutes(0), "slow"), 0)
    assert [type(o) for o in processor.fire(0, minutes(90), caught_up=True)] == [WaitReminder]
    assert [type(o) for o in processor.fire(0, minutes(121), caught_up=True)] == [Breach]


def test_new_owner_of_a_partition_rebuilds_timers_from_the_store() -> None:
    store: dict[str, bytes] = {}
    first = LatencyProcessor(POLICY, store)
    first.process(message("customer", minutes(0), "moved"), 3)
    first.process(message("customer", minutes(1), "no-sla", tier="C"), 3)
    first.commit()
    first.revoke(3)
    second = LatencyProcessor(POLICY, store)  # another worker, same changelog-backed store
    assert second.rebuild(3, list(store)) == 1
    raised = second.fire(3, minutes(121), caught_up=True)
    assert [o.conversation_id for o in raised if isinstance(o, Breach)] == ["moved"]
    reply = second.process(message("rep", minutes(130), "moved"), 3)
    assert [o.status for o in reply if isinstance(o, Breach)] == ["closed"]


def test_store_is_written_only_on_transitions() -> None:
    class CountingStore(dict):
        writes = 0

        def __setitem__(self, key: str, value: dict) -> None:
            type(self).writes += 1
            super().__setitem__(key, value)

    store = CountingStore()
    processor = LatencyProcessor(POLICY, store)
    for step in range(5):
        processor.process(message("rep", minutes(step), "chatty-rep"), 0)
        processor.commit()
    assert CountingStore.writes == 0 and "chatty-rep" not in store
    for step, actor in ((10, "customer"), (11, "rep"), (12, "rep")):
        processor.process(message(actor, minutes(step), "chatty-rep"), 0)
        processor.commit()
    assert CountingStore.writes == 2


def test_a_batch_writes_each_conversation_once_and_only_on_commit() -> None:
    store: dict[str, bytes] = {}
    processor = LatencyProcessor(POLICY, store)
    processor.process(message("customer", minutes(0), "batched"), 0)
    processor.process(message("customer", minutes(1), "batched"), 0)
    assert store == {}  # nothing reaches the store before the batch's outputs are delivered
    assert processor.commit() == 1
    assert [w.started_at for w in decode_stored(store["batched"]).state.waits] != []


def owner_change(kind: str, when: datetime, owner: str) -> CanonicalEvent:
    return CanonicalEvent(
        event_id=f"crm:{next(_ids)}",
        source="crm",
        source_format="test",
        occurred_at=when,
        kind=kind,
        actor="system",
        rep_id=owner,
        customer_id="cust-lead",
        customer_tier="A",
        conversation_id="lead-1",
    )


def test_a_re_delivered_event_is_skipped_by_its_position() -> None:
    """kill -9 after the state was stored but before the input offsets were committed: the
    re-delivered events must not act again (here: hand the lead back to a former owner)."""
    store: dict[str, bytes] = {}
    first = LatencyProcessor(POLICY, store)
    history = [
        owner_change("lead_assigned", minutes(0), "r1"),
        owner_change("owner_changed", minutes(5), "r2"),
        owner_change("owner_changed", minutes(10), "r3"),
    ]
    for offset, event in enumerate(history):
        first.process(event, 0, source="raw/0", position=("raw/0", offset, 0))
    first.commit()
    restarted = LatencyProcessor(POLICY, store)
    for offset, event in enumerate(history):
        assert restarted.process(event, 0, source="raw/0", position=("raw/0", offset, 0)) == []
    assert restarted.commit() == 0
    (wait,) = decode_stored(store["lead-1"]).state.waits
    assert wait.owner_rep_id == "r3"


def test_events_of_one_raw_record_are_told_apart_by_their_index() -> None:
    store: dict[str, bytes] = {}
    processor = LatencyProcessor(POLICY, store)
    first = message("customer", minutes(0), "multi")
    second = message("rep", minutes(5), "multi")
    processor.process(first, 0, position=("raw/0", 3, 0))
    assert processor.process(second, 0, position=("raw/0", 3, 1)) != []


def test_a_re_read_event_that_changed_nothing_is_not_applied_again() -> None:
    """A customer's "好的" before any question opens no wait; read again after the question
    opened one, it would start that wait earlier (and change its id, so the sample)."""
    store: dict[str, bytes] = {}
    first = LatencyProcessor(POLICY, store)
    thanks = message("customer", minutes(0), "thanks-first").model_copy(update={"text": "好的"})
    question = message("customer", minutes(5), "thanks-first")
    reply = message("rep", minutes(30), "thanks-first")
    assert first.process(thanks, 0, position=("raw/0", 3, 0)) == []
    first.process(question, 0, position=("raw/0", 4, 0))
    first.commit()
    restarted = LatencyProcessor(POLICY, store)
    restarted.process(thanks, 0, position=("raw/0", 3, 0))  # the input read again from 3
    restarted.process(question, 0, position=("raw/0", 4, 0))
    (sample,) = restarted.process(reply, 0, position=("raw/0", 5, 0))
    assert isinstance(sample, LatencySample) and sample.start_event_id == question.event_id
