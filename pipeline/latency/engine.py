"""The latency engine: canonical events in, waits measured and SLA breaches raised.

Pure functions over one conversation's state. The stream wiring keeps the state in a
changelog-backed table keyed by conversation, writes it only when a transition says
``changed`` (most events change nothing), and drives ``fire_due`` from event time so a
replay yields the same samples and breaches as live processing did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import blake2b

from pipeline.latency.policy import SlaPolicy
from pipeline.latency.state import ConversationState, Wait
from schemas.events import Actor, CanonicalEvent, EventKind
from schemas.latency import (
    BREACH_CLOSED,
    BREACH_OPEN,
    FIRST_REPLY,
    HINT_TEXT_LIMIT,
    LEAD_ASSIGNMENT,
    LEAD_FIRST_RESPONSE,
    LEAD_UNASSIGNED,
    Breach,
    LatencySample,
    WaitReminder,
)

Output = LatencySample | Breach | WaitReminder

BREACH_KIND = {
    FIRST_REPLY: FIRST_REPLY,
    LEAD_ASSIGNMENT: LEAD_UNASSIGNED,
    LEAD_FIRST_RESPONSE: LEAD_FIRST_RESPONSE,
}

_ASSIGNMENT_KINDS = frozenset({EventKind.LEAD_ASSIGNED, EventKind.OWNER_CHANGED})

#: Rep events that are not work on a lead: withdrawn messages, archive notices, ESP statuses,
#: and the assignment itself.
_NOT_LEAD_ACTIVITY = frozenset(
    {
        EventKind.RECALL,
        EventKind.SWITCH,
        EventKind.CONSENT,
        EventKind.EMAIL_STATUS,
        EventKind.LEAD_CREATED,
        *_ASSIGNMENT_KINDS,
    }
)

#: A breach fires once the deadline is strictly passed: a reply exactly at it is within.
_JUST_AFTER = timedelta(microseconds=1)


@dataclass
class Transition:
    """What one event or timer tick did to a conversation."""

    state: ConversationState | None  # None = nothing to keep (delete the key)
    outputs: list[Output]
    changed: bool  # False = do not write the table


def wait_id(kind: str, conversation_id: str, start_event_id: str) -> str:
    """Deterministic id of a wait: its sample, its breach and its reminder share it."""
    digest = blake2b(digest_size=16)
    for part in (kind, conversation_id, start_event_id):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


def apply_event(
    state: ConversationState | None, event: CanonicalEvent, policy: SlaPolicy
) -> Transition:
    """Start, extend or stop the waits of ``event``'s conversation."""
    if not _may_matter(state, event):
        return Transition(state, [], False)
    working = (
        state.copy()
        if state is not None
        else ConversationState(tenant=event.tenant, conversation_id=event.conversation_id)
    )
    outputs: list[Output] = []
    at = event.occurred_at.astimezone(UTC)
    changed = False
    if event.kind == EventKind.LEAD_CREATED:
        changed = _lead_created(working, event, at, policy)
    elif event.kind in _ASSIGNMENT_KINDS:
        changed = _lead_assigned(working, event, at, policy, outputs)
    elif event.actor == Actor.REP:
        changed = _rep_activity(working, event, at, policy, outputs)
    elif event.actor == Actor.CUSTOMER and event.starts_or_stops_clock:
        changed = _customer_message(working, event, at, policy)
    if not changed:
        return Transition(state, [], False)
    return Transition(_kept(working), outputs, True)


