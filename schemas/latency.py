"""What the latency engine emits: measured waits, SLA breaches and reminders.

Field names are the BI contract: the sink writes them as ClickHouse columns unchanged.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, field_validator

#: Sample kinds (what was waited for).
FIRST_REPLY = "first_reply"
LEAD_ASSIGNMENT = "lead_assignment"
LEAD_FIRST_RESPONSE = "lead_first_response"

#: Breach kinds; an unassigned lead is a breach of the assignment wait.
LEAD_UNASSIGNED = "lead_unassigned"

BREACH_OPEN = "open"
BREACH_CLOSED = "closed"

#: Longest customer text carried on a breach or reminder (alert hints need a gist, not a dump).
HINT_TEXT_LIMIT = 200


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError("datetimes must be timezone-aware")
    return value


class LatencySample(BaseModel):
    """One finished wait: how long, against which SLA, credited to whom."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: str
    sample_id: str  # hash of kind + conversation_id + start_event_id
    kind: str
    source: str
    conversation_id: str
    start_event_id: str
    reply_event_id: str
    rep_id: str  # the rep who replied (credited)
    owner_rep_id: str  # the owner of the conversation or lead (also kept against)
    customer_id: str
    customer_tier: str  # tier in force when the wait started
    started_at: datetime
    replied_at: datetime
    latency_s: float
    business_latency_s: float
    sla_s: float  # 0.0 = no SLA for this tier
    breached: bool
    start_signals: tuple[str, ...]

    _check_aware = field_validator("started_at", "replied_at")(_aware)


class Breach(BaseModel):
    """A wait that outlived its SLA; 'open' when raised at the deadline, 'closed' once answered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: str
    breach_id: str  # the wait's sample_id
    kind: str  # first_reply | lead_unassigned | lead_first_response
    source: str
    conversation_id: str
    start_event_id: str
    rep_id: str
    owner_rep_id: str
    customer_id: str
    customer_tier: str
    started_at: datetime
    deadline: datetime
    sla_s: float
    detected_at: datetime
    status: str
    closed_at: datetime | None
    reply_event_id: str
    latency_s: float | None
    last_customer_signals: tuple[str, ...]
    last_customer_text: str

    _check_aware = field_validator("started_at", "deadline", "detected_at", "closed_at")(_aware)


class WaitReminder(BaseModel):
    """A wait that has used ``reminder_fraction`` of its SLA: nudge the rep before it breaches."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: str
    reminder_id: str
    breach_id: str
    kind: str
    conversation_id: str
    rep_id: str
    owner_rep_id: str
    customer_id: str
    customer_tier: str
    started_at: datetime
    deadline: datetime
    due_at: datetime
    last_customer_signals: tuple[str, ...]
    last_customer_text: str

    _check_aware = field_validator("started_at", "deadline", "due_at")(_aware)
