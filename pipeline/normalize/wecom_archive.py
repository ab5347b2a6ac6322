"""WeCom conversation-archive records (decrypted GetChatData messages) to canonical events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from pipeline.normalize.build import EventFactory, Party, resolve_customer, resolve_rep
from pipeline.normalize.errors import Reject
from pipeline.normalize.payload import get_str, opt_any_str, opt_obj, opt_str, opt_str_list
from pipeline.timestamps import parse_epoch
from schemas.events import Actor, CanonicalEvent, EventKind

FORMAT = "wecom_archive"
_EXTERNAL_PREFIXES = ("wo", "wm")

#: msgtype -> (kind, name of the payload key). docmsg's payload sits under "doc".
_KINDS: dict[str, tuple[EventKind, str]] = {
    "text": (EventKind.MESSAGE, "text"),
    "markdown": (EventKind.MESSAGE, "info"),
    "mixed": (EventKind.MESSAGE, "mixed"),
    "chatrecord": (EventKind.MESSAGE, "chatrecord"),
    "image": (EventKind.MEDIA, "image"),
    "voice": (EventKind.MEDIA, "voice"),
    "video": (EventKind.MEDIA, "video"),
    "emotion": (EventKind.MEDIA, "emotion"),
    "file": (EventKind.FILE, "file"),
    "link": (EventKind.LINK, "link"),
    "weapp": (EventKind.MINI_PROGRAM, "weapp"),
    "docmsg": (EventKind.DOCUMENT, "doc"),
    "meeting": (EventKind.MEETING, "meeting"),
    "calendar": (EventKind.CALENDAR, "calendar"),
    "card": (EventKind.CARD, "card"),
    "location": (EventKind.LOCATION, "location"),
    "revoke": (EventKind.RECALL, "revoke"),
    "agree": (EventKind.CONSENT, "agree"),
    "disagree": (EventKind.CONSENT, "disagree"),
}


def looks_like_archive(doc: Any) -> bool:
    return isinstance(doc, dict) and "msgid" in doc


def is_staff(factory: EventFactory, userid: str) -> bool:
    """Directory first; otherwise WeCom's wo/wm prefix marks an external contact."""
    known = factory.directory.is_staff(userid, "wecom")
    if known is not None:
        return known
    return not userid.startswith(_EXTERNAL_PREFIXES)


def one_to_one_conversation(a: str, b: str) -> str:
    first, second = sorted((a, b))
    return f"wecom:{first}|{second}"


def _sub_text(item: Mapping[str, Any]) -> str:
    """mixed/chatrecord items carry their payload as a JSON string in `content`."""
    content = item.get("content")
    if isinstance(content, str):
        try:
            content = orjson.loads(content)
        except orjson.JSONDecodeError:
            return content
    if isinstance(content, dict):
        return opt_any_str(content, "content") or opt_any_str(content, "title")
    return ""