def fire_due(state: ConversationState, now: datetime, policy: SlaPolicy) -> Transition:
    """Raise the reminders and breaches due by ``now``, each exactly once.

    A reminder that is only noticed after the deadline passed is dropped in favour of the
    breach; reminders are dropped too while the policy has them switched off.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("fire_due needs a timezone-aware now")
    if not any(_breach_due(w, now) or _reminder_due(w, now) for w in state.waits):
        return Transition(state, [], False)
    outputs: list[Output] = []
    working = state.copy()
    for wait in working.waits:
        if _breach_due(wait, now):
            wait.breach_detected_at = now
            wait.reminded = True
            outputs.append(_open_breach(working, wait, now))
        elif _reminder_due(wait, now):
            wait.reminded = True
            if policy.reminder_fraction is not None:
                outputs.append(_reminder(working, wait))
    return Transition(working, outputs, True)


def next_due(state: ConversationState | None) -> datetime | None:
    """The earliest instant at which ``fire_due`` has something to raise, for the timer index."""
    if state is None:
        return None
    pending = [due for wait in state.waits for due in _pending_times(wait)]
    return min(pending, default=None)


# -- what an event can touch -------------------------------------------------------------


def _may_matter(state: ConversationState | None, event: CanonicalEvent) -> bool:
    """Cheap pre-check so that most events (rep chatter, statuses) return untouched state."""
    if event.kind == EventKind.LEAD_CREATED or event.kind in _ASSIGNMENT_KINDS:
        return True
    if event.actor == Actor.CUSTOMER:
        return event.starts_or_stops_clock
    if event.actor != Actor.REP or state is None:
        return False
    return any(
        wait.kind in (FIRST_REPLY, LEAD_FIRST_RESPONSE) and wait.started_at <= event.occurred_at
        for wait in state.waits
    )


def _kept(state: ConversationState) -> ConversationState | None:
    if state.waits or state.answered_until is not None or state.recent_event_ids:
        return state
    return None


# -- chat and email waits ----------------------------------------------------------------


def _customer_message(
    state: ConversationState, event: CanonicalEvent, at: datetime, policy: SlaPolicy
) -> bool:
    """First unanswered customer message starts a wait; later ones in the burst join it."""
    if event.event_id in state.recent_event_ids:
        return False  # re-delivered
    if state.answered_until is not None and at < state.answered_until:
        return False  # stamped before a reply we already counted: that reply answered it
    wait = state.wait_of(FIRST_REPLY)
    if wait is None:
        if event.kind == EventKind.MESSAGE and policy.acknowledgement.is_acknowledgement(
            event.text
        ):
            return False  # "好的，谢谢" closes a thread; it asks for no reply
        state.waits.append(_new_wait(FIRST_REPLY, event, at, policy, event.rep_id))
        return True
    if event.event_id == wait.start_event_id:
        return False
    if at < wait.started_at and wait.breach_detected_at is None and not wait.reminded:
        earlier = _new_wait(FIRST_REPLY, event, at, policy, event.rep_id or wait.owner_rep_id)
        earlier.start_signals = _union(earlier.start_signals, wait.start_signals)
        earlier.last_customer_at = wait.last_customer_at
        earlier.last_customer_signals = wait.last_customer_signals
        earlier.last_customer_text = wait.last_customer_text
        earlier.last_customer_event_id = wait.last_customer_event_id
        state.waits[state.waits.index(wait)] = earlier
        return True
    before = (wait.start_signals, wait.last_customer_at, wait.owner_rep_id)
    wait.start_signals = _union(wait.start_signals, event.signals)
    wait.owner_rep_id = wait.owner_rep_id or event.rep_id
    if at >= wait.last_customer_at:
        text = _hint(event.text)
        if (at, event.signals, text) != (
            wait.last_customer_at,
            wait.last_customer_signals,
            wait.last_customer_text,
        ):
            wait.last_customer_at = at
            wait.last_customer_signals = event.signals
            wait.last_customer_text = text
            wait.last_customer_event_id = event.event_id
            return True
    return before != (wait.start_signals, wait.last_customer_at, wait.owner_rep_id)


def _rep_activity(
    state: ConversationState,
    event: CanonicalEvent,
    at: datetime,
    policy: SlaPolicy,
    outputs: list[Output],
) -> bool:
    """A rep's reply stops the chat wait; any rep work on a lead stops its first-response wait."""
    changed = False
    chat_wait = state.wait_of(FIRST_REPLY)
    if event.starts_or_stops_clock and chat_wait is not None and at >= chat_wait.started_at:
        _finish(state, chat_wait, event, at, policy, outputs)
        if chat_wait.last_customer_at > at:
            state.waits.append(_reopened_after(chat_wait, policy))
        state.answered_until = max(at, state.answered_until or at)
        changed = True
    lead_wait = state.wait_of(LEAD_FIRST_RESPONSE)
    lead_activity = event.kind not in _NOT_LEAD_ACTIVITY
    if lead_activity and lead_wait is not None and at >= lead_wait.started_at:
        _finish(state, lead_wait, event, at, policy, outputs)
        changed = True
    return changed


# -- lead waits --------------------------------------------------------------------------


def _lead_created(
    state: ConversationState, event: CanonicalEvent, at: datetime, policy: SlaPolicy
) -> bool:
    """An unassigned lead waits for an owner; one created with an owner waits for its rep."""
    if event.event_id in state.recent_event_ids or state.wait_of(
        LEAD_ASSIGNMENT, LEAD_FIRST_RESPONSE
    ):
        return False
    kind = LEAD_FIRST_RESPONSE if event.rep_id else LEAD_ASSIGNMENT
    state.waits.append(_new_wait(kind, event, at, policy, event.rep_id))
    return True


