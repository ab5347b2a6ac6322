"""The storage layer on real ClickHouse engines: chDB embedded, and clickhouse-connect over HTTP.

The server path talks to SALESRADAR_TEST_CLICKHOUSE_URL when it is set, else to a chDB-backed
ClickHouse HTTP endpoint this module starts. chDB missing is a failure, never a skip.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import chdb  # noqa: F401 - a missing chDB must fail these tests, not skip them
import pytest

from pipeline.clickhouse import (
    DEFAULT_SQL_DIR,
    ClickHouseBackend,
    ClickHouseError,
    ClickHouseUnavailable,
    EmbeddedBackend,
    MigrationError,
    ServerBackend,
    load_rep_directory,
    migrate,
)
from pipeline.clickhouse.migrations import discover

pytestmark = pytest.mark.integration

ENDPOINT_SCRIPT = Path(__file__).with_name("chdb_http.py")
MONDAY = date(2026, 3, 2)


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", "", ""))


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ClickHouse HTTP URL: the configured server, or the chDB endpoint started here."""
    configured = os.environ.get("SALESRADAR_TEST_CLICKHOUSE_URL")
    if configured:
        yield configured
        return
    work = tmp_path_factory.mktemp("chdb_http")
    port_file = work / "port"
    process = subprocess.Popen(
        [sys.executable, str(ENDPOINT_SCRIPT), str(work / "data"), str(port_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chdb_http did not start: {process.stderr.read().decode()}")
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port_file.read_text()}"
        with urllib.request.urlopen(f"{url}/ping", timeout=5) as response:
            assert response.read() == b"Ok.\n"
        yield url + "/default"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(params=["embedded", "server"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ClickHouseBackend]:
    """A fresh, empty database on each engine."""
    if request.param == "embedded":
        embedded = EmbeddedBackend(tmp_path / "chdb")
        yield embedded
        embedded.close()
        return
    url = request.getfixturevalue("server_url")
    compress = bool(os.environ.get("SALESRADAR_TEST_CLICKHOUSE_URL"))
    database = f"salesradar_test_{uuid.uuid4().hex[:12]}"
    admin = ServerBackend(url, compress=compress)
    admin.command(f"CREATE DATABASE {database}")
    server = ServerBackend(_with_database(url, database), compress=compress)
    yield server
    server.close()
    admin.command(f"DROP DATABASE IF EXISTS {database}")
    admin.close()


@pytest.fixture
def migrated(backend: ClickHouseBackend) -> ClickHouseBackend:
    migrate(backend)
    return backend


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _kafka(offset: int, topic: str = "salesradar.events") -> dict[str, Any]:
    return {"_topic": topic, "_partition": 0, "_offset": offset}


def event_row(event_id: str, occurred_at: datetime, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "tenant": "acme",
        "event_id": event_id,
        "source": "wecom",
        "source_format": "wecom_archive",
        "kind": "message",
        "actor": "rep",
        "actor_id": "r1",
        "rep_id": "r1",
        "customer_id": "c1",
        "customer_tier": "A",
        "conversation_id": "wecom:c1|r1",
        "occurred_at": occurred_at.isoformat().replace("+00:00", "Z"),
        "local_date": occurred_at.date().isoformat(),
        "local_weekday": occurred_at.isoweekday(),
        "local_hour": occurred_at.hour,
        "text": "您好",
        "text_truncated": 0,
        "parent_id": "",
        "attrs": {},
        "signals": [],
        **_kafka(0),
    }
    row.update(fields)
    return row


def signal_row(event_id: str, signal: str, occurred_at: datetime, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "tenant": "acme",
        "event_id": event_id,
        "signal": signal,
        "actor": "rep",
        "rep_id": "r1",
        "customer_id": "c1",
        "customer_tier": "A",
        "conversation_id": "wecom:c1|r1",
        "source": "wecom",
        "kind": "message",
        "occurred_at": occurred_at,
        "local_date": occurred_at.date(),
        "local_weekday": occurred_at.isoweekday(),
        "local_hour": occurred_at.hour,
        **_kafka(0, "salesradar.signals"),
    }
    row.update(fields)
    return row


def sample_row(sample_id: str, latency_s: float, **fields: Any) -> dict[str, Any]:
    started = _at(MONDAY, 9)
    replied = started + timedelta(seconds=latency_s)
    row: dict[str, Any] = {
        "tenant": "acme",
        "sample_id": sample_id,
        "kind": "first_reply",
        "source": "wecom",
        "conversation_id": "wecom:c1|r1",
        "start_event_id": f"{sample_id}:start",
        "reply_event_id": f"{sample_id}:reply",
        "rep_id": "r1",
        "owner_rep_id": "r1",
        "customer_id": "c1",
        "customer_tier": "A",
        "started_at": started,
        "replied_at": replied,
        "latency_s": latency_s,
        "business_latency_s": latency_s / 2,
        "sla_s": 7200.0,
        "breached": int(latency_s > 7200),
        "start_signals": ["quote"],
        "local_date": MONDAY,
        **_kafka(0, "salesradar.latency"),
    }
    row.update(fields)
    return row


def breach_row(breach_id: str, status: str, **fields: Any) -> dict[str, Any]:
    started = _at(MONDAY, 9)
    closed = status == "closed"
    row: dict[str, Any] = {
        "tenant": "acme",
        "breach_id": breach_id,
        "kind": "first_reply",
        "source": "wecom",
        "conversation_id": "wecom:c1|r1",
        "start_event_id": f"{breach_id}:start",
        "rep_id": "r1",
        "owner_rep_id": "r1",
        "customer_id": "c1",
        "customer_tier": "A",
        "started_at": started,
        "deadline": started + timedelta(hours=2),
        "sla_s": 7200.0,
        "detected_at": started + timedelta(hours=5 if closed else 2),
        "status": status,
        "closed_at": started + timedelta(hours=5) if closed else None,
        "reply_event_id": f"{breach_id}:reply" if closed else "",
        "latency_s": 18000.0 if closed else None,
        "last_customer_signals": ["objection_price"],
        "last_customer_text": "太贵了",
        "local_date": MONDAY,
        **_kafka(0, "salesradar.breaches"),
    }
    row.update(fields)
    return row


def alert_row(alert_id: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "tenant": "acme",
        "alert_id": alert_id,
        "breach_id": "b1",
        "stage": "breach",
        "channel": "wecom_robot",
        "recipient": "lead1",
        "status": "sent",
        "attempts": 1,
        "created_at": _at(MONDAY, 11),
        "sent_at": _at(MONDAY, 11, 1),
        "error": "",
        "digest_size": 1,
        **_kafka(0, "salesradar.alerts"),
    }
    row.update(fields)
    return row


def dead_letter_row(offset: int) -> dict[str, Any]:
    return {
        "source": "wecom",
        "reason": "invalid_json",
        "message": "Expecting value",
        "raw": b"\xff{not json",
        "raw_truncated": 0,
        "topic": "salesradar.raw.wecom",
        "partition": 0,
        "offset": offset,
        "received_at": _at(MONDAY, 12),
        **_kafka(offset, "salesradar.dlq"),
    }


def one_batch_of_everything() -> dict[str, list[dict[str, Any]]]:
    """Rows for every raw table, as the sink would send one batch of each topic."""
    events = [
        event_row("wecom:m1", _at(MONDAY, 9), actor="customer", signals=["quote"]),
        event_row("wecom:m2", _at(MONDAY, 10), signals=["quote"]),
        event_row("wecom:m3", _at(MONDAY, 10, 5), kind="file", signals=["material_sent"]),
        event_row("email:e1", _at(MONDAY, 11), source="email", kind="email_sent", customer_id="c2"),
    ]
    return {
        "events": events,
        "signals": [
            signal_row("wecom:m1", "quote", _at(MONDAY, 9), actor="customer"),
            signal_row("wecom:m2", "quote", _at(MONDAY, 10)),
            signal_row("wecom:m3", "material_sent", _at(MONDAY, 10, 5), kind="file"),
        ],
        "latency_samples": [sample_row("s1", 3600.0), sample_row("s2", 9000.0)],
        "breaches": [breach_row("b1", "open"), breach_row("b2", "closed")],
        "alerts": [alert_row("a1"), alert_row("a2", recipient="lead2")],
        "dead_letters": [dead_letter_row(7), dead_letter_row(8)],
    }


SNAPSHOT_QUERIES = {
    "events": "SELECT count() AS n FROM events",
    "signals": "SELECT count() AS n FROM signals",
    "latency_samples": "SELECT count() AS n FROM latency_samples",
    "breaches": "SELECT count() AS n FROM breaches",
    "alerts": "SELECT count() AS n FROM alerts",
    "dead_letters": "SELECT count() AS n FROM dead_letters",
    "signal_heatmap": "SELECT sum(signal_count) AS n FROM signal_heatmap",
    "latency_daily": (
        "SELECT sum(samples) AS n, sum(breached) AS b, max(p50_s) AS p FROM latency_daily"
    ),
    "breach_daily": "SELECT sum(breaches) AS n, sum(answered_late) AS c FROM breach_daily",
    "signal_first_seen": "SELECT count() AS n, min(first_at) AS f FROM signal_first_seen_agg",
    "rep_activity_daily": (
        "SELECT sum(messages_sent) AS m, sum(emails_sent) AS e, sum(files_sent) AS f, "
        "sum(customers_touched) AS c FROM rep_activity_daily"
    ),
}


def snapshot(backend: ClickHouseBackend) -> dict[str, list[dict[str, Any]]]:
    return {name: backend.query_rows(sql) for name, sql in SNAPSHOT_QUERIES.items()}


def insert_batches(backend: ClickHouseBackend, token_suffix: str) -> None:
    for table, rows in one_batch_of_everything().items():
        backend.insert_rows(table, rows, dedup_token=f"{table}-0-{token_suffix}")


# --- migrations -----------------------------------------------------------------------------


def test_migrations_apply_once_in_order_and_are_recorded(backend: ClickHouseBackend) -> None:
    expected = [migration.name for migration in discover(DEFAULT_SQL_DIR)]
    assert migrate(backend) == expected
    assert migrate(backend) == []
    recorded = backend.query_rows("SELECT name, checksum FROM schema_migrations ORDER BY name")
    assert [row["name"] for row in recorded] == expected
    checksums = {migration.name: migration.checksum for migration in discover(DEFAULT_SQL_DIR)}
    assert all(row["checksum"] == checksums[row["name"]] for row in recorded)


def test_changed_applied_migration_is_refused_and_new_one_applied(
    backend: ClickHouseBackend, tmp_path: Path
) -> None:
    sql_dir = tmp_path / "sql"
    shutil.copytree(DEFAULT_SQL_DIR, sql_dir)
    migrate(backend, sql_dir)
    (sql_dir / "0999_extra.sql").write_text(
        "-- a later migration\nCREATE TABLE IF NOT EXISTS extra (a UInt8) ENGINE = Memory;\n"
    )
    assert migrate(backend, sql_dir) == ["0999_extra.sql"]
    first = sql_dir / "0001_events.sql"
    first.write_text(first.read_text() + "\n-- edited after it was applied\n")
    with pytest.raises(MigrationError, match="0001_events.sql was changed after it was applied"):
        migrate(backend, sql_dir)


def test_retention_setting_must_be_a_whole_number(backend: ClickHouseBackend) -> None:
    with pytest.raises(MigrationError, match="text_ttl_days must be a whole number"):
        migrate(backend, settings_vars={"text_ttl_days": "30; DROP TABLE events"})
    assert backend.query_rows(
        "SELECT count() AS n FROM system.tables WHERE name = 'events' "
        "AND database = currentDatabase()"
    ) == [{"n": 0}]


def test_text_ttl_comes_from_the_setting_and_blanks_old_text(backend: ClickHouseBackend) -> None:
    migrate(backend, settings_vars={"text_ttl_days": "30"})
    create = backend.query_rows("SHOW CREATE TABLE events")[0]["statement"]
    assert "toIntervalDay(30)" in create
    old = datetime.now(UTC) - timedelta(days=31)
    recent = datetime.now(UTC) - timedelta(days=29)
    backend.insert_rows("events", [event_row("old", old), event_row("recent", recent)])
    backend.command("OPTIMIZE TABLE events FINAL")
    texts = backend.query_rows("SELECT event_id, text FROM events ORDER BY event_id")
    assert texts == [{"event_id": "old", "text": ""}, {"event_id": "recent", "text": "您好"}]


def test_every_table_has_dedup_window_and_commented_columns(migrated: ClickHouseBackend) -> None:
    mine = [
        "events", "signals", "latency_samples", "breaches", "alerts", "dead_letters",
        "signal_heatmap_agg", "latency_daily_agg", "breach_daily_agg", "rep_activity_daily_agg",
        "signal_first_seen_agg",
    ]  # fmt: skip
    tables = migrated.query_rows(
        "SELECT name, create_table_query FROM system.tables "
        "WHERE database = currentDatabase() AND name IN {names:Array(String)}",
        {"names": mine},
    )
    assert sorted(row["name"] for row in tables) == sorted(mine)
    for row in tables:
        assert "non_replicated_deduplication_window = 1000" in row["create_table_query"], row
    uncommented = migrated.query_rows(
        "SELECT table, name FROM system.columns WHERE database = currentDatabase() "
        "AND table IN {names:Array(String)} AND comment = ''",
        {"names": mine},
    )
    assert uncommented == []


# --- exactly-once effect of retried batches --------------------------------------------------


def test_same_batch_same_token_leaves_every_table_and_rollup_unchanged(
    migrated: ClickHouseBackend,
) -> None:
    insert_batches(migrated, "0-9")
    before = snapshot(migrated)
    assert before["signal_heatmap"] == [{"n": 3}]
    insert_batches(migrated, "0-9")
    assert snapshot(migrated) == before


def test_same_batch_different_token_is_counted_again(migrated: ClickHouseBackend) -> None:
    insert_batches(migrated, "0-9")
    once = snapshot(migrated)
    insert_batches(migrated, "10-19")
    twice = snapshot(migrated)
    assert twice["signal_heatmap"][0]["n"] == 2 * once["signal_heatmap"][0]["n"]
    assert twice["latency_daily"][0]["n"] == 2 * once["latency_daily"][0]["n"]
    assert twice["rep_activity_daily"][0]["m"] == 2 * once["rep_activity_daily"][0]["m"]
    assert twice["dead_letters"][0]["n"] == 2 * once["dead_letters"][0]["n"]
    # distinct breaches stay distinct however often their rows arrive
    assert twice["breach_daily"] == once["breach_daily"]


def test_activity_rollup_counts_what_reps_sent(migrated: ClickHouseBackend) -> None:
    insert_batches(migrated, "0-9")
    rows = migrated.query_rows("SELECT * FROM rep_activity_daily")
    assert len(rows) == 1
    activity = rows[0]
    assert (activity["messages_sent"], activity["emails_sent"], activity["files_sent"]) == (1, 1, 1)
    assert activity["customer_messages"] == 1
    assert activity["customers_touched"] == 2  # c1 by chat and file, c2 by email


def test_dead_letter_raw_bytes_are_kept_readable(migrated: ClickHouseBackend) -> None:
    migrated.insert_rows("dead_letters", [dead_letter_row(1)])
    assert migrated.query_rows("SELECT raw FROM dead_letters") == [{"raw": "\\xff{not json"}]


# --- rollups ---------------------------------------------------------------------------------


def test_heatmap_totals_equal_signal_counts(migrated: ClickHouseBackend) -> None:
    rng = random.Random(7)
    signals = ["quote", "demo", "objection_price", "material_sent"]
    rows = []
    for number in range(3000):
        moment = _at(MONDAY, 0) + timedelta(minutes=rng.randrange(14 * 24 * 60))
        rows.append(
            signal_row(
                f"e{number}",
                rng.choice(signals),
                moment,
                rep_id=rng.choice(["r1", "r2", "r3"]),
                _offset=number,
            )
        )
    for start in range(0, len(rows), 500):
        migrated.insert_rows("signals", rows[start : start + 500], dedup_token=f"s-0-{start}")
    expected = Counter(
        (row["rep_id"], row["signal"], row["local_weekday"], row["local_hour"]) for row in rows
    )
    heatmap = migrated.query_rows(
        "SELECT rep_id, signal, local_weekday, local_hour, sum(signal_count) AS n "
        "FROM signal_heatmap GROUP BY rep_id, signal, local_weekday, local_hour"
    )
    got = {
        (row["rep_id"], row["signal"], row["local_weekday"], row["local_hour"]): row["n"]
        for row in heatmap
    }
    assert got == dict(expected)
    total = migrated.query_rows("SELECT sum(signal_count) AS n FROM signal_heatmap")[0]["n"]
    assert total == migrated.query_rows("SELECT count() AS n FROM signals")[0]["n"] == 3000


def _rank(sorted_values: list[float], value: float) -> float:
    """Share of samples at or below value."""
    below = sum(1 for item in sorted_values if item <= value)
    return below / len(sorted_values)


def test_latency_quantiles_within_tdigest_error(migrated: ClickHouseBackend) -> None:
    rng = random.Random(11)
    latencies = [rng.lognormvariate(8, 1.2) for _ in range(5000)]
    rows = [sample_row(f"s{i}", value, _offset=i) for i, value in enumerate(latencies)]
    for start in range(0, len(rows), 1000):
        migrated.insert_rows("latency_samples", rows[start : start + 1000], dedup_token=f"l{start}")
    result = migrated.query_rows("SELECT * FROM latency_daily")
    assert len(result) == 1
    daily = result[0]
    ordered = sorted(latencies)
    for level, column in ((0.5, "p50_s"), (0.9, "p90_s"), (0.99, "p99_s")):
        # t-digest's error is in rank: the estimate sits within 1 % of the true quantile's rank
        assert abs(_rank(ordered, daily[column]) - level) <= 0.01, (column, daily[column])
    assert daily["samples"] == 5000
    assert daily["breached"] == sum(1 for value in latencies if value > 7200)
    business = sorted(value / 2 for value in latencies)
    assert abs(_rank(business, daily["business_p90_s"]) - 0.9) <= 0.01


def test_each_breach_counted_once_and_current_state_is_latest(
    migrated: ClickHouseBackend,
) -> None:
    migrated.insert_rows("breaches", [breach_row("b1", "open")], dedup_token="b-0-1-1")
    migrated.insert_rows("breaches", [breach_row("b1", "closed")], dedup_token="b-0-2-2")
    # a replay that starts after the deadline only ever produces the closed row
    migrated.insert_rows("breaches", [breach_row("b2", "closed")], dedup_token="b-0-3-3")
    migrated.insert_rows("breaches", [breach_row("b3", "open")], dedup_token="b-0-4-4")
    daily = migrated.query_rows(
        "SELECT breaches, answered_late, still_unanswered FROM breach_daily"
    )
    assert daily == [{"breaches": 3, "answered_late": 2, "still_unanswered": 1}]
    current = migrated.query_rows(
        "SELECT breach_id, status, latency_s FROM breaches_current ORDER BY breach_id"
    )
    assert current == [
        {"breach_id": "b1", "status": "closed", "latency_s": 18000.0},
        {"breach_id": "b2", "status": "closed", "latency_s": 18000.0},
        {"breach_id": "b3", "status": "open", "latency_s": None},
    ]


# --- PHI and self-check on a hand-computed week -----------------------------------------------


def _stage_change(event_id: str, deal: str, when: datetime, new: str, old: str = "") -> dict:
    attrs = {"field": "stage", "new_value": new} | ({"old_value": old} if old else {})
    return event_row(
        event_id, when, source="crm", source_format="fxiaoke_oplog", kind="stage_changed",
        actor="rep", customer_id=deal.removeprefix("crm:"), conversation_id=deal, attrs=attrs,
        text="",
    )  # fmt: skip


def _field_change(event_id: str, deal: str, when: datetime, field: str, value: str) -> dict:
    return event_row(
        event_id, when, source="crm", source_format="fxiaoke_oplog", kind="field_changed",
        actor="rep", customer_id=deal.removeprefix("crm:"), conversation_id=deal,
        attrs={"field": field, "new_value": value}, text="",
    )  # fmt: skip


def load_phi_week(backend: ClickHouseBackend) -> None:
    """Week of Monday 2026-03-02. Rep r1 (team east) works deals d1, d2, d3; r2 (east) replies.

    Action completeness r1: d1 leaves 初步沟通 with screening (ok) then leaves 方案演示 with demo
    but no material_sent (missed) -> not compliant; d2 leaves 报价比价 (known from its previous
    move, no old_value) with a quote signal before the move -> compliant; d3 leaves 合同谈判 but
    its contract signal comes after the move -> not compliant. 1 of 3.
    Timeliness r1: 3 first-reply samples within SLA, 1 breached, plus 1 open breach -> 3/5.
    r2: 1 sample within -> 1/1.
    Richness r1: d1 决策人=张总 (filled), 预算=暂无, 时间窗口 Q2 then 待确认 (latest counts, not
    filled) -> 1/4; d2 budget 50万, pain_point 数据孤岛, decision_maker 李总, timeline ' 暂无 '
    -> 3/4; d3 nothing -> 0/4. 4 of 12.
    """
    day = MONDAY
    events = [
        _stage_change("crm:1", "crm:d1", _at(day + timedelta(1), 10), "方案演示", "初步沟通"),
        _stage_change("crm:2", "crm:d1", _at(day + timedelta(2), 10), "报价比价", "方案演示"),
        _stage_change("crm:3", "crm:d2", _at(day + timedelta(2), 11), "报价比价", ""),
        _stage_change("crm:4", "crm:d2", _at(day + timedelta(3), 10), "合同谈判", ""),
        _stage_change("crm:5", "crm:d3", _at(day + timedelta(3), 10), "付款确认", "合同谈判"),
        _field_change("crm:6", "crm:d1", _at(day, 15), "决策人", "张总"),
        _field_change("crm:7", "crm:d1", _at(day, 15), "预算", "暂无"),
        _field_change("crm:8", "crm:d1", _at(day, 15), "时间窗口", "Q2"),
        _field_change("crm:9", "crm:d1", _at(day + timedelta(1), 9), "时间窗口", "待确认"),
        _field_change("crm:10", "crm:d2", _at(day, 16), "budget", "50万"),
        _field_change("crm:11", "crm:d2", _at(day, 16), "痛点", "数据孤岛"),
        _field_change("crm:12", "crm:d2", _at(day, 16), "Decision_Maker", "李总"),
        _field_change("crm:13", "crm:d2", _at(day, 16), "时间窗口", " 暂无 "),
    ]
    backend.insert_rows("events", events)
    chat = {"conversation_id": "wecom:chat1"}
    backend.insert_rows(
        "signals",
        [
            # chat signals reach the deal through the customer id (d1 is customer 'd1')
            signal_row("w1", "screening", _at(day, 10), customer_id="d1", **chat),
            signal_row("w2", "demo", _at(day + timedelta(1), 12), customer_id="d1", **chat),
            # the signal on the deal's own CRM conversation counts too
            signal_row(
                "w3", "quote", _at(day + timedelta(3), 9), customer_id="", conversation_id="crm:d2"
            ),
            signal_row("w4", "contract", _at(day + timedelta(3), 11), customer_id="d3", **chat),
        ],
    )  # fmt: skip
    backend.insert_rows(
        "latency_samples",
        [
            sample_row("s1", 3600.0),
            sample_row("s2", 3600.0),
            sample_row("s3", 3600.0),
            sample_row("s4", 18000.0, customer_tier="B", sla_s=14400.0, breached=1),
            sample_row("s5", 600.0, rep_id="r2", owner_rep_id="r2"),
        ],
    )
    backend.insert_rows(
        "breaches",
        [breach_row("b-open", "open"), breach_row("b-late", "closed", customer_tier="B")],
    )
    load_rep_directory(
        backend,
        [
            {"tenant": "acme", "rep_id": "r1", "name": "王一", "team": "east"},
            {"tenant": "acme", "rep_id": "r2", "name": "李二", "team": "east"},
        ],
    )


def test_phi_per_rep_on_a_hand_computed_week(migrated: ClickHouseBackend) -> None:
    load_phi_week(migrated)
    rows = migrated.query_rows("SELECT * FROM phi_weekly_rep ORDER BY rep_id")
    assert [(row["rep_id"], row["week"], row["team"]) for row in rows] == [
        ("r1", MONDAY, "east"),
        ("r2", MONDAY, "east"),
    ]
    r1, r2 = rows
    assert (r1["deals"], r1["deals_compliant"]) == (3, 1)
    assert (r1["waits"], r1["waits_within_sla"]) == (5, 3)
    assert (r1["fields_total"], r1["fields_filled"]) == (12, 4)
    assert r1["action_completeness"] == pytest.approx(1 / 3)
    assert r1["response_timeliness"] == pytest.approx(3 / 5)
    assert r1["information_richness"] == pytest.approx(4 / 12)
    assert r1["phi"] == pytest.approx(0.4 * (1 / 3) + 0.3 * (3 / 5) + 0.3 * (4 / 12))
    # r2 has only replies: the index is its timeliness alone, not diluted by missing parts
    assert (r2["action_completeness"], r2["information_richness"]) == (None, None)
    assert r2["phi"] == pytest.approx(1.0)


def test_phi_per_team_sums_counts_before_dividing(migrated: ClickHouseBackend) -> None:
    load_phi_week(migrated)
    rows = migrated.query_rows("SELECT * FROM phi_weekly_team")
    assert len(rows) == 1
    team = rows[0]
    assert (team["team"], team["reps"], team["waits"], team["waits_within_sla"]) == (
        "east", 2, 6, 4,
    )  # fmt: skip
    assert team["response_timeliness"] == pytest.approx(4 / 6)
    assert team["phi"] == pytest.approx(0.4 * (1 / 3) + 0.3 * (4 / 6) + 0.3 * (4 / 12))


def test_stage_requirements_and_weights_are_editable_with_insert(
    migrated: ClickHouseBackend,
) -> None:
    load_phi_week(migrated)
    migrated.command(
        "INSERT INTO stage_requirements (stage, signal, enabled) "
        "VALUES ('方案演示', 'material_sent', 0)"
    )
    migrated.command(
        "INSERT INTO phi_weights (component, weight) VALUES ('action_completeness', 1)"
    )
    r1 = migrated.query_rows("SELECT * FROM phi_weekly_rep WHERE rep_id = 'r1'")[0]
    assert r1["action_completeness"] == pytest.approx(2 / 3)  # d1 is now compliant
    expected = (1 * (2 / 3) + 0.3 * (3 / 5) + 0.3 * (4 / 12)) / 1.6
    assert r1["phi"] == pytest.approx(expected)


def test_selfcheck_lights_against_targets(migrated: ClickHouseBackend) -> None:
    load_phi_week(migrated)
    rows = migrated.query_rows(
        "SELECT check_name, customer_tier, value, status FROM selfcheck_weekly_rep "
        "WHERE rep_id = 'r1' ORDER BY check_name, customer_tier"
    )
    lights = {(row["check_name"], row["customer_tier"]): row for row in rows}
    assert set(lights) == {
        ("lead_first_response", "A"),
        ("lead_first_response", "B"),
        ("profile_richness", ""),
        ("stage_advance_compliance", ""),
    }
    assert lights[("lead_first_response", "A")]["value"] == pytest.approx(1.0)  # all 1 h
    assert lights[("lead_first_response", "A")]["status"] == "green"  # <= 2 h
    assert lights[("lead_first_response", "B")]["value"] == pytest.approx(5.0)
    assert lights[("lead_first_response", "B")]["status"] == "yellow"  # > 4 h, <= 6 h
    assert lights[("stage_advance_compliance", "")]["status"] == "red"  # 1/3 < 0.8
    assert lights[("profile_richness", "")]["status"] == "red"
    migrated.command(
        "INSERT INTO selfcheck_targets (check_name, customer_tier, direction, target, "
        "yellow_limit, unit) VALUES ('profile_richness', '', 'at_least', 0.3, 0.2, 'share')"
    )
    team = migrated.query_rows(
        "SELECT status FROM selfcheck_weekly_team WHERE check_name = 'profile_richness'"
    )
    assert team == [{"status": "green"}]


# --- backend behaviour ------------------------------------------------------------------------


def test_rep_directory_latest_load_wins(migrated: ClickHouseBackend) -> None:
    load_rep_directory(migrated, [{"tenant": "acme", "rep_id": "r1", "team": "east"}])
    load_rep_directory(migrated, [{"tenant": "acme", "rep_id": "r1", "team": "west"}])
    rows = migrated.query_rows("SELECT rep_id, team FROM rep_directory FINAL")
    assert rows == [{"rep_id": "r1", "team": "west"}]
    with pytest.raises(ValueError, match="no rep_id"):
        load_rep_directory(migrated, [{"team": "east"}])


def test_bad_rows_raise_clickhouse_error(migrated: ClickHouseBackend) -> None:
    with pytest.raises(ClickHouseError):
        migrated.insert_rows("signals", [signal_row("e1", "quote", _at(MONDAY, 9), nope=1)])
    with pytest.raises(ClickHouseError):
        migrated.query_rows("SELECT * FROM no_such_table")
    with pytest.raises(ValueError, match="not a plain table name"):
        migrated.insert_rows("signals; DROP TABLE events", [{}])
    assert migrated.query_rows("SELECT count() AS n FROM signals") == [{"n": 0}]


def test_query_parameters_are_bound_server_side(migrated: ClickHouseBackend) -> None:
    migrated.insert_rows("signals", [signal_row("e'1", "quote", _at(MONDAY, 9))])
    rows = migrated.query_rows(
        "SELECT event_id, occurred_at FROM signals WHERE event_id = {id:String}", {"id": "e'1"}
    )
    assert rows == [{"event_id": "e'1", "occurred_at": _at(MONDAY, 9)}]


def test_unreachable_server_is_retryable() -> None:
    with pytest.raises(ClickHouseUnavailable):
        ServerBackend("http://127.0.0.1:9/default", connect_timeout=1, compress=False)