def _payload_text(msgtype: str, payload: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """The words a tagger should read, and the attributes worth keeping."""
    if msgtype in ("text", "markdown"):
        return opt_str(payload, "content", msgtype), {}
    if msgtype in ("mixed", "chatrecord"):
        items = payload.get("item", [])
        if not isinstance(items, list):
            raise Reject("wrong_type", f"{msgtype}.item must be a list")
        parts = [opt_any_str(payload, "title")]
        parts += [_sub_text(item) for item in items if isinstance(item, dict)]
        return "\n".join(part for part in parts if part), {}
    if msgtype == "file":
        name = opt_any_str(payload, "filename")
        return name, {"filename": name, "fileext": opt_any_str(payload, "fileext")}
    if msgtype in ("link", "weapp"):
        title = opt_any_str(payload, "title")
        description = opt_any_str(payload, "description")
        url = opt_any_str(payload, "link_url")
        attrs = {"title": title, "url": url, "app": opt_any_str(payload, "displayname")}
        return "\n".join(p for p in (title, description) if p), attrs
    if msgtype == "docmsg":
        title = opt_any_str(payload, "title")
        return title, {"title": title, "url": opt_any_str(payload, "link_url")}
    if msgtype == "meeting":
        topic = opt_any_str(payload, "topic")
        return topic, {"title": topic, "starttime": opt_any_str(payload, "starttime")}
    if msgtype == "calendar":
        title = opt_any_str(payload, "title")
        return "\n".join(p for p in (title, opt_any_str(payload, "remarks")) if p), {
            "title": title,
            "place": opt_any_str(payload, "place"),
        }
    if msgtype == "location":
        return opt_any_str(payload, "address"), {"title": opt_any_str(payload, "title")}
    if msgtype == "card":
        return "", {"card_userid": opt_any_str(payload, "userid")}
    if msgtype == "revoke":
        return "", {"recalled_msgid": opt_any_str(payload, "pre_msgid")}
    return "", {}


def _switch(doc: Mapping[str, Any], factory: EventFactory) -> CanonicalEvent:
    """A session switch record has only msgid, action, time and user."""
    msgid = get_str(doc, "msgid")
    user = get_str(doc, "user")
    staff = is_staff(factory, user)
    rep = resolve_rep(factory.directory, "wecom", user) if staff else Party()
    return factory.make(
        source_format=FORMAT,
        source_id=msgid,
        occurred_at=parse_epoch(doc.get("time"), "ms", factory.now),
        kind=EventKind.SWITCH,
        actor=Actor.REP if staff else Actor.CUSTOMER,
        actor_id=user,
        rep=rep,
        customer=Party(),
        conversation_id=f"wecom:{user}",
        attrs={"msgtype": "switch"},
    )


def _counterparts(
    factory: EventFactory, sender: str, sender_is_staff: bool, recipients: list[str]
) -> tuple[Party, Party]:
    """The rep and customer of a message: the sender, and the first of the other side.

    Recipients are classified only up to the first one of the other side: a group's list can
    be long, and the rest would not change the answer.
    """
    directory = factory.directory
    if sender_is_staff:
        rep = resolve_rep(directory, "wecom", sender)
        external = next((r for r in recipients if not is_staff(factory, r)), None)
        customer = resolve_customer(directory, "wecom", external) if external else Party()
        return rep, customer
    customer = resolve_customer(directory, "wecom", sender)
    staff = next((r for r in recipients if is_staff(factory, r)), None)
    if staff:
        return resolve_rep(directory, "wecom", staff), customer
    if customer.owner:
        return Party(id=customer.owner), customer
    return Party(), customer


def adapt(doc: Mapping[str, Any], factory: EventFactory) -> list[CanonicalEvent]:
    action = opt_str(doc, "action") or "send"
    if action == "switch":
        return [_switch(doc, factory)]
    msgid = get_str(doc, "msgid")
    sender = get_str(doc, "from")
    occurred_at = parse_epoch(doc.get("msgtime"), "ms", factory.now)
    recipients = opt_str_list(doc, "tolist")
    room = opt_str(doc, "roomid")
    msgtype = opt_str(doc, "msgtype") or ("revoke" if action == "recall" else "")
    kind, payload_key = _KINDS.get(msgtype, (EventKind.OTHER, msgtype))
    if action == "recall":
        kind = EventKind.RECALL
    payload = opt_obj(doc, payload_key) if payload_key else {}
    text, attrs = _payload_text(msgtype, payload)
    actor_id = sender
    if kind is EventKind.CONSENT:
        actor_id = opt_str(payload, "userid", msgtype) or sender
    sender_is_staff = is_staff(factory, actor_id)
    rep, customer = _counterparts(factory, actor_id, sender_is_staff, recipients)
    if room:
        conversation = room
    elif recipients:
        conversation = one_to_one_conversation(sender, recipients[0])
    else:
        conversation = f"wecom:{sender}"
    attrs |= {"msgtype": msgtype or "unknown", "action": action, "room": "1" if room else ""}
    return [
        factory.make(
            source_format=FORMAT,
            source_id=msgid,
            occurred_at=occurred_at,
            kind=kind,
            actor=Actor.REP if sender_is_staff else Actor.CUSTOMER,
            actor_id=actor_id,
            rep=rep,
            customer=customer,
            conversation_id=conversation,
            text=text,
            attrs=attrs,
        )
    ]