def _lead_assigned(
    state: ConversationState,
    event: CanonicalEvent,
    at: datetime,
    policy: SlaPolicy,
    outputs: list[Output],
) -> bool:
    """Assignment stops the unassigned clock and starts the new owner's first-response clock."""
    owner = event.rep_id or event.attrs.get("new", "")
    if not owner or event.event_id in state.recent_event_ids:
        return False
    pending = state.wait_of(LEAD_ASSIGNMENT)
    if pending is not None:
        if at < pending.started_at:
            return False
        _finish(state, pending, event, at, policy, outputs, credited=owner)
        tier = event.customer_tier or pending.customer_tier
        follow_up = _new_wait(LEAD_FIRST_RESPONSE, event, at, policy, owner, tier=tier)
        follow_up.customer_id = event.customer_id or pending.customer_id
        state.waits.append(follow_up)
        return True
    responding = state.wait_of(LEAD_FIRST_RESPONSE)
    if responding is not None:
        if responding.owner_rep_id == owner:
            return False
        responding.owner_rep_id = owner  # the clock keeps running: the lead still waits
        return True
    if event.kind != EventKind.LEAD_ASSIGNED:
        return False  # an owner change on a record we never saw waiting starts nothing
    state.waits.append(_new_wait(LEAD_FIRST_RESPONSE, event, at, policy, owner))
    return True


# -- building waits and outputs ----------------------------------------------------------


def _new_wait(
    kind: str,
    event: CanonicalEvent,
    at: datetime,
    policy: SlaPolicy,
    owner: str,
    *,
    tier: str | None = None,
) -> Wait:
    """Thresholds are read now and stored, so a later config change leaves this wait alone."""
    tier = tier if tier is not None else (event.customer_tier or policy.default_tier)
    if kind == FIRST_REPLY:
        sla = float(policy.first_reply_s.get(tier, 0.0))
    elif kind == LEAD_ASSIGNMENT:
        sla = float(policy.lead_unassigned_s)
    else:
        sla = float(policy.lead_first_response_s.get(tier, 0.0))
    deadline, reminder_at = _timers(policy, at, sla)
    customer_voice = event.actor == Actor.CUSTOMER or kind == LEAD_ASSIGNMENT
    return Wait(
        kind=kind,
        source=event.source.value,
        start_event_id=event.event_id,
        started_at=at,
        customer_id=event.customer_id,
        customer_tier=tier,
        owner_rep_id=owner,
        sla_s=sla,
        deadline=deadline,
        reminder_at=reminder_at,
        start_signals=event.signals if customer_voice else (),
        last_customer_at=at,
        last_customer_signals=event.signals if customer_voice else (),
        last_customer_text=_hint(event.text) if customer_voice else "",
        last_customer_event_id=event.event_id,
    )


def _timers(
    policy: SlaPolicy, start: datetime, sla: float
) -> tuple[datetime | None, datetime | None]:
    """(deadline, reminder instant) of a wait; None where there is no SLA or no reminder."""
    if sla <= 0:
        return None, None
    fraction = policy.reminder_fraction
    reminder_at = policy.deadline_after(start, sla * fraction) if fraction is not None else None
    return policy.deadline_after(start, sla), reminder_at


def _reopened_after(wait: Wait, policy: SlaPolicy) -> Wait:
    """The wait left when a late-arriving reply answered only the start of a burst.

    Only the newest customer message is kept per wait, so the new wait starts there: a
    short burst after the reply is measured from its last message rather than lost.
    """
    deadline, reminder_at = _timers(policy, wait.last_customer_at, wait.sla_s)
    return Wait(
        kind=wait.kind,
        source=wait.source,
        start_event_id=wait.last_customer_event_id,
        started_at=wait.last_customer_at,
        customer_id=wait.customer_id,
        customer_tier=wait.customer_tier,
        owner_rep_id=wait.owner_rep_id,
        sla_s=wait.sla_s,
        deadline=deadline,
        reminder_at=reminder_at,
        start_signals=wait.last_customer_signals,
        last_customer_at=wait.last_customer_at,
        last_customer_signals=wait.last_customer_signals,
        last_customer_text=wait.last_customer_text,
        last_customer_event_id=wait.last_customer_event_id,
    )


