"""Salesforce field-history rows and Change Data Capture events to record-change events."""

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
from pipeline.normalize.payload import get_str, opt_any_str, opt_obj, opt_str, opt_str_list
from pipeline.timestamps import parse_epoch, parse_iso8601
from schemas.events import Actor, CanonicalEvent, EventKind

#: History tables name the parent record by its own id column.
_PARENT_COLUMNS = {
    "LeadId": "Lead",
    "OpportunityId": "Opportunity",
    "AccountId": "Account",
    "ContactId": "Contact",
    "CaseId": "Case",
    "ParentId": "",
}
_FIELD_KINDS = {
    "owner": EventKind.OWNER_CHANGED,
    "ownerid": EventKind.OWNER_CHANGED,
    "ownerassignment": EventKind.OWNER_CHANGED,
    "stagename": EventKind.STAGE_CHANGED,
    "status": EventKind.STAGE_CHANGED,
    "rating": EventKind.RATING_CHANGED,
}
#: CDC lists these on every update; they say nothing about the sales process.
_SYSTEM_FIELDS = frozenset({"LastModifiedDate", "SystemModstamp", "LastModifiedById"})
#: Ids of Salesforce queues start with 00G: a record owned by a queue is not assigned to a rep.
_QUEUE_PREFIX = "00G"


def looks_like_history(doc: Mapping[str, Any]) -> bool:
    return "Field" in doc and "CreatedDate" in doc


def find_cdc_header(doc: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The header sits at the top, under `payload` (CometD) or `data.payload`."""
    for candidate in (doc, doc.get("payload"), opt_obj(doc, "data").get("payload")):
        if isinstance(candidate, dict) and isinstance(candidate.get("ChangeEventHeader"), dict):
            return candidate
    return None


def field_kind(field: str, object_type: str) -> EventKind:
    if field.lower() == "created" and object_type == "Lead":
        return EventKind.LEAD_CREATED
    return _FIELD_KINDS.get(field.lower(), EventKind.FIELD_CHANGED)


def history(doc: Mapping[str, Any], factory: EventFactory) -> list[CanonicalEvent]:
    """An owner change is two rows (EntityId ids, Text names): only the id row becomes an event."""
    row_id = get_str(doc, "Id")
    field = get_str(doc, "Field")
    parent_column = next((c for c in _PARENT_COLUMNS if doc.get(c)), "")
    if not parent_column:
        raise Reject("missing_field", "no parent record id (LeadId, OpportunityId, ParentId...)")
    record_id = get_str(doc, parent_column)
    object_type = _PARENT_COLUMNS[parent_column] or opt_str(doc, "ParentType")
    kind = field_kind(field, object_type)
    data_type = opt_str(doc, "DataType")
    if kind is EventKind.OWNER_CHANGED and data_type == "Text":
        return []
    old_value = opt_any_str(doc, "OldValue")
    new_value = opt_any_str(doc, "NewValue")
    editor = opt_str(doc, "CreatedById")
    directory = factory.directory
    rep = resolve_rep(directory, "crm", new_value if kind is EventKind.OWNER_CHANGED else editor)
    return [
        factory.make(
            source_format="salesforce_history",
            source_id=row_id,
            occurred_at=parse_iso8601(doc.get("CreatedDate"), factory.now),
            kind=kind,
            actor=Actor.REP if editor else Actor.SYSTEM,
            actor_id=editor,
            rep=rep,
            customer=resolve_customer(directory, "crm", record_id),
            conversation_id=f"crm:{record_id}",
            tier=tier_from_rating(kind, new_value),
            attrs={
                "field": field,
                "old_value": old_value,
                "new_value": new_value,
                "object_type": object_type,
                "data_type": data_type,
            },
        )
    ]


def _origin(change_origin: str) -> str:
    """Salesforce fills changeOrigin for API writes only; an empty one is a user in the UI."""
    if not change_origin:
        return "ui"
    return "automatic" if "apex" in change_origin.lower() else "api"


def cdc(body: Mapping[str, Any], factory: EventFactory) -> list[CanonicalEvent]:
    """One event per record and changed field; CREATE of a Lead is LEAD_CREATED."""
    header = body["ChangeEventHeader"]
    entity = get_str(header, "entityName", "ChangeEventHeader")
    change_type = get_str(header, "changeType", "ChangeEventHeader")
    record_ids = opt_str_list(header, "recordIds", "ChangeEventHeader")
    if not record_ids:
        raise Reject("missing_field", "ChangeEventHeader.recordIds is empty")
    occurred_at = parse_epoch(header.get("commitTimestamp"), "ms", factory.now)
    user = opt_str(header, "commitUser", "ChangeEventHeader")
    base_id = ":".join(
        (
            get_str(header, "transactionKey", "ChangeEventHeader"),
            opt_any_str(header, "sequenceNumber"),
        )
    )
    changes: list[tuple[str, EventKind]]
    if change_type == "CREATE":
        created = EventKind.LEAD_CREATED if entity == "Lead" else EventKind.FIELD_CHANGED
        changes = [("created", created)]
    elif change_type == "UPDATE":
        fields = [f for f in opt_str_list(header, "changedFields") if f not in _SYSTEM_FIELDS]
        changes = [(f, field_kind(f, entity)) for f in fields] or [("", EventKind.OTHER)]
    else:
        changes = [("", EventKind.OTHER)]
    origin = _origin(opt_str(header, "changeOrigin", "ChangeEventHeader"))
    directory = factory.directory
    events = []
    for record_id in record_ids:
        for field, kind in changes:
            new_value = opt_any_str(body, field) if field else ""
            owner = opt_any_str(body, "OwnerId")
            assigned = owner and not owner.startswith(_QUEUE_PREFIX)
            if kind is EventKind.OWNER_CHANGED or kind is EventKind.LEAD_CREATED:
                rep = resolve_rep(directory, "crm", owner) if assigned else Party()
            else:
                rep = resolve_rep(directory, "crm", user)
            events.append(
                factory.make(
                    source_format="salesforce_cdc",
                    source_id=f"cdc:{base_id}:{record_id}:{field or change_type.lower()}",
                    occurred_at=occurred_at,
                    kind=kind,
                    actor=Actor.SYSTEM if origin == "automatic" or not user else Actor.REP,
                    actor_id=user,
                    rep=rep,
                    customer=resolve_customer(directory, "crm", record_id),
                    conversation_id=f"crm:{record_id}",
                    tier=tier_from_rating(kind, new_value),
                    attrs={
                        "field": field,
                        "new_value": new_value,
                        "object_type": entity,
                        "change_type": change_type,
                        "origin": origin,
                    },
                )
            )
    return events
