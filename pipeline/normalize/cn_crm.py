"""Chinese-CRM operation logs (纷享销客 and alike): per-record logs with an operator object.

Shape: logId, objectApiName, dataId, operationType (English code or the UI's Chinese label),
operationTime (ms), operator {id, name, department}, origin, message, changes
[{fieldApiName, fieldLabel, oldValue, newValue}]. Values may be plain or {id, name} objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.normalize.build import (
    EventFactory,
    Party,
    resolve_customer,
    resolve_rep,
    tier_from_rating,
)
from pipeline.normalize.errors import Reject
from pipeline.normalize.payload import get_str, opt_any_str, opt_obj, opt_str
from pipeline.timestamps import parse_epoch
from schemas.events import Actor, CanonicalEvent, EventKind

FORMAT = "cn_crm_oplog"

#: operationType (code or label) -> (kind, pool action)
_OPERATIONS: dict[str, tuple[EventKind, str]] = {
    "create": (EventKind.LEAD_CREATED, ""),
    "新建": (EventKind.LEAD_CREATED, ""),
    "assign": (EventKind.LEAD_ASSIGNED, "assign"),
    "分配": (EventKind.LEAD_ASSIGNED, "assign"),
    "claim": (EventKind.LEAD_ASSIGNED, "claim"),
    "领取": (EventKind.LEAD_ASSIGNED, "claim"),
    "transfer": (EventKind.OWNER_CHANGED, ""),
    "转移": (EventKind.OWNER_CHANGED, ""),
    "更换负责人": (EventKind.OWNER_CHANGED, ""),
    "return": (EventKind.OWNER_CHANGED, "return"),
    "退回": (EventKind.OWNER_CHANGED, "return"),
    "回收": (EventKind.OWNER_CHANGED, "recycle"),
    "change_stage": (EventKind.STAGE_CHANGED, ""),
    "更改阶段": (EventKind.STAGE_CHANGED, ""),
    "change_rating": (EventKind.RATING_CHANGED, ""),
    "更改级别": (EventKind.RATING_CHANGED, ""),
    "edit": (EventKind.FIELD_CHANGED, ""),
    "编辑": (EventKind.FIELD_CHANGED, ""),
}
_FIELD_KINDS = {
    "owner": EventKind.OWNER_CHANGED,
    "stage": EventKind.STAGE_CHANGED,
    "leads_stage": EventKind.STAGE_CHANGED,
    "rating": EventKind.RATING_CHANGED,
    "level": EventKind.RATING_CHANGED,
    "customer_level": EventKind.RATING_CHANGED,
}
_ORIGINS = {
    "ui": "ui",
    "web": "ui",
    "app": "ui",
    "手动": "ui",
    "api": "api",
    "openapi": "api",
    "接口": "api",
    "auto": "automatic",
    "automatic": "automatic",
    "自动分配": "automatic",
    "回收规则": "automatic",
    "workflow": "automatic",
    "系统": "automatic",
}
_OBJECT_TYPES = {
    "LeadsObj": "lead",
    "AccountObj": "customer",
    "NewOpportunityObj": "opportunity",
    "OpportunityObj": "opportunity",
    "ContactObj": "contact",
}


def looks_like_oplog(doc: Mapping[str, Any]) -> bool:
    return "operationType" in doc and "dataId" in doc


def _value_id(value: Any) -> str:
    """Owner values come as an id or as {id, name}."""
    if isinstance(value, dict):
        return opt_any_str(value, "id")
    if value is None or isinstance(value, list):
        return ""
    return str(value)


def _changes(doc: Mapping[str, Any]) -> list[Change]:
    rows = doc.get("changes", [])
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise Reject("wrong_type", "changes must be a list of objects")
    return [
        (
            opt_str(row, "fieldApiName", f"changes[{n}]"),
            _value_id(row.get("oldValue")),
            _value_id(row.get("newValue")),
        )
        for n, row in enumerate(rows)
    ]


Change = tuple[str, str, str]  # field, old value, new value


def _planned(kind: EventKind, changes: list[Change]) -> list[tuple[EventKind, str, str, str]]:
    """Which events one log yields: one per edited field for an edit, else one."""
    if kind is EventKind.FIELD_CHANGED:
        planned = [(_FIELD_KINDS.get(f.lower(), kind), f, old, new) for f, old, new in changes]
        return planned or [(kind, "", "", "")]
    wanted = {
        EventKind.STAGE_CHANGED: ("stage", "leads_stage"),
        EventKind.RATING_CHANGED: ("rating", "level", "customer_level"),
    }.get(kind, ("owner",))
    match = next((c for c in changes if c[0].lower() in wanted), None)
    if match is None and kind in (EventKind.STAGE_CHANGED, EventKind.RATING_CHANGED) and changes:
        match = changes[0]
    field, old, new = match or ("", "", "")
    return [(kind, field, old, new)]


def adapt(doc: Mapping[str, Any], factory: EventFactory) -> list[CanonicalEvent]:
    log_id = get_str(doc, "logId")
    record_id = get_str(doc, "dataId")
    operation = get_str(doc, "operationType")
    occurred_at = parse_epoch(doc.get("operationTime"), "ms", factory.now)
    operator = opt_obj(doc, "operator")
    operator_id = opt_any_str(operator, "id")
    origin_raw = opt_any_str(doc, "origin")
    origin = _ORIGINS.get(origin_raw.lower(), origin_raw.lower() or ("ui" if operator_id else ""))
    kind, pool_action = _OPERATIONS.get(operation, (EventKind.OTHER, ""))
    object_type = _OBJECT_TYPES.get(opt_str(doc, "objectApiName"), opt_str(doc, "objectApiName"))
    directory = factory.directory
    customer_raw = opt_str(doc, "accountId") or record_id
    customer = resolve_customer(directory, "crm", customer_raw)
    operator_is_rep = bool(operator_id) and directory.rep_for("crm", operator_id) is not None
    integration = origin == "api" and not operator_is_rep  # e.g. a web form writing leads
    automatic = origin == "automatic" or not operator_id or integration
    planned = _planned(kind, _changes(doc))
    events = []
    for event_kind, field, old, new in planned:
        if event_kind in (EventKind.LEAD_ASSIGNED, EventKind.OWNER_CHANGED, EventKind.LEAD_CREATED):
            new_owner = new or (operator_id if pool_action == "claim" else "")
            rep = resolve_rep(directory, "crm", new_owner) if new_owner else Party()
        else:
            rep = resolve_rep(directory, "crm", operator_id)
        source_id = log_id if len(planned) == 1 else f"{log_id}:{field}"
        events.append(
            factory.make(
                source_format=FORMAT,
                source_id=source_id,
                occurred_at=occurred_at,
                kind=event_kind,
                actor=Actor.SYSTEM if automatic else Actor.REP,
                actor_id=operator_id,
                rep=rep,
                customer=customer,
                conversation_id=f"crm:{record_id}",
                text=opt_str(doc, "message"),
                tier=tier_from_rating(event_kind, new),
                attrs={
                    "field": field,
                    "old_value": old,
                    "new_value": new,
                    "origin": origin,
                    "object_type": object_type,
                    "operation": operation,
                    "pool_action": pool_action,
                    "operator_name": opt_any_str(operator, "name"),
                    "department": opt_any_str(operator, "department"),
                },
            )
        )
    return events
