"""Latency timers through the real embedded broker and faust app, with short thresholds.

(a) A customer left unanswered: the breach is raised by the wall-clock timer while the worker is
    live, at its deadline (an A-class promise of 0.002 h = 7.2 s), not before it.
(b) A worker restart between the customer's message and the rep's reply: a new app in the same
    consumer group recovers the open wait from the table's changelog topic, and the reply yields
    exactly one sample with the right latency.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from agents.app import build_app
from agents.runner import create_topics, prepare_clickhouse, produce_raw, run_app_until
from pipeline.clickhouse import ClickHouseBackend
from pipeline.embedded_broker import EmbeddedBroker
from pipeline.identity import Directory
from pipeline.runtime import Runtime
from pipeline.settings import Settings, load_settings

DIRECTORY = """
[[rep]]
rep_id = "r-wang"
name = "王五"
wecom_userid = "wangwu"

[[customer]]
customer_id = "c-live"
tier = "A"
wecom_external_userids = ["wmLive01"]
owner = "r-wang"

[[customer]]
customer_id = "c-restart"
tier = "B"
wecom_external_userids = ["wmRestart01"]
owner = "r-wang"
"""
A_SLA_S = 0.002 * 3600
COMMIT_INTERVAL_S = 2.8  # faust's default broker_commit_interval
LIVE_BREACHES = "SELECT count() AS n FROM breaches WHERE start_event_id LIKE 'wecom:live-%'"


def _message(msgid: str, sender: str, receiver: str, at: datetime, text: str) -> bytes:
    return orjson.dumps(
        {
            "msgid": msgid,
            "action": "send",
            "from": sender,
            "tolist": [receiver],
            "roomid": "",
            "msgtime": int(at.timestamp() * 1000),
            "msgtype": "text",
            "text": {"content": text},
        }
    )


def _runtime(settings: Settings) -> Runtime:
    return Runtime.from_settings(settings, directory=Directory.from_toml(DIRECTORY, "latency"))


def _settings(root: Path, broker: EmbeddedBroker, **overrides: object) -> Settings:
    return load_settings(
        db_dir=root / "db",
        table_dir=root / "tables",
        **broker.worker_settings(),
        topic_partitions=2,
        **overrides,
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class LiveRun:
    backend: ClickHouseBackend
    sent_at: datetime
    stopped_at: datetime
    latency_outputs: int


async def _live(runtime: Runtime, backend: ClickHouseBackend) -> LiveRun:
    settings = runtime.settings
    await create_topics(settings, runtime.all_topics())
    sent_at = datetime.now(UTC).replace(microsecond=0)
    question = _message("live-1", "wmLive01", "wangwu", sent_at, "合同条款法务看完了吗？")
    await produce_raw(settings, {"wecom": [question]}, runtime.normalize_context)
    app = build_app(runtime, backend, sink_group=f"sink-{uuid.uuid4().hex[:8]}")
    first_seen: list[float] = []

    def breach_stored_a_while_ago() -> bool:
        """The breach is in ClickHouse, and the worker stayed live 3 s more (to see no second)."""
        if not first_seen and backend.query_rows(LIVE_BREACHES)[0]["n"]:
            first_seen.append(time.monotonic())
        return bool(first_seen) and time.monotonic() - first_seen[0] >= 3.0

    await run_app_until(app, breach_stored_a_while_ago, timeout_s=90, poll_s=0.5)
    return LiveRun(backend, sent_at, datetime.now(UTC), runtime.progress.latency_produced)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("latency")


@pytest.fixture(scope="module")
def clickhouse(root: Path) -> Iterator[ClickHouseBackend]:
    """One chDB directory for both scenarios: a process can open only one at a time."""
    settings = load_settings(db_dir=root / "db", table_dir=root / "tables")
    backend = prepare_clickhouse(_runtime(settings))
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def live(root: Path, clickhouse: ClickHouseBackend) -> LiveRun:
    with EmbeddedBroker() as broker:
        settings = _settings(
            root, broker, sla_first_reply_hours={"A": 0.002, "B": 1}, sla_reminder_fraction="off"
        )
        runtime = _runtime(settings)
        return asyncio.run(_live(runtime, clickhouse))


def test_an_unanswered_customer_breaches_at_the_deadline_while_live(live: LiveRun) -> None:
    [breach] = live.backend.query_rows(
        "SELECT kind, start_event_id, customer_tier, sla_s, deadline, detected_at, status "
        "FROM breaches WHERE start_event_id LIKE 'wecom:live-%'"
    )
    assert (breach["kind"], breach["start_event_id"]) == ("first_reply", "wecom:live-1")
    assert (breach["customer_tier"], breach["sla_s"], breach["status"]) == ("A", A_SLA_S, "open")
    deadline = _aware(breach["deadline"])
    assert deadline == live.sent_at + timedelta(seconds=A_SLA_S)
    late_by = (_aware(breach["detected_at"]) - deadline).total_seconds()
    assert 0 <= late_by < 3.0, late_by  # not before its deadline, and within the timer's beat
    assert live.stopped_at > deadline  # raised by the wall clock: no later event existed


def test_the_breach_is_raised_once_and_no_sample_is_made(live: LiveRun) -> None:
    assert live.backend.query_rows(LIVE_BREACHES) == [{"n": 1}]
    samples = "SELECT count() AS n FROM latency_samples WHERE start_event_id LIKE 'wecom:live-%'"
    assert live.backend.query_rows(samples) == [{"n": 0}]
    assert live.latency_outputs == 1  # reminders are off here: the breach is the only output


@dataclass
class RestartRun:
    backend: ClickHouseBackend
    first: Runtime
    second: Runtime
    question_at: datetime
    reply_at: datetime


async def _restart(settings: Settings, backend: ClickHouseBackend) -> RestartRun:
    first, second = _runtime(settings), _runtime(settings)
    await create_topics(settings, first.all_topics())
    question_at = (datetime.now(UTC) - timedelta(minutes=20)).replace(microsecond=0)
    reply_at = question_at + timedelta(minutes=15)
    question = _message("rs-1", "wmRestart01", "wangwu", question_at, "发票什么时候能开？")
    reply = _message("rs-2", "wangwu", "wmRestart01", reply_at, "今天下午开好发您")
    sink_group = f"sink-{uuid.uuid4().hex[:8]}"  # the same sink group on both sides of the restart

    await produce_raw(settings, {"wecom": [question]}, first.normalize_context)
    worker = build_app(first, backend, sink_group=sink_group)
    stored: list[float] = []

    def stored_and_committed() -> bool:
        """The question is stored, and faust's commit interval (2.8 s) has passed since."""
        if not stored and first.progress.sink_records["events"] >= 1:
            stored.append(time.monotonic())
        return bool(stored) and time.monotonic() - stored[0] >= COMMIT_INTERVAL_S + 1.0

    await run_app_until(worker, stored_and_committed, timeout_s=60)

    async def reply_once_running() -> None:
        await asyncio.sleep(1.0)
        await produce_raw(settings, {"wecom": [reply]}, second.normalize_context)

    replacement = build_app(second, backend, sink_group=sink_group)
    await asyncio.gather(
        run_app_until(
            replacement, lambda: second.progress.sink_records["latency"] >= 1, timeout_s=60
        ),
        reply_once_running(),
    )
    return RestartRun(backend, first, second, question_at, reply_at)


