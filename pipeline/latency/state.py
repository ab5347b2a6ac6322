"""Per-conversation latency state: the open waits, kept in a changelog-backed table.

Everything the engine needs to finish a wait after a restart lives here (threshold and
deadline included, so a config change never rewrites a running wait). ``to_dict`` is
JSON-safe and round-trips exactly: instants are integer microseconds since the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

#: How many ids of finished waits (start and stop events) are kept to spot re-deliveries.
RECENT_IDS_KEPT = 6

STATE_VERSION = 1


def to_us(instant: datetime) -> int:
    return (instant - _EPOCH) // _MICROSECOND


def from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


@dataclass(slots=True)
class Wait:
    """A customer (or a lead) waiting for a rep, from its first unanswered event."""

    kind: str
    source: str
    start_event_id: str
    started_at: datetime
    customer_id: str
    customer_tier: str
    owner_rep_id: str
    sla_s: float
    deadline: datetime | None  # None = no SLA for this tier
    reminder_at: datetime | None
    start_signals: tuple[str, ...]
    last_customer_at: datetime
    last_customer_signals: tuple[str, ...]
    last_customer_text: str
    last_customer_event_id: str
    reminded: bool = False
    breach_detected_at: datetime | None = None  # set once the open breach was raised

    def copy(self) -> Wait:
        """A field-by-field copy (several times cheaper than dataclasses.replace)."""
        return Wait(
            self.kind,
            self.source,
            self.start_event_id,
            self.started_at,
            self.customer_id,
            self.customer_tier,
            self.owner_rep_id,
            self.sla_s,
            self.deadline,
            self.reminder_at,
            self.start_signals,
            self.last_customer_at,
            self.last_customer_signals,
            self.last_customer_text,
            self.last_customer_event_id,
            self.reminded,
            self.breach_detected_at,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "source": self.source,
            "start_event_id": self.start_event_id,
            "started_at": to_us(self.started_at),
            "customer_id": self.customer_id,
            "customer_tier": self.customer_tier,
            "owner_rep_id": self.owner_rep_id,
            "sla_s": self.sla_s,
            "start_signals": list(self.start_signals),
            "last_customer_at": to_us(self.last_customer_at),
            "last_customer_signals": list(self.last_customer_signals),
            "last_customer_text": self.last_customer_text,
            "last_customer_event_id": self.last_customer_event_id,
            "reminded": self.reminded,
        }
        for name in ("deadline", "reminder_at", "breach_detected_at"):
            value = getattr(self, name)
            if value is not None:
                data[name] = to_us(value)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Wait:
        def optional_instant(name: str) -> datetime | None:
            value = data.get(name)
            return None if value is None else from_us(int(value))

        return cls(
            kind=str(data["kind"]),
            source=str(data["source"]),
            start_event_id=str(data["start_event_id"]),
            started_at=from_us(int(data["started_at"])),
            customer_id=str(data["customer_id"]),
            customer_tier=str(data["customer_tier"]),
            owner_rep_id=str(data["owner_rep_id"]),
            sla_s=float(data["sla_s"]),
            deadline=optional_instant("deadline"),
            reminder_at=optional_instant("reminder_at"),
            start_signals=tuple(str(s) for s in data["start_signals"]),
            last_customer_at=from_us(int(data["last_customer_at"])),
            last_customer_signals=tuple(str(s) for s in data["last_customer_signals"]),
            last_customer_text=str(data["last_customer_text"]),
            # States stored before this field existed: their newest message is unknown.
            last_customer_event_id=str(data.get("last_customer_event_id", data["start_event_id"])),
            reminded=bool(data["reminded"]),
            breach_detected_at=optional_instant("breach_detected_at"),
        )


@dataclass(slots=True)
class ConversationState:
    """The open waits of one conversation (at most one chat wait and one lead wait)."""

    tenant: str
    conversation_id: str
    waits: list[Wait] = field(default_factory=list)
    answered_until: datetime | None = None  # newest reply that stopped a chat clock
    recent_event_ids: list[str] = field(default_factory=list)  # of finished waits

    def wait_of(self, *kinds: str) -> Wait | None:
        return next((wait for wait in self.waits if wait.kind in kinds), None)

    def remember(self, *event_ids: str) -> None:
        """Keep the ids of a finished wait, so a re-delivered event does not reopen it."""
        kept = [i for i in self.recent_event_ids if i not in event_ids] + list(event_ids)
        self.recent_event_ids = kept[-RECENT_IDS_KEPT:]

    def copy(self) -> ConversationState:
        return ConversationState(
            tenant=self.tenant,
            conversation_id=self.conversation_id,
            waits=[wait.copy() for wait in self.waits],
            answered_until=self.answered_until,
            recent_event_ids=list(self.recent_event_ids),
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "v": STATE_VERSION,
            "tenant": self.tenant,
            "conversation_id": self.conversation_id,
            "waits": [wait.to_dict() for wait in self.waits],
            "recent_event_ids": list(self.recent_event_ids),
        }
        if self.answered_until is not None:
            data["answered_until"] = to_us(self.answered_until)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConversationState:
        """Rebuild a stored state; a malformed value raises ValueError naming what is wrong."""
        try:
            if data.get("v") != STATE_VERSION:
                raise ValueError(f"unsupported state version {data.get('v')!r}")
            answered = data.get("answered_until")
            return cls(
                tenant=str(data["tenant"]),
                conversation_id=str(data["conversation_id"]),
                waits=[Wait.from_dict(w) for w in data["waits"]],
                answered_until=None if answered is None else from_us(int(answered)),
                recent_event_ids=[str(i) for i in data["recent_event_ids"]],
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed conversation state: {exc!r}") from exc
