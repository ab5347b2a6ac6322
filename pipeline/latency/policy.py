"""SLA thresholds per tenant: which tier must hear back how fast, in wall or business time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline.latency.acknowledgement import AcknowledgementRule
from pipeline.latency.calendar import BusinessCalendar

BASES = ("wall", "business")


def _default_reply_sla() -> dict[str, float]:
    return {"A": 7200.0, "B": 14400.0}


@dataclass(frozen=True)
class SlaPolicy:
    """Thresholds in seconds; a tier missing from a mapping has no SLA (class C by default)."""

    first_reply_s: Mapping[str, float] = field(default_factory=_default_reply_sla)
    lead_unassigned_s: float = 172800.0
    lead_first_response_s: Mapping[str, float] = field(default_factory=_default_reply_sla)
    basis: str = "wall"
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar.load)
    reminder_fraction: float | None = 0.75
    default_tier: str = ""  # tier for customers with no known class
    acknowledgement: AcknowledgementRule = field(default_factory=AcknowledgementRule)

    def __post_init__(self) -> None:
        if self.basis not in BASES:
            raise ValueError(f"basis must be one of {BASES}, got {self.basis!r}")
        if self.reminder_fraction is not None and not 0 < self.reminder_fraction < 1:
            raise ValueError(f"reminder_fraction must be in (0, 1), got {self.reminder_fraction}")
        thresholds = {"lead_unassigned_s": self.lead_unassigned_s}
        for name in ("first_reply_s", "lead_first_response_s"):
            tiers: Mapping[str, float] = getattr(self, name)
            thresholds |= {f"{name}[{tier}]": seconds for tier, seconds in tiers.items()}
        for name, seconds in thresholds.items():
            if not seconds >= 0:
                raise ValueError(f"{name} must be >= 0 seconds, got {seconds}")

    def deadline_after(self, start: datetime, seconds: float) -> datetime:
        """The last instant a reply is still within ``seconds`` of SLA, in this policy's basis."""
        if self.basis == "business":
            return self.calendar.add_business_seconds(start, seconds)
        return start + timedelta(seconds=seconds)
