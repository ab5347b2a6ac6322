"""WeCom archive messages of every msgtype, and the XML customer-record callbacks."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.identity import Directory
from pipeline.normalize import NormalizeContext, normalize_record
from schemas.events import Actor, CanonicalEvent, EventKind, Rejection

FIXTURES = Path(__file__).parents[1] / "fixtures"
NOW = datetime(2026, 11, 29, tzinfo=UTC)
CTX = NormalizeContext(Directory.load(FIXTURES / "directory.toml"), now=lambda: NOW)
ONE_TO_ONE = "wecom:wmYunFanChen01|zhangwei"


def one_event(name: str, ctx: NormalizeContext = CTX) -> CanonicalEvent:
    results = normalize_record("wecom", (FIXTURES / "wecom" / name).read_bytes(), ctx)
    assert len(results) == 1
    assert isinstance(results[0], CanonicalEvent), results[0]
    return results[0]


def test_customer_text_one_to_one_maps_customer_and_counterpart_rep():
    event = one_event("text_one_to_one.json")
    assert event.event_id == "wecom:CAQQluDa4QUY0On2rYSAgAMgzPrShAE="
    assert event.source_format == "wecom_archive"
    assert event.kind is EventKind.MESSAGE
    assert event.actor is Actor.CUSTOMER
    assert event.actor_id == "wmYunFanChen01"
    assert event.rep_id == "r-zhangwei"
    assert event.customer_id == "c-yunfan"
    assert event.customer_tier == "A"
    assert event.conversation_id == ONE_TO_ONE
    assert event.occurred_at == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert event.text.startswith("张经理您好")
    assert "unmapped" not in event.attrs


def test_rep_text_in_group_uses_room_as_conversation():
    event = one_event("text_group.json")
    assert event.event_id == "wecom:12734829349302_external"
    assert event.conversation_id == "wrJZ8kEAAAkfyQ3xq0xL0V6YfmOZfXYQ"
    assert event.actor is Actor.REP
    assert (event.rep_id, event.customer_id) == ("r-zhangwei", "c-yunfan")
    assert event.attrs["room"] == "1"


@pytest.mark.parametrize(
    ("name", "kind", "actor", "text", "attrs"),
    [
        ("image.json", EventKind.MEDIA, Actor.CUSTOMER, "", {"msgtype": "image"}),
        ("voice.json", EventKind.MEDIA, Actor.REP, "", {"msgtype": "voice"}),
        ("video.json", EventKind.MEDIA, Actor.REP, "", {"msgtype": "video"}),
        (
            "file.json",
            EventKind.FILE,
            Actor.REP,
            "星河CRM产品白皮书2026.pdf",
            {"filename": "星河CRM产品白皮书2026.pdf", "fileext": "pdf"},
        ),
        (
            "link.json",
            EventKind.LINK,
            Actor.REP,
            "制造业客户案例：华东精密如何三个月上线\n实施周期、数据迁移方案与验收标准",
            {"url": "https://www.xinghe-soft.cn/cases/hdjm"},
        ),
        (
            "weapp.json",
            EventKind.MINI_PROGRAM,
            Actor.REP,
            "星河在线演示\n预约产品演示",
            {"title": "星河在线演示", "app": "星河软件"},
        ),
        (
            "docmsg.json",
            EventKind.DOCUMENT,
            Actor.REP,
            "云帆科技实施排期表",
            {"url": "https://doc.weixin.qq.com/sheet/e3_AYoAbc", "msgtype": "docmsg"},
        ),
        (
            "meeting.json",
            EventKind.MEETING,
            Actor.REP,
            "云帆科技方案演示会",
            {"starttime": "1795226400"},
        ),
        ("card.json", EventKind.CARD, Actor.REP, "", {"card_userid": "lina"}),
        (
            "location.json",
            EventKind.LOCATION,
            Actor.CUSTOMER,
            "浙江省杭州市西湖区文三路 云帆大厦",
            {"title": "云帆大厦"},
        ),
        (
            "mixed.json",
            EventKind.MESSAGE,
            Actor.CUSTOMER,
            "接口文档看了，和我们的ERP兼容吗？",
            {"msgtype": "mixed"},
        ),
        ("unknown_type.json", EventKind.OTHER, Actor.REP, "", {"msgtype": "redpacket"}),
    ],
)
def test_msgtypes_one_to_one(name, kind, actor, text, attrs):
    event = one_event(name)
    assert event.kind is kind
    assert event.actor is actor
    assert event.text == text
    assert event.conversation_id == ONE_TO_ONE
    assert event.attrs.items() >= attrs.items()


def test_calendar_with_other_customer_and_tier_b():
    event = one_event("calendar.json")
    assert event.kind is EventKind.CALENDAR
    assert (event.rep_id, event.customer_id, event.customer_tier) == ("r-lina", "c-huadong", "B")
    assert event.text == "合同条款沟通\n法务一起过一下账期"
    assert event.attrs["place"] == "华东精密3楼会议室"


def test_chatrecord_keeps_title_and_items_between_staff():
    event = one_event("chatrecord.json")
    assert event.kind is EventKind.MESSAGE
    assert event.text == "与陈总的聊天记录\n报价能不能再优惠一点"
    assert event.customer_id == ""
    assert event.conversation_id == "wecom:lina|zhangwei"


def test_recall_is_recall_kind_and_never_touches_a_clock():
    event = one_event("revoke.json")
    assert event.kind is EventKind.RECALL
    assert event.attrs["recalled_msgid"] == "file-0001"
    assert event.starts_or_stops_clock is False


@pytest.mark.parametrize(
    ("name", "actor_id", "rep_id", "customer_id"),
    [
        ("agree.json", "wmYunFanChen01", "r-zhangwei", "c-yunfan"),
        ("disagree.json", "woHuaDongLiu02", "r-lina", "c-huadong"),
    ],
)
def test_consent_notices_come_from_the_customer(name, actor_id, rep_id, customer_id):
    event = one_event(name)
    assert event.kind is EventKind.CONSENT
    assert event.actor is Actor.CUSTOMER
    assert (event.actor_id, event.rep_id, event.customer_id) == (actor_id, rep_id, customer_id)
    assert event.starts_or_stops_clock is False


def test_switch_record_with_only_four_fields():
    event = one_event("switch.json")
    assert event.kind is EventKind.SWITCH
    assert event.actor is Actor.REP
    assert event.rep_id == "r-zhangwei"
    assert event.occurred_at == datetime(2026, 11, 20, 2, 17, tzinfo=UTC)
    assert event.starts_or_stops_clock is False


def test_without_directory_prefix_decides_and_ids_flow_unmapped():
    event = one_event("text_one_to_one.json", NormalizeContext(Directory(), now=lambda: NOW))
    assert event.actor is Actor.CUSTOMER
    assert event.rep_id == "wecom:zhangwei"
    assert event.customer_id == "wecom:wmYunFanChen01"
    assert event.attrs["unmapped"] == "both"


def test_directory_overrides_the_prefix():
    directory = Directory.from_toml(
        '[[customer]]\ncustomer_id = "c-x"\nwecom_external_userids = ["zhangwei"]\n'
    )
    event = one_event("voice.json", NormalizeContext(directory, now=lambda: NOW))
    assert event.actor is Actor.CUSTOMER
    assert event.customer_id == "c-x"


@pytest.mark.parametrize(
    ("change_type", "actor"),
    [
        ("add_external_contact", Actor.REP),
        ("edit_external_contact", Actor.REP),
        ("del_external_contact", Actor.REP),
        ("del_follow_user", Actor.CUSTOMER),
    ],
)
def test_change_external_contact(change_type, actor):
    event = one_event(f"{change_type}.xml")
    assert event.source_format == "wecom_callback"
    assert event.kind is EventKind.CONTACT_CHANGED
    assert event.actor is actor
    assert event.attrs["change_type"] == change_type
    assert (event.rep_id, event.customer_id, event.customer_tier) == ("r-zhangwei", "c-yunfan", "A")
    assert event.conversation_id == ONE_TO_ONE
    assert event.occurred_at == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert event.event_id.startswith("wecom:cb:")


def test_callback_event_id_is_stable_and_distinct_per_change():
    first = one_event("add_external_contact.xml")
    again = one_event("add_external_contact.xml")
    other = one_event("edit_external_contact.xml")
    assert first.event_id == again.event_id
    assert first.event_id != other.event_id


def test_change_external_tag_has_no_customer():
    event = one_event("change_external_tag.xml")
    assert event.kind is EventKind.TAG_CHANGED
    assert event.actor is Actor.SYSTEM
    assert event.customer_id == ""
    assert event.attrs["tag_id"] == "etJ2GCAAAAtWyujaWJHDDGi0mACHJHK"
    assert event.conversation_id == "wecom:tag:etJ2GCAAAAtWyujaWJHDDGi0mACHJHK"


def test_doctype_and_entities_are_refused_unexpanded():
    raw = (FIXTURES / "wecom" / "billion_laughs.xml").read_bytes()
    [result] = normalize_record("wecom", raw, CTX, topic="salesradar.raw.wecom", offset=7)
    assert isinstance(result, Rejection)
    assert result.reason == "xml_forbidden"
    assert result.raw == raw
    assert (result.topic, result.offset) == ("salesradar.raw.wecom", 7)


def test_external_entity_is_refused():
    raw = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Event>&e;</Event></xml>'
    [result] = normalize_record("wecom", raw, CTX)
    assert isinstance(result, Rejection)
    assert result.reason == "xml_forbidden"
