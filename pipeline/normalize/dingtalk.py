"""DingTalk robot message callbacks, crm_customer_track callbacks and group membership events."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from pipeline.normalize.build import EventFactory, Party, resolve_customer, resolve_rep
from pipeline.normalize.errors import Reject
from pipeline.normalize.payload import get_str, opt_any_str, opt_obj, opt_str, opt_str_list
from pipeline.timestamps import parse_epoch
from schemas.events import Actor, CanonicalEvent, EventKind

_ROBOT_KINDS = {
    "text": EventKind.MESSAGE,
    "richText": EventKind.MESSAGE,
    "markdown": EventKind.MESSAGE,
    "picture": EventKind.MEDIA,
    "audio": EventKind.MEDIA,
    "video": EventKind.MEDIA,
    "file": EventKind.FILE,
    "link": EventKind.LINK,
}
#: chat_add_member, chat_remove_member, chat_quit, chat_update_owner, chat_disband, ...
_MEMBERSHIP_PREFIX = "chat_"
TRACK_EVENT = "crm_customer_track"


def _robot_text(msgtype: str, doc: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    if msgtype == "text":
        return opt_str(opt_obj(doc, "text"), "content", "text").strip(), {}
    content = opt_obj(doc, "content")
    if msgtype == "richText":
        parts = content.get("richText", [])
        if not isinstance(parts, list):
            raise Reject("wrong_type", "content.richText must be a list")
        return "".join(opt_any_str(p, "text") for p in parts if isinstance(p, dict)), {}
    if msgtype == "file":
        name = opt_any_str(content, "fileName")
        return name, {"filename": name}
    return opt_any_str(content, "text") or opt_any_str(content, "recognition"), {}


def _robot(doc: Mapping[str, Any], factory: EventFactory) -> CanonicalEvent:
    msg_id = get_str(doc, "msgId")
    conversation = get_str(doc, "conversationId")
    occurred_at = parse_epoch(doc.get("createAt"), "ms", factory.now)
    msgtype = opt_str(doc, "msgtype") or "text"
    staff_id = opt_str(doc, "senderStaffId")
    sender_id = opt_str(doc, "senderId")
    sender_corp = opt_str(doc, "senderCorpId")
    own_corp = opt_str(doc, "chatbotCorpId")
    foreign = bool(sender_corp and own_corp and sender_corp != own_corp)
    directory = factory.directory
    staff = bool(staff_id) and not foreign
    if staff_id and directory.is_staff(staff_id, "dingtalk") is False:
        staff = False
    text, attrs = _robot_text(msgtype, doc)
    if staff:
        rep = resolve_rep(directory, "dingtalk", staff_id)
        customer = Party()
        actor_id = staff_id
    else:
        actor_id = sender_id or staff_id
        customer = resolve_customer(directory, "dingtalk", actor_id)
        rep = Party(id=customer.owner) if customer.owner else Party()
    attrs |= {
        "msgtype": msgtype,
        "conversation_type": "group" if opt_any_str(doc, "conversationType") == "2" else "single",
        "sender_nick": opt_str(doc, "senderNick"),
        "title": opt_str(doc, "conversationTitle"),
    }
    return factory.make(
        source_format="dingtalk_robot",
        source_id=msg_id,
        occurred_at=occurred_at,
        kind=_ROBOT_KINDS.get(msgtype, EventKind.OTHER),
        actor=Actor.REP if staff else Actor.CUSTOMER,
        actor_id=actor_id,
        rep=rep,
        customer=customer,
        conversation_id=conversation,
        text=text,
        attrs=attrs,
    )


def _tracks(value: Any) -> list[Mapping[str, Any]]:
    """`tracks` arrives as a list, or as a JSON string holding the list."""
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise Reject("invalid_json", "tracks is a string that is not JSON") from None
    if not isinstance(value, list) or not value:
        raise Reject("missing_field" if not value else "wrong_type", "tracks must be a list")
    if not all(isinstance(track, dict) for track in value):
        raise Reject("wrong_type", "every track must be an object")
    return value


def _track_events(doc: Mapping[str, Any], factory: EventFactory) -> list[CanonicalEvent]:
    """Old envelope: EventTime/BizId/tracks; new: eventId/eventBornTime/data.tracks."""
    if "eventId" in doc:
        envelope_id = get_str(doc, "eventId")
        tracks = _tracks(opt_obj(doc, "data").get("tracks"))
        fallback_time = doc.get("eventBornTime")
    else:
        envelope_id = get_str(doc, "BizId")
        tracks = _tracks(doc.get("tracks"))
        fallback_time = doc.get("EventTime")
    events = []
    for index, track in enumerate(tracks):
        creator = opt_str(track, "creator")
        customer_raw = get_str(track, "customerId", f"tracks[{index}]")
        occurred_at = parse_epoch(track.get("gmtCreate", fallback_time), "ms", factory.now)
        events.append(
            factory.make(
                source_format="dingtalk_crm_track",
                source_id=f"track:{envelope_id}:{index}",
                occurred_at=occurred_at,
                kind=EventKind.CONTACT_CHANGED,
                actor=Actor.REP if creator else Actor.SYSTEM,
                actor_id=creator,
                rep=resolve_rep(factory.directory, "dingtalk", creator),
                customer=resolve_customer(factory.directory, "dingtalk", customer_raw),
                conversation_id=f"dingtalk:crm:{customer_raw}",
                text=opt_any_str(track, "content"),
                attrs={
                    "change_type": TRACK_EVENT,
                    "track_type": opt_any_str(track, "type"),
                    "track_subtype": opt_any_str(track, "subType"),
                },
            )
        )
    return events


def _membership(doc: Mapping[str, Any], factory: EventFactory) -> CanonicalEvent:
    event_type = get_str(doc, "EventType")
    chat_id = get_str(doc, "ChatId")
    operator = opt_str(doc, "Operator")
    occurred_at = parse_epoch(doc.get("TimeStamp"), "ms", factory.now)
    members = opt_str_list(doc, "UserId")
    digest = hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()[:24]
    return factory.make(
        source_format="dingtalk_group_event",
        source_id=f"group:{digest}",
        occurred_at=occurred_at,
        kind=EventKind.MEMBERSHIP,
        actor=Actor.REP if operator else Actor.SYSTEM,
        actor_id=operator,
        rep=resolve_rep(factory.directory, "dingtalk", operator),
        customer=Party(),
        conversation_id=chat_id,
        attrs={"change_type": event_type, "members": ",".join(members)},
    )


def adapt(doc: Any, factory: EventFactory) -> list[CanonicalEvent]:
    if not isinstance(doc, dict):
        raise Reject("unknown_shape", "a DingTalk callback is a JSON object")
    if "msgId" in doc:
        return [_robot(doc, factory)]
    event_type = doc.get("EventType") or doc.get("eventType")
    if event_type == TRACK_EVENT or "tracks" in doc:
        return _track_events(doc, factory)
    if isinstance(event_type, str) and event_type.startswith(_MEMBERSHIP_PREFIX):
        return [_membership(doc, factory)]
    raise Reject("unknown_shape", f"not a robot message, CRM track or group event: {event_type!r}")
