"""Scenario tests with known answers over a synthetic week of chats, mails and leads.

The week: Tue 2026-11-24 .. Mon 2026-11-30 for plain days and a weekend, plus
Wed 2026-09-30 .. Sun 2026-10-11 for the National Day holiday and the 调休 Saturday 10-10.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from pipeline.latency import (
    BusinessCalendar,
    ConversationState,
    SlaPolicy,
    Transition,
    apply_event,
    fire_due,
    next_due,
    wait_id,
)
from pipeline.latency.acknowledgement import AcknowledgementRule
from schemas.events import CanonicalEvent
from schemas.latency import Breach, LatencySample, WaitReminder

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = BusinessCalendar.load()
POLICY = SlaPolicy(calendar=CALENDAR)
US = timedelta(microseconds=1)
_ids = count(1)


def at(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=SHANGHAI)


def event(
    actor: str,
    when: datetime,
    *,
    conversation: str = "wecom:r1|wo_cust",
    kind: str = "message",
    rep: str = "",
    tier: str = "",
    text: str = "",
    signals: tuple[str, ...] = (),
    source: str = "wecom",
    event_id: str | None = None,
) -> CanonicalEvent:
    return CanonicalEvent(
        event_id=event_id or f"{source}:m{next(_ids)}",
        source=source,
        source_format="test",
        occurred_at=when,
        kind=kind,
        actor=actor,
        actor_id=rep if actor == "rep" else "wo_cust",
        rep_id=rep,
        customer_id="wo_cust",
        customer_tier=tier,
        conversation_id=conversation,
        text=text,
        signals=signals,
    )


def customer(when: datetime, **kwargs: object) -> CanonicalEvent:
    kwargs.setdefault("rep", "r1")
    kwargs.setdefault("tier", "A")
    return event("customer", when, **kwargs)  # type: ignore[arg-type]


def rep(when: datetime, who: str = "r1", **kwargs: object) -> CanonicalEvent:
    return event("rep", when, rep=who, **kwargs)  # type: ignore[arg-type]


def run(events: list[CanonicalEvent], policy: SlaPolicy = POLICY, state=None):
    """Apply events in order; return (final state, all outputs)."""
    outputs: list[object] = []
    for item in events:
        transition = apply_event(state, item, policy)
        if transition.changed:
            state = transition.state
        outputs.extend(transition.outputs)
    return state, outputs


def samples(outputs: list[object]) -> list[LatencySample]:
    return [o for o in outputs if isinstance(o, LatencySample)]


def breaches(outputs: list[object]) -> list[Breach]:
    return [o for o in outputs if isinstance(o, Breach)]


def only_sample(outputs: list[object]) -> LatencySample:
    found = samples(outputs)
    assert len(found) == 1, outputs
    return found[0]


# -- plain waits, wall and business latency ------------------------------------------------


def test_answered_within_sla_on_a_plain_tuesday() -> None:
    start = customer(at(11, 24, 10), text="报价单发我一下", signals=("quote",))
    reply = rep(at(11, 24, 11, 30))
    _, outputs = run([start, reply])
    sample = only_sample(outputs)
    assert (sample.latency_s, sample.business_latency_s, sample.sla_s) == (5400, 5400, 7200)
    assert not sample.breached and not breaches(outputs)
    assert sample.start_event_id == start.event_id and sample.reply_event_id == reply.event_id
    assert sample.sample_id == wait_id("first_reply", start.conversation_id, start.event_id)
    assert sample.start_signals == ("quote",)
    assert sample.started_at.utcoffset() == timedelta(0)


def test_midnight_crossing_counts_no_business_time() -> None:
    _, outputs = run([customer(at(11, 24, 23, 30), tier="B"), rep(at(11, 25, 0, 30))])
    sample = only_sample(outputs)
    assert (sample.latency_s, sample.business_latency_s, sample.sla_s) == (3600, 0, 14400)


def test_weekend_wait_is_long_in_wall_time_and_one_hour_in_business_time() -> None:
    _, outputs = run([customer(at(11, 27, 17, 30), tier="B"), rep(at(11, 30, 9, 30))])
    sample = only_sample(outputs)
    assert sample.latency_s == 64 * 3600
    assert sample.business_latency_s == 3600
    assert sample.breached  # wall basis by default


def test_holiday_week_and_make_up_saturday() -> None:
    _, over_holiday = run([customer(at(9, 30, 17)), rep(at(10, 8, 10))])
    assert only_sample(over_holiday).business_latency_s == 2 * 3600
    _, on_makeup_saturday = run([customer(at(10, 10, 10)), rep(at(10, 10, 11))])
    assert only_sample(on_makeup_saturday).business_latency_s == 3600
    _, on_sunday = run([customer(at(10, 11, 10)), rep(at(10, 11, 11))])
    assert only_sample(on_sunday).business_latency_s == 0


def test_business_basis_judges_and_schedules_on_working_time() -> None:
    policy = SlaPolicy(calendar=CALENDAR, basis="business")
    state, _ = run([customer(at(11, 27, 17))], policy)
    assert state.waits[0].deadline == at(11, 30, 10)
    assert not fire_due(state, at(11, 29, 23), policy).outputs
    _, outputs = run([rep(at(11, 30, 10))], policy, state)
    sample = only_sample(outputs)
    assert sample.business_latency_s == 7200 and not sample.breached


# -- who is credited, what counts --------------------------------------------------------


def test_group_chat_credits_the_replier_and_keeps_the_owner() -> None:
    group = "wrGroupRoom"
    start = customer(at(11, 24, 14), conversation=group, rep="owner1")
    _, outputs = run(
        [
            start,
            rep(at(11, 24, 14, 20), "helper2", conversation=group),
            rep(at(11, 24, 14, 25), "owner1", conversation=group),
        ]
    )
    sample = only_sample(outputs)
    assert (sample.rep_id, sample.owner_rep_id, sample.latency_s) == ("helper2", "owner1", 1200)


def test_burst_of_three_is_one_wait_from_the_first() -> None:
    first = customer(at(11, 24, 10), text="在吗", signals=("screening",))
    second = customer(at(11, 24, 10, 5), text="太贵了", signals=("objection_price",))
    third = customer(at(11, 24, 10, 10), text="领导要再商量", signals=("objection_decision",))
    state, _ = run([first, second, third])
    assert state.waits[0].last_customer_text == "领导要再商量"
    _, outputs = run([rep(at(11, 24, 10, 30))], state=state)
    sample = only_sample(outputs)
    assert sample.latency_s == 1800 and sample.start_event_id == first.event_id
    assert sample.start_signals == ("objection_decision", "objection_price", "screening")


def test_rep_message_with_nobody_waiting_changes_nothing() -> None:
    transition = apply_event(None, rep(at(11, 24, 9)), POLICY)
    assert transition == Transition(None, [], False)


@pytest.mark.parametrize(
    ("actor", "kind"),
    [
        ("customer", "recall"),
        ("customer", "switch"),
        ("customer", "consent"),
        ("customer", "email_status"),
        ("system", "message"),
        ("customer", "tag_changed"),
    ],
)
def test_non_conversational_events_never_start_a_clock(actor: str, kind: str) -> None:
    transition = apply_event(None, event(actor, at(11, 24, 9), kind=kind, tier="A"), POLICY)
    assert not transition.changed and transition.state is None


def test_recall_between_messages_does_not_stop_the_clock() -> None:
    _, outputs = run(
        [customer(at(11, 24, 10)), rep(at(11, 24, 10, 10), kind="recall"), rep(at(11, 24, 10, 20))]
    )
    assert only_sample(outputs).latency_s == 1200


def test_email_thread_waits_like_a_chat() -> None:
    thread = "email:<root@customer.example>"
    mail = {"conversation": thread, "source": "email", "kind": "email_sent"}
    _, outputs = run(
        [
            customer(at(11, 24, 9), **mail),
            event(
                "customer",
                at(11, 24, 9, 30),
                kind="email_status",
                conversation=thread,
                source="email",
            ),
            rep(at(11, 24, 12), "r9", **mail),
        ]
    )
    sample = only_sample(outputs)
    assert (sample.source, sample.rep_id, sample.latency_s, sample.breached) == (
        "email",
        "r9",
        3 * 3600,
        True,
    )


def test_unknown_class_has_no_sla_unless_a_default_tier_is_set() -> None:
    state, outputs = run([customer(at(11, 24, 10), tier="C"), rep(at(11, 25, 10))])
    sample = only_sample(outputs)
    assert (sample.sla_s, sample.breached) == (0.0, False)
    no_sla_state, _ = run([customer(at(11, 24, 10), tier="")])
    assert next_due(no_sla_state) is None
    defaulted = SlaPolicy(calendar=CALENDAR, default_tier="B")
    state, _ = run([customer(at(11, 24, 10), tier="")], defaulted)
    assert (state.waits[0].customer_tier, state.waits[0].sla_s) == ("B", 14400)


# -- deadlines, breaches, reminders --------------------------------------------------------


def test_never_answered_breach_is_raised_once_exactly_after_the_deadline() -> None:
    state, _ = run([customer(at(11, 24, 10), text="合同什么时候盖章", signals=("contract",))])
    assert next_due(state) == at(11, 24, 11, 30)  # reminder at 75 % of 2 h
    before = fire_due(state, at(11, 24, 11, 29, 59), POLICY)
    assert not before.changed and not before.outputs
    reminded = fire_due(state, at(11, 24, 11, 30), POLICY)
    (reminder,) = reminded.outputs
    assert isinstance(reminder, WaitReminder) and reminder.due_at == at(11, 24, 11, 30)
    state = reminded.state
    assert next_due(state) == at(11, 24, 12) + US
    assert not fire_due(state, at(11, 24, 12), POLICY).outputs  # exactly at threshold: within
    raised = fire_due(state, at(11, 24, 12) + US, POLICY)
    (breach,) = raised.outputs
    assert isinstance(breach, Breach)
    assert (breach.status, breach.kind, breach.deadline) == ("open", "first_reply", at(11, 24, 12))
    assert breach.detected_at == at(11, 24, 12) + US
    assert breach.last_customer_signals == ("contract",)
    assert breach.breach_id == reminder.breach_id
    state = raised.state
    assert next_due(state) is None
    assert not fire_due(state, at(11, 25, 12), POLICY).changed


def test_reply_after_a_raised_breach_closes_it_with_the_final_latency() -> None:
    state, _ = run([customer(at(11, 24, 10), rep="r1")])
    state = fire_due(state, at(11, 24, 12, 30), POLICY).state
    _, outputs = run([rep(at(11, 24, 13), "r2")], state=state)
    sample = only_sample(outputs)
    (closed,) = breaches(outputs)
    assert sample.breached and sample.latency_s == 3 * 3600
    assert (closed.status, closed.closed_at, closed.latency_s) == ("closed", at(11, 24, 13), 10800)
    assert closed.breach_id == sample.sample_id
    assert closed.detected_at == at(11, 24, 12, 30)
    assert (closed.rep_id, closed.owner_rep_id) == ("r2", "r1")


def test_late_reply_before_any_timer_ran_yields_one_closed_breach_at_the_deadline() -> None:
    _, outputs = run([customer(at(11, 24, 10)), rep(at(11, 24, 13))])
    (closed,) = breaches(outputs)
    assert only_sample(outputs).breached
    assert (closed.status, closed.detected_at) == ("closed", at(11, 24, 12))


def test_reply_exactly_at_the_threshold_is_within() -> None:
    _, outputs = run([customer(at(11, 24, 10)), rep(at(11, 24, 12))])
    assert not only_sample(outputs).breached and not breaches(outputs)


def test_reminders_switched_off_are_not_sent_but_breaches_still_are() -> None:
    state, _ = run([customer(at(11, 24, 10))])
    quiet = SlaPolicy(calendar=CALENDAR, reminder_fraction=None)
    skipped = fire_due(state, at(11, 24, 11, 45), quiet)
    assert skipped.changed and not skipped.outputs
    assert next_due(skipped.state) == at(11, 24, 12) + US


def test_breach_noticed_late_suppresses_the_stale_reminder() -> None:
    state, _ = run([customer(at(11, 24, 10))])
    outputs = fire_due(state, at(11, 24, 15), POLICY).outputs
    assert [type(o) for o in outputs] == [Breach]


def test_threshold_change_applies_to_new_waits_only() -> None:
    state, _ = run([customer(at(11, 24, 10))])
    stricter = SlaPolicy(calendar=CALENDAR, first_reply_s={"A": 3600.0})
    state, outputs = run([rep(at(11, 24, 11, 30))], stricter, state)
    assert (only_sample(outputs).sla_s, only_sample(outputs).breached) == (7200, False)
    _, outputs = run([customer(at(11, 24, 14)), rep(at(11, 24, 15, 30))], stricter, state)
    assert (only_sample(outputs).sla_s, only_sample(outputs).breached) == (3600, True)


# -- delivery quirks -----------------------------------------------------------------------


def test_duplicate_delivery_yields_one_sample() -> None:
    start = customer(at(11, 24, 10))
    reply = rep(at(11, 24, 10, 45))
    state, outputs = run([start, start, reply, reply, start])
    assert len(samples(outputs)) == 1
    assert state.waits == []
    assert apply_event(state, start, POLICY).changed is False


def test_reply_stamped_before_the_wait_does_not_stop_it() -> None:
    state, outputs = run([customer(at(11, 24, 10)), rep(at(11, 24, 9, 50))])
    assert not outputs and len(state.waits) == 1
    _, outputs = run([rep(at(11, 24, 10, 20))], state=state)
    assert only_sample(outputs).latency_s == 1200


def test_earlier_customer_message_arriving_late_moves_the_start() -> None:
    late_first = customer(at(11, 24, 10))
    state, _ = run([customer(at(11, 24, 10, 5)), late_first])
    _, outputs = run([rep(at(11, 24, 10, 30))], state=state)
    sample = only_sample(outputs)
    assert sample.start_event_id == late_first.event_id and sample.latency_s == 1800


def test_restart_between_message_and_reply_gives_the_same_sample() -> None:
    start = customer(at(11, 27, 17, 30), tier="B", text="发票开了吗", signals=("payment",))
    reply = rep(at(11, 30, 9, 30), "r2")
    state, _ = run([start])
    stored = json.loads(json.dumps(state.to_dict()))
    restored = ConversationState.from_dict(stored)
    assert restored == state
    _, after_restart = run([reply], state=restored)
    _, uninterrupted = run([reply], state=state)
    assert after_restart == uninterrupted and len(samples(after_restart)) == 1


# -- lead SLAs -----------------------------------------------------------------------------


def lead(kind: str, when: datetime, *, who: str = "", actor: str = "system", **kw: object):
    return event(actor, when, conversation="crm:lead-42", kind=kind, rep=who, source="crm", **kw)  # type: ignore[arg-type]


def test_unassigned_lead_breaches_at_48_hours_then_assignment_and_first_response() -> None:
    created = lead("lead_created", at(11, 24, 9), tier="A", text="官网留资: 想了解私有化部署")
    state, _ = run([created])
    (wait,) = state.waits
    assert (wait.kind, wait.deadline) == ("lead_assignment", at(11, 26, 9))
    assert not [o for o in fire_due(state, at(11, 26, 9), POLICY).outputs if isinstance(o, Breach)]
    raised = fire_due(state, at(11, 26, 9) + US, POLICY)
    (breach,) = raised.outputs
    assert (breach.kind, breach.status) == ("lead_unassigned", "open")
    assigned = lead("lead_assigned", at(11, 26, 11), who="r7", actor="rep")
    state, outputs = run([assigned], state=raised.state)
    sample = only_sample(outputs)
    assert (sample.kind, sample.rep_id, sample.latency_s, sample.breached) == (
        "lead_assignment",
        "r7",
        50 * 3600,
        True,
    )
    assert breaches(outputs)[0].status == "closed"
    (follow_up,) = state.waits
    assert (follow_up.kind, follow_up.owner_rep_id, follow_up.sla_s) == (
        "lead_first_response",
        "r7",
        7200,
    )
    state, nothing = run(
        [lead("email_status", at(11, 26, 11, 30), who="r7", actor="rep")], state=state
    )
    assert not nothing
    _, outputs = run([lead("field_changed", at(11, 26, 12), who="r7", actor="rep")], state=state)
    sample = only_sample(outputs)
    assert (sample.kind, sample.latency_s, sample.start_event_id) == (
        "lead_first_response",
        3600,
        assigned.event_id,
    )


def test_lead_created_with_owner_waits_for_first_response_and_follows_owner_changes() -> None:
    state, _ = run([lead("lead_created", at(11, 24, 9), who="r1", tier="B", actor="rep")])
    assert state.waits[0].kind == "lead_first_response"
    state, outputs = run(
        [lead("owner_changed", at(11, 24, 10), who="r2", actor="rep")], state=state
    )
    assert not outputs and state.waits[0].owner_rep_id == "r2"
    _, outputs = run([lead("stage_changed", at(11, 24, 14), who="r2", actor="rep")], state=state)
    sample = only_sample(outputs)
    assert (sample.owner_rep_id, sample.latency_s, sample.breached) == ("r2", 5 * 3600, True)


def test_owner_change_on_an_unknown_record_starts_nothing() -> None:
    transition = apply_event(None, lead("owner_changed", at(11, 24, 9), who="r1"), POLICY)
    assert not transition.changed


def test_redelivered_lead_events_after_the_first_response_reopen_nothing() -> None:
    created = lead("lead_created", at(11, 24, 9))
    assigned = lead("lead_assigned", at(11, 24, 10), who="r3", actor="rep")
    worked = lead("field_changed", at(11, 24, 10, 30), who="r3", actor="rep")
    state, outputs = run([created, assigned, worked])
    assert [s.kind for s in samples(outputs)] == ["lead_assignment", "lead_first_response"]
    assert state.waits == []
    for again in (created, assigned):
        assert not apply_event(state, again, POLICY).changed


def test_reply_stamped_inside_a_burst_answers_its_start_and_the_rest_still_waits() -> None:
    first = customer(at(11, 24, 10))
    after_reply = customer(at(11, 24, 10, 20), text="还在吗?")
    state, _ = run([first, after_reply])
    state, outputs = run([rep(at(11, 24, 10, 10))], state=state)
    assert only_sample(outputs).latency_s == 600
    (still_waiting,) = state.waits
    assert (still_waiting.start_event_id, still_waiting.started_at) == (
        after_reply.event_id,
        at(11, 24, 10, 20),
    )
    assert still_waiting.deadline == at(11, 24, 12, 20)
    _, outputs = run([rep(at(11, 24, 10, 50))], state=state)
    assert only_sample(outputs).latency_s == 1800


def test_message_in_the_same_second_as_the_reply_opens_a_new_wait_but_a_duplicate_does_not() -> (
    None
):
    start = customer(at(11, 24, 10))
    reply = rep(at(11, 24, 10))
    state, outputs = run([start, reply, start])
    assert only_sample(outputs).latency_s == 0 and state.waits == []
    follow_up = customer(at(11, 24, 10))
    state, _ = run([follow_up], state=state)
    assert [w.start_event_id for w in state.waits] == [follow_up.event_id]


def test_timer_with_a_naive_clock_is_a_clear_error() -> None:
    state, _ = run([customer(at(11, 24, 10))])
    with pytest.raises(ValueError, match="timezone-aware"):
        fire_due(state, datetime(2026, 11, 24, 13), POLICY)


# -- acknowledgements ----------------------------------------------------------------------


def test_a_closing_thank_you_after_the_answer_opens_no_wait() -> None:
    state, outputs = run(
        [
            customer(at(3, 3, 10), text="报价单什么时候能发？"),
            rep(at(3, 3, 10, 30), text="今天下午发您"),
            customer(at(3, 3, 10, 31), text="好的，谢谢！👍"),
        ]
    )
    assert len(samples(outputs)) == 1
    assert state is None or state.wait_of("first_reply") is None
    assert next_due(state) is None  # nothing will ever breach


def test_an_acknowledgement_with_a_question_still_waits() -> None:
    state, _ = run([customer(at(3, 3, 10), text="好的，那合同什么时候能盖章？")])
    assert state is not None and state.wait_of("first_reply") is not None


@pytest.mark.parametrize("text", ["👍", "好的，收到。", "收到谢谢🙏", "OK", "行"])
def test_pure_acknowledgements_are_recognised(text: str) -> None:
    assert AcknowledgementRule().is_acknowledgement(text)


@pytest.mark.parametrize("text", ["在吗？", "？", "可以吗", "明天上午我在公司，下午要开会。", ""])
def test_questions_and_information_are_not_acknowledgements(text: str) -> None:
    assert not AcknowledgementRule().is_acknowledgement(text)
