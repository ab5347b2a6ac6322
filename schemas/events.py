"""The one canonical event that sits between the four source families and everything downstream.

Adapters are the only code that knows a vendor's field names; they produce these.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Source(StrEnum):
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    CRM = "crm"
    EMAIL = "email"


class Actor(StrEnum):
    """Who acted: decides which signals count (objections are customers') and the reply clock."""

    REP = "rep"
    CUSTOMER = "customer"
    SYSTEM = "system"


class EventKind(StrEnum):
    MESSAGE = "message"  # chat text (WeCom/DingTalk)
    FILE = "file"
    LINK = "link"
    DOCUMENT = "document"  # WeCom docmsg, shared docs
    MINI_PROGRAM = "mini_program"  # WeCom weapp
    MEDIA = "media"  # image, voice, video, emotion
    MEETING = "meeting"
    CALENDAR = "calendar"
    CARD = "card"
    LOCATION = "location"
    RECALL = "recall"  # message withdrawn: never rep activity, never a latency clock event
    SWITCH = "switch"  # WeCom session switch record
    CONSENT = "consent"  # archive agree/disagree notices
    EMAIL_SENT = "email_sent"  # a mail written by a rep or a customer (mailbox-derived)
    EMAIL_STATUS = "email_status"  # ESP events: processed, delivered, open, click, bounce...
    LEAD_CREATED = "lead_created"
    LEAD_ASSIGNED = "lead_assigned"
    OWNER_CHANGED = "owner_changed"
    STAGE_CHANGED = "stage_changed"
    RATING_CHANGED = "rating_changed"
    FIELD_CHANGED = "field_changed"
    CONTACT_CHANGED = "contact_changed"  # WeCom change_external_contact, DingTalk track
    TAG_CHANGED = "tag_changed"
    MEMBERSHIP = "membership"  # group member added/removed
    OTHER = "other"  # a type we do not know yet: passed through, never rejected


#: Kinds that are a person talking to the other side: they may start or stop a latency clock.
CONVERSATIONAL_KINDS = frozenset(
    {
        EventKind.MESSAGE,
        EventKind.FILE,
        EventKind.LINK,
        EventKind.DOCUMENT,
        EventKind.MINI_PROGRAM,
        EventKind.MEDIA,
        EventKind.MEETING,
        EventKind.CALENDAR,
        EventKind.CARD,
        EventKind.LOCATION,
        EventKind.EMAIL_SENT,
        EventKind.OTHER,
    }
)

#: Kinds that count as "material sent" evidence when a rep produces them.
MATERIAL_KINDS = frozenset(
    {EventKind.FILE, EventKind.LINK, EventKind.DOCUMENT, EventKind.MINI_PROGRAM}
)

#: Kinds that are a change to the customer record.
RECORD_CHANGE_KINDS = frozenset(
    {
        EventKind.LEAD_CREATED,
        EventKind.LEAD_ASSIGNED,
        EventKind.OWNER_CHANGED,
        EventKind.STAGE_CHANGED,
        EventKind.RATING_CHANGED,
        EventKind.FIELD_CHANGED,
        EventKind.CONTACT_CHANGED,
        EventKind.TAG_CHANGED,
    }
)


class CanonicalEvent(BaseModel):
    """One thing that happened, in one shape whatever the source."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(min_length=1, max_length=512)
    tenant: str = "default"
    source: Source
    source_format: str  # e.g. wecom_archive, sendgrid, mailbox, fxiaoke_oplog
    occurred_at: datetime
    kind: EventKind
    actor: Actor
    actor_id: str = ""  # the raw id of whoever did it (userid, email, operator id)
    rep_id: str = ""  # the rep responsible: the actor when a rep acts, else the owner if known
    customer_id: str = ""
    customer_tier: str = ""  # A / B / C, or empty when unknown
    conversation_id: str = Field(min_length=1)
    text: str = ""
    text_truncated: bool = False
    parent_id: str = ""  # email: the message this one replies to
    attrs: dict[str, str] = Field(default_factory=dict)  # field/old/new, subject, url, filename...
    signals: tuple[str, ...] = ()  # filled by the tagger

    @field_validator("occurred_at")
    @classmethod
    def _must_be_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")
        return value

    @property
    def starts_or_stops_clock(self) -> bool:
        """Recall, switch, consent, ESP status and record changes never touch a reply clock."""
        return self.kind in CONVERSATIONAL_KINDS


class Rejection(BaseModel):
    """Why a raw record could not become a canonical event; goes to the dead-letter topic."""

    model_config = ConfigDict(frozen=True)

    source: str
    reason: str  # a short code: invalid_json, missing_field, bad_timestamp, signature, ...
    message: str  # human-readable detail
    raw: bytes = b""  # the raw bytes, or a prefix of them for huge bodies
    raw_truncated: bool = False
    topic: str = ""
    partition: int = -1
    offset: int = -1
