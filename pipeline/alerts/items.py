"""What the alert service reads from the latency engine's Breach and WaitReminder.

Typed as Protocols so the service depends on the attributes it reads, not on the engine's
module; `schemas.latency.Breach` and `schemas.latency.WaitReminder` satisfy them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable


@runtime_checkable
class WaitItem(Protocol):
    """Attributes both a breach and a reminder carry."""

    tenant: str
    breach_id: str
    kind: str  # first_reply | lead_unassigned | lead_first_response
    conversation_id: str
    rep_id: str
    owner_rep_id: str
    customer_id: str
    customer_tier: str
    started_at: datetime
    deadline: datetime
    last_customer_signals: tuple[str, ...]
    last_customer_text: str


@runtime_checkable
class BreachLike(WaitItem, Protocol):
    status: str  # open | closed
    detected_at: datetime
    sla_s: int | float


@runtime_checkable
class ReminderLike(WaitItem, Protocol):
    reminder_id: str
    due_at: datetime


def responsible_rep(item: WaitItem) -> str:
    """The rep who should answer: the one on the conversation, else the customer's owner."""
    return item.rep_id or item.owner_rep_id
