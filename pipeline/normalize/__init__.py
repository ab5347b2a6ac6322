"""The normalize stage: one raw vendor record in, canonical events or a Rejection out.

Shapes recognised within each source family (source_format in brackets):
* wecom: decrypted archive messages of every msgtype, recall and switch records
  [wecom_archive]; XML callbacks change_external_contact and change_external_tag
  [wecom_callback].
* dingtalk: robot message callbacks [dingtalk_robot]; crm_customer_track, old and new
  envelope [dingtalk_crm_track]; chat_* group events [dingtalk_group_event].
* crm: Chinese-CRM operation logs [cn_crm_oplog]; Salesforce field history
  [salesforce_history] and Change Data Capture [salesforce_cdc].
* email: SendGrid event arrays [sendgrid]; Mailgun webhooks [mailgun]; Amazon SES events,
  bare or inside SNS [ses]; mailbox messages as JSON or RFC 822 [mailbox].

`normalize_record` never raises: a record that cannot be read becomes a Rejection carrying
its bytes, a reason code from `REASONS` and its topic/partition/offset, so a poison record
goes to the dead-letter topic instead of stopping its partition.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from pipeline.normalize import (
    cn_crm,
    dingtalk,
    email_esp,
    email_mailbox,
    salesforce,
    wecom_archive,
    wecom_callback,
)
from pipeline.normalize.build import EventFactory
from pipeline.normalize.context import NormalizeContext
from pipeline.normalize.errors import REASONS, PartReject, Reject
from pipeline.normalize.payload import parse_json, strip_raw
from pipeline.timestamps import TimestampError
from schemas.events import CanonicalEvent, Rejection, Source

__all__ = ["REASONS", "NormalizeContext", "normalize_record", "RAW_PREFIX_BYTES"]

#: How much of a record a dead letter keeps when it cannot keep all of it (flagged truncated).
RAW_PREFIX_BYTES = 64 * 1024

Outcome = list[CanonicalEvent | PartReject]


def _wecom(raw: bytes, factory: EventFactory, ctx: NormalizeContext) -> Outcome:
    if raw.startswith(b"<"):
        return list(wecom_callback.adapt(raw, factory))
    doc = parse_json(raw)
    if wecom_archive.looks_like_archive(doc):
        return list(wecom_archive.adapt(doc, factory))
    raise Reject("unknown_shape", "neither an archive message (msgid) nor an XML callback")


def _dingtalk(raw: bytes, factory: EventFactory, ctx: NormalizeContext) -> Outcome:
    return list(dingtalk.adapt(parse_json(raw), factory))


def _crm(raw: bytes, factory: EventFactory, ctx: NormalizeContext) -> Outcome:
    doc = parse_json(raw)
    if not isinstance(doc, dict):
        raise Reject("unknown_shape", "a CRM record is a JSON object")
    if cn_crm.looks_like_oplog(doc):
        return list(cn_crm.adapt(doc, factory))
    if salesforce.looks_like_history(doc):
        return list(salesforce.history(doc, factory))
    body = salesforce.find_cdc_header(doc)
    if body is not None:
        return list(salesforce.cdc(body, factory))
    raise Reject("unknown_shape", "not an operation log, field-history row or CDC event")


def _email(raw: bytes, factory: EventFactory, ctx: NormalizeContext) -> Outcome:
    if not raw.startswith((b"{", b"[")) and email_mailbox.looks_like_rfc822(raw):
        headers, body = email_mailbox.headers_from_rfc822(raw)
        return [email_mailbox.adapt(headers, body, factory)]
    doc: Any = parse_json(raw)
    if isinstance(doc, list):
        return email_esp.sendgrid(doc, factory)
    if not isinstance(doc, dict):
        raise Reject("unknown_shape", "an email record is a JSON object or array")
    if "sg_event_id" in doc:
        return email_esp.sendgrid([doc], factory)
    if "event-data" in doc or "signature" in doc:
        return [email_esp.mailgun(doc, factory, ctx.mailgun_signing_key)]
    doc = email_esp.unwrap_sns(doc)
    if "mail" in doc and ("eventType" in doc or "notificationType" in doc):
        return [email_esp.ses(doc, factory)]
    if email_mailbox.looks_like_mailbox_json(doc):
        headers, body = email_mailbox.headers_from_json(doc)
        return [email_mailbox.adapt(headers, body, factory)]
    raise Reject("unknown_shape", "not SendGrid, Mailgun, SES or a mailbox message")


_SOURCE_NAMES = frozenset(s.value for s in Source)
_FAMILIES = {
    Source.WECOM: _wecom,
    Source.DINGTALK: _dingtalk,
    Source.CRM: _crm,
    Source.EMAIL: _email,
}


def _rejection(
    source: str, reason: str, message: str, raw: bytes, where: dict[str, Any]
) -> Rejection:
    truncated = len(raw) > RAW_PREFIX_BYTES and reason == "too_large"
    return Rejection(
        source=source,
        reason=reason,
        message=message,
        raw=raw[:RAW_PREFIX_BYTES] if truncated else raw,
        raw_truncated=truncated,
        **where,
    )


def _adapt(source: str, raw: bytes, ctx: NormalizeContext) -> Outcome:
    if source not in _SOURCE_NAMES:
        raise Reject("unknown_source", f"source must be one of {[s.value for s in Source]}")
    if len(raw) > ctx.max_raw_bytes:
        raise Reject("too_large", f"{len(raw)} bytes > max_raw_bytes {ctx.max_raw_bytes}")
    body = strip_raw(raw)
    if not body:
        raise Reject("empty", "the record is empty")
    family = Source(source)
    factory = EventFactory(
        source=family,
        directory=ctx.directory,
        tenant=ctx.tenant,
        max_text_chars=ctx.max_text_chars,
        now=ctx.now(),
    )
    return _FAMILIES[family](body, factory, ctx)


def normalize_record(
    source: str,
    raw: bytes,
    ctx: NormalizeContext,
    *,
    topic: str = "",
    partition: int = -1,
    offset: int = -1,
) -> list[CanonicalEvent | Rejection]:
    """Never raises. Auto-detects the shape within the source family.

    Returns canonical events, or exactly one Rejection for the whole record; a batch (SendGrid
    array) may return events for its good elements plus one Rejection per bad element.
    """
    where = {"topic": topic, "partition": partition, "offset": offset}
    try:
        outcome = _adapt(source, raw, ctx)
    except (Reject, TimestampError) as error:
        return [_rejection(source, error.reason, str(error), raw, where)]
    except ValidationError as error:
        return [_rejection(source, "wrong_type", str(error)[:500], raw, where)]
    except Exception as error:  # a poison record must never stop its partition
        detail = f"{type(error).__name__}: {error}"
        return [_rejection(source, "internal_error", detail, raw, where)]
    results: list[CanonicalEvent | Rejection] = []
    for item in outcome:
        if isinstance(item, PartReject):
            results.append(_rejection(source, item.reason, item.message, item.raw, where))
        else:
            results.append(item)
    return results