@pytest.fixture(scope="module")
def restarted(root: Path, clickhouse: ClickHouseBackend) -> RestartRun:
    with EmbeddedBroker() as broker:
        return asyncio.run(_restart(_settings(root, broker), clickhouse))


def test_a_restart_between_message_and_reply_gives_one_exact_sample(
    restarted: RestartRun,
) -> None:
    samples = restarted.backend.query_rows(
        "SELECT start_event_id, reply_event_id, rep_id, customer_tier, latency_s, breached "
        "FROM latency_samples WHERE start_event_id LIKE 'wecom:rs-%'"
    )
    assert samples == [
        {
            "start_event_id": "wecom:rs-1",
            "reply_event_id": "wecom:rs-2",
            "rep_id": "r-wang",
            "customer_tier": "B",
            "latency_s": (restarted.reply_at - restarted.question_at).total_seconds(),
            "breached": 0,
        }
    ]


def test_each_worker_did_its_half(restarted: RestartRun) -> None:
    first, second = restarted.first.progress, restarted.second.progress
    assert (first.raw_consumed, first.events_consumed, first.latency_produced) == (1, 1, 0)
    # The raw question may be read again after the restart (at least once): it is one event.
    assert second.latency_produced == 1
    events = restarted.backend.query_rows(
        "SELECT event_id FROM events WHERE event_id LIKE 'wecom:rs-%' ORDER BY event_id"
    )
    assert [row["event_id"] for row in events] == ["wecom:rs-1", "wecom:rs-2"]
