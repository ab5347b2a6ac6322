"""The topic codec: pydantic's JSON must stay byte for byte what orjson of the dump gave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from agents.codec import encode_model, encode_tagged
from schemas.events import CanonicalEvent
from schemas.latency import LatencySample

STARTED = datetime(2026, 11, 24, 1, 2, 3, 456789, tzinfo=UTC)


def event(text: str) -> CanonicalEvent:
    return CanonicalEvent(
        event_id="wecom:m1",
        source="wecom",
        source_format="wecom_archive",
        occurred_at=STARTED.astimezone(timezone(timedelta(hours=8))),
        kind="message",
        actor="customer",
        conversation_id="wecom:a|b",
        text=text,
        attrs={"msgtype": "text", "title": 'a "quoted" \\ title'},
        signals=("objection_price", "quote"),
    )


def sample(latency: float) -> LatencySample:
    return LatencySample(
        tenant="default",
        sample_id="s",
        kind="first_reply",
        source="wecom",
        conversation_id="c",
        start_event_id="e1",
        reply_event_id="e2",
        rep_id="r",
        owner_rep_id="r",
        customer_id="c1",
        customer_tier="A",
        started_at=STARTED,
        replied_at=STARTED + timedelta(seconds=latency),
        latency_s=latency,
        business_latency_s=latency / 3,
        sla_s=7200.0,
        breached=False,
        start_signals=("quote",),
    )


@pytest.mark.parametrize("text", ["", "报价单什么时候发？😀", "line\nbreak\u2028\ttab\x7f"])
def test_an_event_encodes_as_orjson_of_its_dump(text: str) -> None:
    item = event(text)
    assert encode_model(item) == orjson.dumps(item.model_dump(mode="json"))


@pytest.mark.parametrize("latency", [0.1, 1 / 3, 1e-7, 86400.0, 3e9, 123456789.123])
def test_a_latency_output_encodes_as_orjson_of_its_tagged_dump(latency: float) -> None:
    item = sample(latency)
    expected = orjson.dumps({"type": "sample", "data": item.model_dump(mode="json")})
    assert encode_tagged("sample", item) == expected
