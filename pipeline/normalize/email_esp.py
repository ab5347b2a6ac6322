"""Email service provider webhooks: SendGrid event arrays, Mailgun bodies, Amazon SES events.

These are delivery statuses (EMAIL_STATUS): they never start or stop a reply clock. Opens
and clicks are attributed to the recipient, the rest to the system.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any

import orjson

from pipeline.normalize.build import EventFactory, Party, resolve_customer, resolve_rep
from pipeline.normalize.errors import PartReject, Reject
from pipeline.normalize.payload import get_obj, get_str, opt_any_str, opt_obj, opt_str
from pipeline.timestamps import TimestampError, parse_epoch, parse_iso8601
from schemas.events import Actor, CanonicalEvent, EventKind

_RECIPIENT_ACTIONS = frozenset(
    {"open", "click", "opened", "clicked", "unsubscribe", "spamreport", "complained", "complaint"}
)


def message_key(message_id: str) -> str:
    """Message-IDs are compared without angle brackets or surrounding space."""
    return message_id.strip().strip("<>").strip()


def address_of(value: str) -> str:
    """'张伟 <zhangwei@example.cn>' -> 'zhangwei@example.cn'."""
    return parseaddr(value)[1].lower()


def _status_actor(status: str) -> Actor:
    return Actor.CUSTOMER if status.lower() in _RECIPIENT_ACTIONS else Actor.SYSTEM


def _sendgrid_event(item: Mapping[str, Any], factory: EventFactory) -> CanonicalEvent:
    event_id = get_str(item, "sg_event_id")
    status = get_str(item, "event")
    recipient = opt_str(item, "email")
    smtp_id = message_key(opt_str(item, "smtp-id"))
    message_id = opt_str(item, "sg_message_id")
    conversation = f"email:{smtp_id}" if smtp_id else f"email:sg:{message_id or event_id}"
    customer = resolve_customer(factory.directory, "email", recipient)
    rep_id = opt_any_str(item, "rep_id")  # a custom arg senders may attach
    rep = resolve_rep(factory.directory, "rep", rep_id) if rep_id else Party(id=customer.owner)
    return factory.make(
        source_format="sendgrid",
        source_id=event_id,
        occurred_at=parse_epoch(item.get("timestamp"), "s", factory.now),
        kind=EventKind.EMAIL_STATUS,
        actor=_status_actor(status),
        actor_id=recipient,
        rep=rep,
        customer=customer,
        conversation_id=conversation,
        attrs={
            "status": status,
            "url": opt_any_str(item, "url"),
            "reason": opt_any_str(item, "reason"),
            "message_id": smtp_id,
        },
    )


def sendgrid(batch: list[Any], factory: EventFactory) -> list[CanonicalEvent | PartReject]:
    """One batch, many events; a bad element is refused alone so its neighbours survive."""
    if not batch:
        raise Reject("empty", "SendGrid batch is an empty array")
    results: list[CanonicalEvent | PartReject] = []
    for index, item in enumerate(batch):
        try:
            if not isinstance(item, dict):
                raise Reject("wrong_type", f"element {index} is not an object")
            results.append(_sendgrid_event(item, factory))
        except (Reject, TimestampError) as error:
            reason = error.reason
            results.append(PartReject(reason, f"element {index}: {error}", orjson.dumps(item)))
    return results


def verify_mailgun(signature: Mapping[str, Any], key: str) -> None:
    """HMAC-SHA256 of timestamp + token under the signing key, compared in constant time."""
    timestamp = opt_any_str(signature, "timestamp")
    token = opt_any_str(signature, "token")
    given = opt_any_str(signature, "signature")
    expected = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not given or not hmac.compare_digest(expected, given.lower()):
        raise Reject("signature", "Mailgun signature does not verify")


def mailgun(doc: Mapping[str, Any], factory: EventFactory, key: str | None) -> CanonicalEvent:
    if key is not None:
        verify_mailgun(opt_obj(doc, "signature"), key)
    data = get_obj(doc, "event-data")
    status = get_str(data, "event", "event-data")
    headers = opt_obj(opt_obj(data, "message", "event-data"), "headers", "event-data.message")
    message_id = message_key(opt_str(headers, "message-id", "headers"))
    recipient = opt_str(data, "recipient", "event-data")
    sender = address_of(opt_str(headers, "from", "headers"))
    return factory.make(
        source_format="mailgun",
        source_id=get_str(data, "id", "event-data"),
        occurred_at=parse_epoch(data.get("timestamp"), "s", factory.now),
        kind=EventKind.EMAIL_STATUS,
        actor=_status_actor(status),
        actor_id=recipient,
        rep=resolve_rep(factory.directory, "email", sender),
        customer=resolve_customer(factory.directory, "email", recipient),
        conversation_id=f"email:{message_id}" if message_id else f"email:mg:{data['id']}",
        attrs={
            "status": status,
            "subject": opt_str(headers, "subject", "headers"),
            "url": opt_any_str(data, "url"),
            "message_id": message_id,
        },
    )


def unwrap_sns(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """SES events often arrive inside an SNS notification whose Message is a JSON string."""
    if doc.get("Type") == "Notification" and isinstance(doc.get("Message"), str):
        try:
            inner = orjson.loads(doc["Message"])
        except orjson.JSONDecodeError:
            raise Reject("invalid_json", "SNS Message is not JSON") from None
        if not isinstance(inner, dict):
            raise Reject("unknown_shape", "SNS Message is not an object")
        return inner
    return doc


def ses(doc: Mapping[str, Any], factory: EventFactory) -> CanonicalEvent:
    status = opt_str(doc, "eventType") or get_str(doc, "notificationType")
    mail = get_obj(doc, "mail")
    ses_id = get_str(mail, "messageId", "mail")
    detail = opt_obj(doc, status[:1].lower() + status[1:])
    stamp = detail.get("timestamp") or mail.get("timestamp")
    common = opt_obj(mail, "commonHeaders", "mail")
    header_id = message_key(opt_str(common, "messageId", "mail.commonHeaders"))
    destination = mail.get("destination")
    recipient = destination[0] if isinstance(destination, list) and destination else ""
    if not isinstance(recipient, str):
        raise Reject("wrong_type", "mail.destination must be a list of strings")
    detail_key = opt_any_str(detail, "timestamp") or opt_any_str(detail, "feedbackId")
    return factory.make(
        source_format="ses",
        source_id=f"ses:{ses_id}:{status}:{detail_key}",
        occurred_at=parse_iso8601(stamp, factory.now),
        kind=EventKind.EMAIL_STATUS,
        actor=_status_actor(status),
        actor_id=recipient,
        rep=resolve_rep(factory.directory, "email", address_of(opt_str(mail, "source", "mail"))),
        customer=resolve_customer(factory.directory, "email", recipient),
        conversation_id=f"email:{header_id}" if header_id else f"email:ses:{ses_id}",
        attrs={
            "status": status,
            "subject": opt_any_str(common, "subject"),
            "url": opt_any_str(detail, "link"),
            "message_id": header_id,
        },
    )
