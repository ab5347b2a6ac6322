"""SendGrid, Mailgun, SES and mailbox-derived messages, with threading and staff detection."""

import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path

import orjson

from pipeline.identity import Directory
from pipeline.normalize import NormalizeContext, normalize_record
from schemas.events import Actor, CanonicalEvent, EventKind, Rejection

FIXTURES = Path(__file__).parents[1] / "fixtures"
NOW = datetime(2026, 11, 29, tzinfo=UTC)
DIRECTORY = Directory.load(FIXTURES / "directory.toml")
CTX = NormalizeContext(DIRECTORY, now=lambda: NOW)
ROOT = "email:CAF7x9Yq1@mail.yunfan-tech.com"


def raw(name: str) -> bytes:
    return (FIXTURES / "email" / name).read_bytes()


def one_event(name: str, ctx: NormalizeContext = CTX) -> CanonicalEvent:
    [event] = normalize_record("email", raw(name), ctx)
    assert isinstance(event, CanonicalEvent), event
    return event


def test_sendgrid_batch_is_one_record_many_events():
    results = normalize_record("email", raw("sendgrid_batch.json"), CTX)
    assert [r.event_id for r in results] == [
        "email:sg_evt_proc_0001",
        "email:sg_evt_dlv_0001",
        "email:sg_evt_clk_0001",
    ]
    assert [r.attrs["status"] for r in results] == ["processed", "delivered", "click"]
    assert all(r.kind is EventKind.EMAIL_STATUS for r in results)
    assert [r.actor for r in results] == [Actor.SYSTEM, Actor.SYSTEM, Actor.CUSTOMER]
    assert results[0].conversation_id == "email:20261120100000.A1B2C3@xinghe-soft.cn"
    assert results[0].occurred_at == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert results[1].rep_id == "r-zhangwei"  # the customer's owner
    assert results[2].attrs["url"] == "https://www.xinghe-soft.cn/quote/2026-042"


def test_sendgrid_bad_elements_are_refused_alone():
    results = normalize_record("email", raw("sendgrid_mixed_bad.json"), CTX, offset=3)
    good = [r for r in results if isinstance(r, CanonicalEvent)]
    bad = [r for r in results if isinstance(r, Rejection)]
    assert [e.event_id for e in good] == ["email:sg_evt_bnc_0002"]
    assert [(r.reason, r.offset) for r in bad] == [("bad_timestamp", 3), ("wrong_type", 3)]
    assert orjson.loads(bad[0].raw)["sg_event_id"] == "sg_evt_opn_0002"
    assert bad[1].raw == b'"not an event"'


def test_sendgrid_single_event_object_is_a_batch_of_one():
    element = orjson.loads(raw("sendgrid_batch.json"))[0]
    [event] = normalize_record("email", orjson.dumps(element), CTX)
    assert event.event_id == "email:sg_evt_proc_0001"


def test_mailgun_without_key_is_accepted():
    event = one_event("mailgun_delivered.json")
    assert event.event_id == "email:CPgfbmQMTCKtHW6uIWtuVe"
    assert event.source_format == "mailgun"
    assert (event.rep_id, event.customer_id) == ("r-zhangwei", "c-yunfan")
    assert event.attrs["subject"] == "星河CRM报价单及合同模板"
    assert event.occurred_at == datetime(2026, 11, 20, 2, 1, 40, 274923, tzinfo=UTC)


def signed_mailgun(key: str) -> bytes:
    body = orjson.loads(raw("mailgun_delivered.json"))
    signature = body["signature"]
    message = (signature["timestamp"] + signature["token"]).encode()
    signature["signature"] = hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
    return orjson.dumps(body)


def test_mailgun_signature_verifies_with_the_key():
    ctx = NormalizeContext(DIRECTORY, now=lambda: NOW, mailgun_signing_key="key-3ax6xnjp29jd6fds")
    [event] = normalize_record("email", signed_mailgun("key-3ax6xnjp29jd6fds"), ctx)
    assert isinstance(event, CanonicalEvent)
    [refused] = normalize_record("email", signed_mailgun("another-key"), ctx)
    assert isinstance(refused, Rejection)
    assert refused.reason == "signature"


def test_ses_delivery_and_sns_wrapped_open():
    delivery = one_event("ses_delivery.json")
    opened = one_event("ses_open_sns.json")
    assert delivery.attrs["status"] == "Delivery"
    assert delivery.actor is Actor.SYSTEM
    assert opened.actor is Actor.CUSTOMER
    assert delivery.conversation_id == "email:ses-20261120-hdjm@xinghe-soft.cn"
    assert opened.conversation_id == delivery.conversation_id
    assert (delivery.rep_id, delivery.customer_id, delivery.customer_tier) == (
        "r-lina",
        "c-huadong",
        "B",
    )
    assert delivery.occurred_at == datetime(2026, 11, 20, 2, 0, 3, 120000, tzinfo=UTC)
    assert delivery.event_id != opened.event_id


def test_mailbox_thread_root_parent_and_actors():
    first = one_event("mailbox_customer_first.json")
    reply = one_event("mailbox_rep_reply.eml")
    second = one_event("mailbox_customer_second.json")
    assert first.conversation_id == reply.conversation_id == second.conversation_id == ROOT
    assert first.event_id == "email:CAF7x9Yq1@mail.yunfan-tech.com"
    assert first.actor is Actor.CUSTOMER
    assert (first.rep_id, first.customer_id) == ("r-zhangwei", "c-yunfan")
    assert (reply.actor, reply.rep_id, reply.customer_id) == (Actor.REP, "r-zhangwei", "c-yunfan")
    assert reply.parent_id == "CAF7x9Yq1@mail.yunfan-tech.com"
    assert second.parent_id == "20261120131500.ZW01@xinghe-soft.cn"
    assert first.occurred_at == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert reply.occurred_at == datetime(2026, 11, 20, 5, 15, tzinfo=UTC)
    assert first.kind is reply.kind is EventKind.EMAIL_SENT


def test_mailbox_rfc822_decodes_headers_and_drops_quoted_text():
    reply = one_event("mailbox_rep_reply.eml")
    assert reply.attrs["subject"] == "Re: 关于星河CRM的报价"
    assert "报价单已附上，请查收" in reply.text
    assert "方案我们看过了" not in reply.text


def test_auto_reply_is_system_and_flagged():
    event = one_event("mailbox_auto_reply.json")
    assert event.actor is Actor.SYSTEM
    assert event.attrs["auto_reply"] == "1"
    assert event.conversation_id == ROOT


def test_internal_forward_is_rep_and_flagged_internal():
    event = one_event("mailbox_internal_forward.json")
    assert event.actor is Actor.REP
    assert event.attrs["internal"] == "1"
    assert event.customer_id == ""
    assert "价格还是贵了" not in event.text


def test_unknown_sender_is_customer_by_default():
    event = one_event("mailbox_customer_first.json", NormalizeContext(Directory(), now=lambda: NOW))
    assert event.actor is Actor.CUSTOMER
    assert event.customer_id == "email:chen.jie@yunfan-tech.com"
    assert event.attrs["unmapped"] == "customer"


def test_mail_without_message_id_is_missing_field():
    body = b'{"Message-ID":"","Date":"Fri, 20 Nov 2026 10:00:00 +0800","From":"a@b.cn"}'
    [result] = normalize_record("email", body, CTX)
    assert isinstance(result, Rejection)
    assert result.reason == "missing_field"
