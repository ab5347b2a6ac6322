"""DingTalk robot callbacks, CRM track callbacks (both envelopes) and group events."""

from datetime import UTC, datetime
from pathlib import Path

from pipeline.identity import Directory
from pipeline.normalize import NormalizeContext, normalize_record
from schemas.events import Actor, CanonicalEvent, EventKind, Rejection

FIXTURES = Path(__file__).parents[1] / "fixtures"
NOW = datetime(2026, 11, 29, tzinfo=UTC)
CTX = NormalizeContext(Directory.load(FIXTURES / "directory.toml"), now=lambda: NOW)


def events(name: str) -> list[CanonicalEvent]:
    results = normalize_record("dingtalk", (FIXTURES / "dingtalk" / name).read_bytes(), CTX)
    assert all(isinstance(r, CanonicalEvent) for r in results), results
    return results


def test_group_message_from_staff():
    [event] = events("robot_group_staff.json")
    assert event.event_id == "dingtalk:msgQ2hAUuB1vZ6H8xN4tFkg=="
    assert event.source_format == "dingtalk_robot"
    assert event.kind is EventKind.MESSAGE
    assert event.actor is Actor.REP
    assert (event.actor_id, event.rep_id) == ("0155201234", "r-zhangwei")
    assert event.conversation_id == "cidq7K8pR3vXw2sZ+9nYhT1Aw=="
    assert event.text == "下周二安排部署和培训，上线排期表已经发群里"
    assert event.attrs["conversation_type"] == "group"
    assert event.occurred_at == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_one_to_one_from_foreign_corp_is_the_customer_with_owner_as_rep():
    [event] = events("robot_single_customer.json")
    assert event.actor is Actor.CUSTOMER
    assert event.actor_id == "$:LWCP_v1:$yunfanchen"
    assert (event.customer_id, event.customer_tier, event.rep_id) == ("c-yunfan", "A", "r-zhangwei")
    assert event.attrs["conversation_type"] == "single"


def test_staff_id_from_a_foreign_corp_is_not_staff():
    raw = (FIXTURES / "dingtalk" / "robot_group_staff.json").read_bytes()
    raw = raw.replace(b'"senderCorpId":"dingb3a1c9f2e7d4"', b'"senderCorpId":"dingforeign01"')
    [event] = normalize_record("dingtalk", raw, CTX)
    assert event.actor is Actor.CUSTOMER


def test_rich_text_without_staff_id_is_customer_and_unmapped():
    [event] = events("robot_richtext.json")
    assert event.actor is Actor.CUSTOMER
    assert event.text == "私有化部署的话，数据迁移怎么做？"
    assert event.customer_id == "dingtalk:$:LWCP_v1:$liugong"
    assert event.attrs["unmapped"] == "customer"


def test_picture_is_media():
    [event] = events("robot_picture.json")
    assert (event.kind, event.actor, event.text) == (EventKind.MEDIA, Actor.REP, "")


def test_old_track_envelope_yields_one_event_per_track():
    first, second = events("track_old.json")
    assert first.event_id == "dingtalk:track:biz_8c1d2e3f:0"
    assert second.event_id == "dingtalk:track:biz_8c1d2e3f:1"
    assert first.kind is EventKind.CONTACT_CHANGED
    assert (first.rep_id, first.customer_id) == ("r-zhangwei", "c-yunfan")
    assert first.text == "电话沟通：客户确认下周演示"
    assert first.attrs["track_type"] == "1" and first.attrs["track_subtype"] == "101"
    assert second.customer_id == "dingtalk:cust_hdjm_001"
    assert second.attrs["unmapped"] == "customer"


def test_new_track_envelope():
    [event] = events("track_new.json")
    assert event.event_id == "dingtalk:track:evt_5f6a7b8c9d:0"
    assert event.rep_id == "r-lina"
    assert event.conversation_id == "dingtalk:crm:cust_hdjm_001"
    assert event.occurred_at == datetime(2026, 11, 20, 2, 20, tzinfo=UTC)


def test_group_membership_events():
    [added] = events("chat_add_member.json")
    [quit_] = events("chat_quit.json")
    assert added.kind is quit_.kind is EventKind.MEMBERSHIP
    assert added.attrs["change_type"] == "chat_add_member"
    assert added.attrs["members"] == "0155205678,$:LWCP_v1:$yunfanchen"
    assert added.rep_id == "r-zhangwei"
    assert added.conversation_id == "chat3f8a9b7c6d5e"
    assert quit_.occurred_at == datetime(2026, 11, 20, 2, 23, 20, tzinfo=UTC)
    assert added.event_id != quit_.event_id


def test_track_without_tracks_is_missing_field():
    [result] = normalize_record("dingtalk", b'{"EventType":"crm_customer_track","BizId":"b"}', CTX)
    assert isinstance(result, Rejection)
    assert result.reason == "missing_field"


def test_unknown_dingtalk_event_is_unknown_shape():
    [result] = normalize_record("dingtalk", b'{"EventType":"user_add_org"}', CTX)
    assert isinstance(result, Rejection)
    assert result.reason == "unknown_shape"
