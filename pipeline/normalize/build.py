"""Identity resolution and construction of canonical events shared by every adapter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.identity import Directory
from pipeline.normalize.payload import clean_text
from schemas.events import Actor, CanonicalEvent, EventKind, Source


@dataclass(frozen=True)
class Party:
    """A resolved rep or customer: `mapped` is False when the raw id is not in the directory."""

    id: str = ""
    mapped: bool = True
    tier: str = ""
    owner: str = ""


NOBODY = Party()
_TIERS = frozenset({"A", "B", "C"})


def tier_from_rating(kind: EventKind, new_value: str) -> str:
    """A CRM rating change to A/B/C sets the customer's class; other ratings say nothing."""
    rating = new_value.strip().upper()
    return rating if kind is EventKind.RATING_CHANGED and rating in _TIERS else ""


def resolve_rep(directory: Directory, channel: str, raw_id: str) -> Party:
    if not raw_id:
        return NOBODY
    rep_id = directory.rep_for(channel, raw_id)
    if rep_id is None:
        return Party(id=f"{channel}:{raw_id}", mapped=False)
    return Party(id=rep_id)


def resolve_customer(directory: Directory, channel: str, raw_id: str) -> Party:
    if not raw_id:
        return NOBODY
    customer = directory.customer_for(channel, raw_id)
    if customer is None:
        return Party(id=f"{channel}:{raw_id}", mapped=False)
    return Party(id=customer.customer_id, tier=customer.tier, owner=customer.owner)


def unmapped_label(rep: Party, customer: Party) -> str:
    """'rep', 'customer', 'both' or '' so coverage of the directory can be counted."""
    if not rep.mapped and not customer.mapped:
        return "both"
    if not rep.mapped:
        return "rep"
    if not customer.mapped:
        return "customer"
    return ""


@dataclass
class EventFactory:
    """Fills the fields every event shares (tenant, source, text limits, coverage label).

    One factory serves one raw record: `now` is read once so a batch judges plausibility alike.
    """

    source: Source
    directory: Directory
    tenant: str
    max_text_chars: int
    now: datetime

    def make(
        self,
        *,
        source_format: str,
        source_id: str,
        occurred_at: datetime,
        kind: EventKind,
        actor: Actor,
        actor_id: str,
        rep: Party,
        customer: Party,
        conversation_id: str,
        text: str = "",
        parent_id: str = "",
        attrs: dict[str, str] | None = None,
        tier: str = "",
    ) -> CanonicalEvent:
        text = clean_text(text)
        truncated = len(text) > self.max_text_chars
        if truncated:
            text = text[: self.max_text_chars]
        all_attrs = {key: value for key, value in (attrs or {}).items() if value}
        label = unmapped_label(rep, customer)
        if label:
            all_attrs["unmapped"] = label
        return CanonicalEvent(
            event_id=f"{self.source.value}:{source_id}",
            tenant=self.tenant,
            source=self.source,
            source_format=source_format,
            occurred_at=occurred_at,
            kind=kind,
            actor=actor,
            actor_id=actor_id,
            rep_id=rep.id,
            customer_id=customer.id,
            customer_tier=tier or customer.tier,
            conversation_id=conversation_id,
            text=text,
            text_truncated=truncated,
            parent_id=parent_id,
            attrs=all_attrs,
        )
