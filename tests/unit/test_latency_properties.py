"""Properties over random in-order conversations, checked against a plain reference model.

Whatever the interleaving of customer and rep messages, and whenever the timers happen to
run, the samples are those of the reference model and every breach is raised at most once,
never before its deadline, and closed only by the reply that ended its wait.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline.latency import BusinessCalendar, ConversationState, SlaPolicy, apply_event, fire_due
from schemas.events import CanonicalEvent
from schemas.latency import Breach, LatencySample

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Mon 09:00 in Shanghai
POLICY = SlaPolicy(calendar=BusinessCalendar.load())
SLA_S = {"A": 7200.0, "B": 14400.0, "C": 0.0}

steps = st.lists(
    st.tuples(
        st.sampled_from(["customer", "rep", "timer"]),
        st.integers(min_value=0, max_value=5 * 3600),  # seconds since the previous step
    ),
    max_size=25,
)


def _message(number: int, actor: str, when: datetime, tier: str) -> CanonicalEvent:
    return CanonicalEvent(
        event_id=f"wecom:{number}",
        source="wecom",
        source_format="test",
        occurred_at=when,
        kind="message",
        actor=actor,
        rep_id="r1",
        customer_tier=tier,
        conversation_id="c",
    )


def _reference(timeline: list[tuple[str, datetime]]) -> list[tuple[datetime, datetime]]:
    """(start, reply) of each wait: first unanswered customer message to the next rep one."""
    waits, start = [], None
    for actor, when in timeline:
        if actor == "customer" and start is None:
            start = when
        elif actor == "rep" and start is not None:
            waits.append((start, when))
            start = None
    return waits


@settings(max_examples=200, deadline=None)
@given(plan=steps, tier=st.sampled_from(["A", "B", "C"]), restart=st.booleans())
@example(plan=[("customer", 0), ("rep", 0), ("customer", 0), ("rep", 10)], tier="A", restart=False)
def test_samples_and_breaches_follow_the_reference(
    plan: list[tuple[str, int]], tier: str, restart: bool
) -> None:
    state: ConversationState | None = None
    now = T0
    timeline: list[tuple[str, datetime]] = []
    outputs: list[object] = []
    for number, (step, gap) in enumerate(plan):
        now += timedelta(seconds=gap)
        if step == "timer":
            if state is not None:
                transition = fire_due(state, now, POLICY)
                for output in transition.outputs:
                    assert not isinstance(output, Breach) or output.deadline < now
                outputs.extend(transition.outputs)
                state = transition.state if transition.changed else state
            continue
        timeline.append((step, now))
        transition = apply_event(state, _message(number, step, now, tier), POLICY)
        outputs.extend(transition.outputs)
        if transition.changed:
            state = transition.state
        if restart and state is not None:
            state = ConversationState.from_dict(state.to_dict())

    sampled = [o for o in outputs if isinstance(o, LatencySample)]
    expected = _reference(timeline)
    assert [(s.started_at, s.replied_at) for s in sampled] == expected
    sla = SLA_S[tier]
    for sample in sampled:
        assert sample.latency_s == (sample.replied_at - sample.started_at).total_seconds()
        assert sample.breached == (sla > 0 and sample.latency_s > sla)

    raised = [o for o in outputs if isinstance(o, Breach)]
    opened = [b.breach_id for b in raised if b.status == "open"]
    closed = [b for b in raised if b.status == "closed"]
    assert len(opened) == len(set(opened))
    assert {b.breach_id for b in closed} == {s.sample_id for s in sampled if s.breached}
    assert len(closed) == len({b.breach_id for b in closed})
    for breach in closed:
        assert breach.latency_s is not None and breach.latency_s > sla
