"""Mailbox-derived messages (IMAP/Exchange exports): threaded so a reply yields a latency sample.

Accepted as a JSON object with the headers at the top level or under `headers` (any case:
Message-ID, In-Reply-To, References, Date, From, To, Cc, Subject, Auto-Submitted) and the
text under `body`, or as a raw RFC 822 message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from pipeline.normalize.build import EventFactory, Party, resolve_customer, resolve_rep
from pipeline.normalize.email_esp import message_key
from pipeline.normalize.errors import Reject
from pipeline.normalize.payload import opt_any_str
from pipeline.timestamps import parse_rfc2822
from schemas.events import Actor, CanonicalEvent, EventKind

FORMAT = "mailbox"
_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:")
_AUTO_SUBJECT = re.compile(
    r"^\s*(自动回复|自動回覆|automatic reply|auto[- ]?reply|out of office|外出|休假)", re.IGNORECASE
)
#: Where the quoted earlier mail starts: its words belong to the earlier sender.
_QUOTE_START = re.compile(
    r"^(-{2,}\s*(original message|原始邮件|原始郵件)\s*-{2,}|在.{0,80}写道[:：]|On .{0,120}wrote:)",
    re.IGNORECASE | re.MULTILINE,
)


def looks_like_rfc822(raw: bytes) -> bool:
    return bool(_HEADER_LINE.match(raw)) and (
        b"\n\n" in raw or b"\r\n\r\n" in raw or b"message-id" in raw[:4096].lower()
    )


def headers_from_json(doc: Mapping[str, Any]) -> tuple[dict[str, str], str]:
    source = doc.get("headers", doc)
    if not isinstance(source, dict):
        raise Reject("wrong_type", "headers must be an object")
    headers = {key.lower(): _header_value(source, key) for key in source}
    body = opt_any_str(doc, "body") or opt_any_str(doc, "text")
    return headers, body


def _header_value(source: Mapping[str, Any], key: str) -> str:
    value = source[key]
    if isinstance(value, list):
        return ", ".join(str(item) for item in value if isinstance(item, str))
    return opt_any_str(source, key)


def looks_like_mailbox_json(doc: Mapping[str, Any]) -> bool:
    source = doc.get("headers", doc)
    return isinstance(source, dict) and any(key.lower() == "message-id" for key in source)


def headers_from_rfc822(raw: bytes) -> tuple[dict[str, str], str]:
    message = message_from_bytes(raw, policy=policy.default)
    headers = {key.lower(): str(value) for key, value in message.items()}
    body = ""
    if isinstance(message, EmailMessage):
        part = message.get_body(preferencelist=("plain", "html"))
        if part is not None:
            try:
                body = part.get_content()
            except (LookupError, ValueError):
                body = ""
    return headers, body


def strip_quoted(body: str) -> str:
    """Keep what this mail says, not the earlier mail it quotes."""
    match = _QUOTE_START.search(body)
    if match:
        body = body[: match.start()]
    return "\n".join(line for line in body.splitlines() if not line.lstrip().startswith(">"))


def _addresses(value: str) -> list[str]:
    return [address.lower() for _, address in getaddresses([value]) if "@" in address]


def _message_ids(value: str) -> list[str]:
    return [key for key in (message_key(part) for part in value.split()) if key]


def _is_auto_reply(headers: Mapping[str, str]) -> bool:
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and auto != "no":
        return True
    if headers.get("x-autoreply") or headers.get("x-autorespond"):
        return True
    if headers.get("precedence", "").strip().lower() == "auto_reply":
        return True
    return bool(_AUTO_SUBJECT.match(headers.get("subject", "")))


def adapt(headers: Mapping[str, str], body: str, factory: EventFactory) -> CanonicalEvent:
    own_id = message_key(headers.get("message-id", ""))
    if not own_id:
        raise Reject("missing_field", "Message-ID is missing")
    senders = _addresses(headers.get("from", ""))
    if not senders:
        raise Reject("missing_field", "From has no address")
    sender = senders[0]
    occurred_at = parse_rfc2822(headers.get("date", ""), factory.now)
    parent = next(iter(_message_ids(headers.get("in-reply-to", ""))), "")
    root = next(iter(_message_ids(headers.get("references", ""))), "") or parent or own_id
    recipients = _addresses(headers.get("to", "")) + _addresses(headers.get("cc", ""))
    directory = factory.directory
    staff = {a for a in [sender, *recipients] if directory.rep_for("email", a) is not None}
    internal = sender in staff and all(a in staff for a in recipients) and bool(recipients)
    auto_reply = _is_auto_reply(headers)
    if sender in staff:
        rep = resolve_rep(directory, "email", sender)
        outside = next((a for a in recipients if a not in staff), "")
        customer = Party() if internal else resolve_customer(directory, "email", outside)
        actor = Actor.REP
    else:
        customer = resolve_customer(directory, "email", sender)
        inside = next((a for a in recipients if a in staff), "")
        rep = resolve_rep(directory, "email", inside) if inside else Party(id=customer.owner)
        actor = Actor.CUSTOMER
    if auto_reply:
        actor = Actor.SYSTEM
    subject = headers.get("subject", "")
    text = "\n\n".join(part for part in (subject, strip_quoted(body).strip()) if part)
    return factory.make(
        source_format=FORMAT,
        source_id=own_id,
        occurred_at=occurred_at,
        kind=EventKind.EMAIL_SENT,
        actor=actor,
        actor_id=sender,
        rep=rep,
        customer=customer,
        conversation_id=f"email:{root}",
        text=text,
        parent_id=parent,
        attrs={
            "subject": subject,
            "auto_reply": "1" if auto_reply else "",
            "internal": "1" if internal else "",
            "to": ",".join(recipients),
        },
    )
