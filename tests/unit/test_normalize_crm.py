"""Salesforce field history and CDC, Chinese-CRM operation logs."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.identity import Directory
from pipeline.normalize import NormalizeContext, normalize_record
from schemas.events import Actor, CanonicalEvent, EventKind

FIXTURES = Path(__file__).parents[1] / "fixtures"
NOW = datetime(2026, 11, 29, tzinfo=UTC)
CTX = NormalizeContext(Directory.load(FIXTURES / "directory.toml"), now=lambda: NOW)


def events(name: str) -> list[CanonicalEvent]:
    results = normalize_record("crm", (FIXTURES / "crm" / name).read_bytes(), CTX)
    assert all(isinstance(r, CanonicalEvent) for r in results), results
    return results


def test_owner_change_two_rows_become_one_change():
    id_row = events("sf_history_owner_id.json")
    text_row = events("sf_history_owner_text.json")
    assert text_row == []
    [event] = id_row
    assert event.event_id == "crm:0175g00000Oh1AAA"
    assert event.kind is EventKind.OWNER_CHANGED
    assert event.rep_id == "r-lina"
    assert event.attrs["old_value"] == "0055g00000F1xAAA"
    assert event.attrs["object_type"] == "Opportunity"
    assert event.conversation_id == "crm:0065g00000OppAAA"
    assert event.occurred_at == datetime(2026, 11, 20, 3, 15, 22, tzinfo=UTC)


def test_history_stage_and_rating():
    [stage] = events("sf_history_stage.json")
    [rating] = events("sf_history_lead_rating.json")
    assert stage.kind is EventKind.STAGE_CHANGED
    assert stage.attrs["new_value"] == "Proposal/Price Quote"
    assert stage.rep_id == "r-wangfang"
    assert rating.kind is EventKind.RATING_CHANGED
    assert (rating.customer_id, rating.customer_tier) == ("c-huadong", "B")


def test_cdc_create_owned_by_queue_is_unassigned_lead():
    [event] = events("sf_cdc_lead_create.json")
    assert event.kind is EventKind.LEAD_CREATED
    assert event.rep_id == ""
    assert event.conversation_id == "crm:00Q5g00000NewAAA"
    assert event.attrs["origin"] == "api"
    assert event.occurred_at == datetime(2026, 11, 20, 2, 25, tzinfo=UTC)


def test_cdc_update_one_event_per_meaningful_field():
    owner, status = events("sf_cdc_update.json")
    assert (owner.kind, owner.rep_id) == (EventKind.OWNER_CHANGED, "r-zhangwei")
    assert status.kind is EventKind.STAGE_CHANGED
    assert status.attrs["new_value"] == "Working - Contacted"
    assert owner.attrs["origin"] == "ui"
    assert owner.event_id != status.event_id


def test_cn_lead_created_by_web_form_is_unassigned_system_event():
    [event] = events("cn_lead_created.json")
    assert event.event_id == "crm:OPL20261120000101"
    assert event.source_format == "cn_crm_oplog"
    assert event.kind is EventKind.LEAD_CREATED
    assert event.actor is Actor.SYSTEM
    assert event.rep_id == ""
    assert event.conversation_id == "crm:LD-20261120-0001"
    assert event.attrs["origin"] == "api"


@pytest.mark.parametrize(
    ("name", "kind", "actor", "rep_id", "pool_action"),
    [
        ("cn_lead_assigned.json", EventKind.LEAD_ASSIGNED, Actor.REP, "r-zhangwei", "assign"),
        ("cn_lead_auto_assigned.json", EventKind.LEAD_ASSIGNED, Actor.SYSTEM, "r-lina", "assign"),
        ("cn_lead_claimed.json", EventKind.LEAD_ASSIGNED, Actor.REP, "r-lina", "claim"),
        ("cn_lead_transferred.json", EventKind.OWNER_CHANGED, Actor.REP, "r-lina", ""),
    ],
)
def test_cn_lead_ownership(name, kind, actor, rep_id, pool_action):
    [event] = events(name)
    assert (event.kind, event.actor, event.rep_id) == (kind, actor, rep_id)
    assert event.attrs.get("pool_action", "") == pool_action


def test_cn_assigned_reads_owner_object_and_operator():
    [event] = events("cn_lead_assigned.json")
    assert event.attrs["new_value"] == "1001"
    assert event.actor_id == "1003"
    assert event.attrs["operator_name"] == "赵敏"
    assert event.attrs["origin"] == "ui"
    assert event.occurred_at == datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def test_cn_stage_uses_account_for_customer_and_record_for_conversation():
    [event] = events("cn_stage_changed.json")
    assert event.kind is EventKind.STAGE_CHANGED
    assert (event.attrs["old_value"], event.attrs["new_value"]) == ("方案演示", "报价")
    assert event.customer_id == "c-yunfan"
    assert event.conversation_id == "crm:OPP-2026-0042"
    assert event.attrs["object_type"] == "opportunity"


def test_cn_rating_sets_tier_from_new_rating():
    [event] = events("cn_rating_changed.json")
    assert event.kind is EventKind.RATING_CHANGED
    assert event.customer_tier == "A"
    assert (event.attrs["old_value"], event.attrs["new_value"]) == ("B", "A")


def test_cn_edit_yields_one_event_per_field_with_stable_ids():
    first, second = events("cn_field_edited.json")
    assert first.kind is second.kind is EventKind.FIELD_CHANGED
    assert first.event_id == "crm:OPL20261120000107:employee_count"
    assert second.event_id == "crm:OPL20261120000107:industry"
    assert (second.attrs["field"], second.attrs["new_value"]) == ("industry", "软件与信息服务")
    assert "old_value" not in second.attrs


def test_cn_unknown_operation_passes_through_as_other():
    raw = (FIXTURES / "crm" / "cn_field_edited.json").read_bytes()
    raw = raw.replace(b'"operationType":"edit"', b'"operationType":"merge"')
    results = normalize_record("crm", raw, CTX)
    assert [r.kind for r in results] == [EventKind.OTHER]


def test_cn_lead_returned_to_pool_has_no_rep():
    raw = (FIXTURES / "crm" / "cn_lead_transferred.json").read_bytes()
    raw = raw.replace(b'"operationType":"transfer"', b'"operationType":"\xe9\x80\x80\xe5\x9b\x9e"')
    raw = raw.replace(b'"newValue":"1002"', b'"newValue":""')
    [event] = normalize_record("crm", raw, CTX)
    assert (event.kind, event.rep_id) == (EventKind.OWNER_CHANGED, "")
    assert event.attrs["pool_action"] == "return"
    assert event.attrs["old_value"] == "1001"
