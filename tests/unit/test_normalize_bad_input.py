"""The bad-input catalogue: each malformed record becomes one Rejection with its reason code."""

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from pipeline.identity import Directory
from pipeline.normalize import RAW_PREFIX_BYTES, REASONS, NormalizeContext, normalize_record
from schemas.events import CanonicalEvent, Rejection

FIXTURES = Path(__file__).parents[1] / "fixtures"
NOW = datetime(2026, 11, 29, tzinfo=UTC)
CTX = NormalizeContext(Directory(), now=lambda: NOW)
TEXT = (FIXTURES / "wecom" / "text_one_to_one.json").read_bytes()


def wecom_with(**changes: object) -> bytes:
    doc = orjson.loads(TEXT)
    doc.update(changes)
    return orjson.dumps(doc)


def rejection(source: str, raw: bytes, ctx: NormalizeContext = CTX) -> Rejection:
    results = normalize_record(source, raw, ctx, topic="t", partition=2, offset=9)
    assert len(results) == 1
    assert isinstance(results[0], Rejection), results[0]
    assert (results[0].topic, results[0].partition, results[0].offset) == ("t", 2, 9)
    assert results[0].reason in REASONS
    return results[0]


@pytest.mark.parametrize(
    ("source", "raw", "reason"),
    [
        ("wecom", TEXT[: len(TEXT) // 2], "invalid_json"),
        ("wecom", b"\xff\xfe{}", "invalid_utf8"),
        ("wecom", b"", "empty"),
        ("crm", b"  \r\n\t ", "empty"),
        ("email", b"[]", "empty"),
        ("wecom", b"[" * 200 + b"]" * 200, "too_deep"),
        ("wecom", b'{"msgid":"x","a":' + b"[" * 2000 + b"]" * 2000 + b"}", "too_deep"),
        ("wecom", b'{"hello":"world"}', "unknown_shape"),
        ("crm", b"[1,2,3]", "unknown_shape"),
        ("sms", b"{}", "unknown_source"),
        ("wecom", wecom_with(msgid=""), "missing_field"),
        ("wecom", wecom_with(msgtime=None), "bad_timestamp"),
        ("wecom", wecom_with(**{"from": {"id": 1}}), "wrong_type"),
        ("wecom", wecom_with(tolist="zhangwei,lina", text=[1]), "wrong_type"),
        ("wecom", wecom_with(msgtime="下午三点"), "bad_timestamp"),
        ("wecom", wecom_with(msgtime=1), "implausible_timestamp"),
        ("wecom", wecom_with(msgtime=4_102_444_800_000), "implausible_timestamp"),
        ("wecom", TEXT.replace(b"1795140000000", b"123456789012345678901234567890"), "wrong_type"),
        ("wecom", b"<xml><Event>change_external_contact</Event>", "invalid_xml"),
        ("wecom", wecom_with(msgid="m" * 600), "wrong_type"),
    ],
)
def test_catalogue(source, raw, reason):
    result = rejection(source, raw)
    assert result.reason == reason, result.message
    assert result.raw == raw
    assert result.raw_truncated is False
    assert result.message


def test_seconds_where_ms_expected_is_converted_when_provably_right():
    [event] = normalize_record("wecom", wecom_with(msgtime=1_795_140_000), CTX)
    assert isinstance(event, CanonicalEvent)
    assert event.occurred_at == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_ms_where_seconds_expected_is_converted():
    xml = (FIXTURES / "wecom" / "add_external_contact.xml").read_bytes()
    [event] = normalize_record("wecom", xml.replace(b"1795140000", b"1795140000000"), CTX)
    assert event.occurred_at == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_future_is_judged_against_the_context_clock():
    two_days_later = wecom_with(msgtime=int(NOW.timestamp() * 1000) + 2 * 86_400_000)
    assert rejection("wecom", two_days_later).reason == "implausible_timestamp"
    later_ctx = NormalizeContext(Directory(), now=lambda: datetime(2026, 12, 5, tzinfo=UTC))
    [event] = normalize_record("wecom", two_days_later, later_ctx)
    assert isinstance(event, CanonicalEvent)


def test_too_large_keeps_a_prefix():
    ctx = NormalizeContext(Directory(), now=lambda: NOW, max_raw_bytes=100_000)
    raw = wecom_with(text={"content": "报价" * 60_000})
    result = rejection("wecom", raw, ctx)
    assert result.reason == "too_large"
    assert result.raw_truncated is True
    assert result.raw == raw[:RAW_PREFIX_BYTES]


def test_long_text_is_truncated_and_flagged():
    ctx = NormalizeContext(Directory(), now=lambda: NOW, max_text_chars=10)
    [event] = normalize_record("wecom", wecom_with(text={"content": "合同" * 50}), ctx)
    assert event.text == "合同" * 5
    assert event.text_truncated is True


def test_bom_nul_and_crlf_are_tolerated():
    content = "付款\u0000已安排\r\n请查收\ufeff"
    raw = b"\xef\xbb\xbf" + wecom_with(text={"content": content}) + b"\r\n"
    raw = raw.replace(b'"msgid"', b'\x00"msgid"')
    [event] = normalize_record("wecom", raw, CTX)
    assert event.text == "付款已安排\r\n请查收"


def test_duplicate_delivery_has_the_same_event_id():
    [first] = normalize_record("wecom", TEXT, CTX)
    [again] = normalize_record("wecom", TEXT.replace(b'{"msgid"', b'{ "msgid"'), CTX)
    assert first.event_id == again.event_id


def test_unknown_msgtype_is_not_rejected():
    [event] = normalize_record("wecom", wecom_with(msgtype="sphfeed", sphfeed={}), CTX)
    assert isinstance(event, CanonicalEvent)
    assert event.attrs["msgtype"] == "sphfeed"