def _finish(
    state: ConversationState,
    wait: Wait,
    event: CanonicalEvent,
    at: datetime,
    policy: SlaPolicy,
    outputs: list[Output],
    *,
    credited: str | None = None,
) -> None:
    """Close ``wait`` at ``event``: one sample, plus the closed breach row when it was late."""
    wall_latency = (at - wait.started_at).total_seconds()
    rep = credited if credited is not None else (event.rep_id or event.actor_id)
    late = wait.deadline is not None and at > wait.deadline
    identifier = wait_id(wait.kind, state.conversation_id, wait.start_event_id)
    outputs.append(
        LatencySample(
            tenant=state.tenant,
            sample_id=identifier,
            kind=wait.kind,
            source=wait.source,
            conversation_id=state.conversation_id,
            start_event_id=wait.start_event_id,
            reply_event_id=event.event_id,
            rep_id=rep,
            owner_rep_id=wait.owner_rep_id,
            customer_id=wait.customer_id,
            customer_tier=wait.customer_tier,
            started_at=wait.started_at,
            replied_at=at,
            latency_s=wall_latency,
            business_latency_s=policy.calendar.business_seconds(wait.started_at, at),
            sla_s=wait.sla_s,
            breached=late,
            start_signals=wait.start_signals,
        )
    )
    if late and wait.deadline is not None:
        outputs.append(
            _breach_row(
                state,
                wait,
                rep=rep,
                detected_at=wait.breach_detected_at or wait.deadline,
                status=BREACH_CLOSED,
                closed_at=at,
                reply_event_id=event.event_id,
                latency_s=wall_latency,
            )
        )
    state.waits.remove(wait)
    state.remember(wait.start_event_id, event.event_id)


def _open_breach(state: ConversationState, wait: Wait, now: datetime) -> Breach:
    return _breach_row(
        state,
        wait,
        rep=wait.owner_rep_id,
        detected_at=now,
        status=BREACH_OPEN,
        closed_at=None,
        reply_event_id="",
        latency_s=None,
    )


def _breach_row(
    state: ConversationState,
    wait: Wait,
    *,
    rep: str,
    detected_at: datetime,
    status: str,
    closed_at: datetime | None,
    reply_event_id: str,
    latency_s: float | None,
) -> Breach:
    assert wait.deadline is not None  # only waits with an SLA can breach
    return Breach(
        tenant=state.tenant,
        breach_id=wait_id(wait.kind, state.conversation_id, wait.start_event_id),
        kind=BREACH_KIND[wait.kind],
        source=wait.source,
        conversation_id=state.conversation_id,
        start_event_id=wait.start_event_id,
        rep_id=rep,
        owner_rep_id=wait.owner_rep_id,
        customer_id=wait.customer_id,
        customer_tier=wait.customer_tier,
        started_at=wait.started_at,
        deadline=wait.deadline,
        sla_s=wait.sla_s,
        detected_at=detected_at,
        status=status,
        closed_at=closed_at,
        reply_event_id=reply_event_id,
        latency_s=latency_s,
        last_customer_signals=wait.last_customer_signals,
        last_customer_text=wait.last_customer_text,
    )


def _reminder(state: ConversationState, wait: Wait) -> WaitReminder:
    assert wait.deadline is not None and wait.reminder_at is not None
    breach_id = wait_id(wait.kind, state.conversation_id, wait.start_event_id)
    return WaitReminder(
        tenant=state.tenant,
        reminder_id=wait_id("reminder", state.conversation_id, breach_id),
        breach_id=breach_id,
        kind=BREACH_KIND[wait.kind],
        conversation_id=state.conversation_id,
        rep_id=wait.owner_rep_id,
        owner_rep_id=wait.owner_rep_id,
        customer_id=wait.customer_id,
        customer_tier=wait.customer_tier,
        started_at=wait.started_at,
        deadline=wait.deadline,
        due_at=wait.reminder_at,
        last_customer_signals=wait.last_customer_signals,
        last_customer_text=wait.last_customer_text,
    )


# -- timers ------------------------------------------------------------------------------


def _breach_due(wait: Wait, now: datetime) -> bool:
    return wait.deadline is not None and wait.breach_detected_at is None and now > wait.deadline


def _reminder_due(wait: Wait, now: datetime) -> bool:
    return wait.reminder_at is not None and not wait.reminded and now >= wait.reminder_at


def _pending_times(wait: Wait) -> list[datetime]:
    times = []
    if wait.reminder_at is not None and not wait.reminded:
        times.append(wait.reminder_at)
    if wait.deadline is not None and wait.breach_detected_at is None:
        times.append(wait.deadline + _JUST_AFTER)
    return times


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(set(first) | set(second)))


def _hint(text: str) -> str:
    return text[:HINT_TEXT_LIMIT]
