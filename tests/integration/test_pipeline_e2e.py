"""The whole path on the embedded default: Tansu broker, faust workers, chDB, local alert receiver.

One run over a small hand-written input; every assertion is an exact count or value read back
from ClickHouse, as a BI tool would.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from agents.runner import run_embedded
from pipeline.identity import Directory
from pipeline.runtime import Runtime
from pipeline.settings import load_settings

DIRECTORY = """
[[rep]]
rep_id = "r-zhang"
name = "张伟"
wecom_userid = "zhangwei"
team = "华东一部"
manager = "r-wang"

[[rep]]
rep_id = "r-wang"
name = "王芳"
wecom_userid = "wangfang"
team = "华东一部"

[[customer]]
customer_id = "c-yunfan"
tier = "A"
wecom_external_userids = ["wmYunFan01"]
owner = "r-zhang"

[[customer]]
customer_id = "c-beihai"
tier = "B"
wecom_external_userids = ["wmBeiHai02"]
owner = "r-zhang"
"""

#: 09:00 Shanghai three days ago: every deadline below is in the past by wall clock.
BASE = (datetime.now(UTC) - timedelta(days=3)).replace(hour=1, minute=0, second=0, microsecond=0)


def _ms(offset: timedelta) -> int:
    return int((BASE + offset).timestamp() * 1000)


def _wecom(msgid: str, sender: str, to: str, at: timedelta, text: str) -> bytes:
    return orjson.dumps(
        {
            "msgid": msgid,
            "action": "send",
            "from": sender,
            "tolist": [to],
            "roomid": "",
            "msgtime": _ms(at),
            "msgtype": "text",
            "text": {"content": text},
        }
    )


QUESTION = _wecom(
    "m-1",
    "wmYunFan01",
    "zhangwei",
    timedelta(0),
    "报价单收到了，但是太贵了，超出我们的预算，能再优惠一点吗？",
)
RAW = {
    "wecom": [
        QUESTION,
        QUESTION,  # delivered twice: one event
        _wecom(
            "m-2",
            "zhangwei",
            "wmYunFan01",
            timedelta(hours=1),
            "好的，我申请一下折扣，稍后发您新的报价单",
        ),
        _wecom(
            "m-3", "wmBeiHai02", "zhangwei", timedelta(hours=2), "你们的系统能和我们的ERP对接吗？"
        ),
        b'{"msgid": "m-4", "action": "send", "from": "wmBeiHai02"',  # truncated JSON
        orjson.dumps(
            {
                "msgid": "m-5",
                "action": "send",
                "from": "wmBeiHai02",
                "tolist": ["zhangwei"],
                "roomid": "",
                "msgtype": "text",
                "msgtime": int((datetime.now(UTC) + timedelta(days=30)).timestamp() * 1000),
                "text": {"content": "未来的消息"},
            }
        ),
    ]
}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory):
    root: Path = tmp_path_factory.mktemp("e2e")
    settings = load_settings(db_dir=root / "db", table_dir=root / "tables")
    directory = Directory.from_toml(DIRECTORY, "e2e-directory")
    runtime, backend, summary = run_embedded(
        settings, RAW, lambda s: Runtime.from_settings(s, directory=directory)
    )
    yield backend, summary
    backend.close()


def test_every_raw_record_is_an_event_or_a_dead_letter(finished_run) -> None:
    backend, summary = finished_run
    assert summary.raw_records == 6
    events = backend.query_rows("SELECT event_id FROM events FINAL ORDER BY event_id")
    assert [row["event_id"] for row in events] == ["wecom:m-1", "wecom:m-2", "wecom:m-3"]
    assert backend.query_rows("SELECT count() AS n FROM events")[0]["n"] == 3  # no duplicate row
    dead = backend.query_rows("SELECT reason, offset FROM dead_letters ORDER BY reason")
    assert [row["reason"] for row in dead] == ["implausible_timestamp", "invalid_json"]
    assert all(row["offset"] >= 0 for row in dead)


def test_a_reply_yields_one_exact_latency_sample(finished_run) -> None:
    backend, _ = finished_run
    samples = backend.query_rows(
        "SELECT start_event_id, reply_event_id, rep_id, customer_id, customer_tier, latency_s, "
        "sla_s, breached FROM latency_samples"
    )
    assert samples == [
        {
            "start_event_id": "wecom:m-1",
            "reply_event_id": "wecom:m-2",
            "rep_id": "r-zhang",
            "customer_id": "c-yunfan",
            "customer_tier": "A",
            "latency_s": 3600.0,
            "sla_s": 7200.0,
            "breached": 0,
        }
    ]


def test_a_never_answered_b_customer_breaches_at_its_deadline(finished_run) -> None:
    backend, _ = finished_run
    breaches = backend.query_rows(
        "SELECT kind, customer_id, customer_tier, start_event_id, deadline, status, "
        "last_customer_signals FROM breaches_current"
    )
    assert len(breaches) == 1
    breach = breaches[0]
    assert breach["kind"] == "first_reply"
    assert (breach["customer_id"], breach["customer_tier"]) == ("c-beihai", "B")
    assert breach["start_event_id"] == "wecom:m-3"
    assert breach["status"] == "open"
    deadline = breach["deadline"]
    expected = BASE + timedelta(hours=6)
    assert abs(
        (deadline.replace(tzinfo=UTC) if deadline.tzinfo is None else deadline) - expected
    ) < timedelta(seconds=1)
    assert "objection_tech" in breach["last_customer_signals"]


def test_signals_are_speaker_aware_and_the_heatmap_adds_up(finished_run) -> None:
    backend, _ = finished_run
    rows = backend.query_rows(
        "SELECT event_id, signal, actor FROM signals ORDER BY event_id, signal"
    )
    by_event: dict[str, set[str]] = {}
    for row in rows:
        by_event.setdefault(row["event_id"], set()).add(row["signal"])
    assert {"quote", "objection_price"} <= by_event["wecom:m-1"]
    assert "objection_price" not in by_event.get("wecom:m-2", set())  # the rep talks price
    heatmap = backend.query_rows("SELECT sum(signal_count) AS n FROM signal_heatmap_agg")
    assert heatmap[0]["n"] == len(rows)


def test_the_breach_reached_the_team_lead_over_http(finished_run) -> None:
    backend, summary = finished_run
    assert any("c-beihai" in line for line in summary.alert_lines)
    sent = backend.query_rows(
        "SELECT stage, channel, status FROM alerts WHERE status = 'sent' AND stage = 'breach'"
    )
    assert {row["channel"] for row in sent} >= {"wecom_robot", "dingtalk_robot"}
