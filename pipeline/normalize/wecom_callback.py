"""WeCom customer-record XML callbacks: change_external_contact and change_external_tag.

The body comes from outside the company: defusedxml refuses any DOCTYPE or entity
declaration (billion laughs, external entities) before anything is expanded.
"""

from __future__ import annotations

import hashlib
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from pipeline.normalize.build import EventFactory, Party, resolve_customer, resolve_rep
from pipeline.normalize.errors import Reject
from pipeline.normalize.payload import clean_text, decode_utf8
from pipeline.normalize.wecom_archive import one_to_one_conversation
from pipeline.timestamps import parse_epoch
from schemas.events import Actor, CanonicalEvent, EventKind

FORMAT = "wecom_callback"

#: ChangeTypes the customer starts (they add or delete the rep); the rest are the rep's doing.
_CUSTOMER_CHANGES = frozenset({"del_follow_user", "add_half_external_contact"})
_SYSTEM_CHANGES = frozenset({"transfer_fail"})


def parse_xml(raw: bytes) -> Element:
    decode_utf8(raw)
    try:
        return fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise Reject("xml_forbidden", f"{type(error).__name__}: DOCTYPE/entities refused") from None
    except ParseError as error:
        raise Reject("invalid_xml", str(error)[:200]) from None


def _fields(root: Element) -> dict[str, str]:
    return {child.tag: clean_text((child.text or "").strip()) for child in root}


def _callback_id(fields: dict[str, str]) -> str:
    """Callbacks carry no id; a digest of their content is stable across re-deliveries."""
    parts = [f"{key}={fields[key]}" for key in sorted(fields) if key != "WelcomeCode"]
    return "cb:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _actor(change_type: str) -> Actor:
    if change_type in _CUSTOMER_CHANGES:
        return Actor.CUSTOMER
    if change_type in _SYSTEM_CHANGES:
        return Actor.SYSTEM
    return Actor.REP


def adapt(raw: bytes, factory: EventFactory) -> list[CanonicalEvent]:
    root = parse_xml(raw)
    if root.tag != "xml":
        raise Reject("unknown_shape", f"root element <{root.tag}> is not a WeCom callback")
    fields = _fields(root)
    event = fields.get("Event", "")
    if not event:
        raise Reject("missing_field", "Event is missing")
    occurred_at = parse_epoch(fields.get("CreateTime") or None, "s", factory.now)
    change_type = fields.get("ChangeType", "")
    attrs = {"change_type": change_type, "event": event, "state": fields.get("State", "")}
    if event == "change_external_tag":
        tag_id = fields.get("Id", "")
        attrs |= {"tag_id": tag_id, "tag_type": fields.get("TagType", "")}
        return [
            factory.make(
                source_format=FORMAT,
                source_id=_callback_id(fields),
                occurred_at=occurred_at,
                kind=EventKind.TAG_CHANGED,
                actor=Actor.SYSTEM,
                actor_id="",
                rep=Party(),
                customer=Party(),
                conversation_id=f"wecom:tag:{tag_id or 'list'}",
                attrs=attrs,
            )
        ]
    user = fields.get("UserID", "")
    external = fields.get("ExternalUserID", "")
    known = event == "change_external_contact"
    if known and not (user and external) and change_type != "transfer_fail":
        raise Reject("missing_field", "UserID and ExternalUserID are required")
    rep = resolve_rep(factory.directory, "wecom", user)
    customer = resolve_customer(factory.directory, "wecom", external)
    actor = _actor(change_type)
    if user and external:
        conversation = one_to_one_conversation(user, external)
    else:
        conversation = f"wecom:{user or external or event}"
    return [
        factory.make(
            source_format=FORMAT,
            source_id=_callback_id(fields),
            occurred_at=occurred_at,
            kind=EventKind.CONTACT_CHANGED if known else EventKind.OTHER,
            actor=actor,
            actor_id=external if actor is Actor.CUSTOMER else user,
            rep=rep,
            customer=customer,
            conversation_id=conversation,
            attrs=attrs,
        )
    ]
