"""Pure pieces of the ClickHouse layer: SQL text handling, value encoding and decoding."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from pipeline.clickhouse import MigrationError, open_backend
from pipeline.clickhouse.decode import decoder_for
from pipeline.clickhouse.migrations import DEFAULT_SQL_DIR, discover
from pipeline.clickhouse.rows import to_json_each_row
from pipeline.clickhouse.server import native_coercer
from pipeline.clickhouse.settings import dedup_settings, format_parameter, render_settings
from pipeline.clickhouse.sql_text import check_identifier, fill_template, split_statements
from pipeline.clickhouse.target import DB_DIR_ENV, URL_ENV, resolve_target


def test_split_statements_on_semicolon_at_line_end_without_comments() -> None:
    text = (
        "-- header; with a semicolon at the end;\n"
        "CREATE TABLE a (x String DEFAULT 'a;b') ENGINE = Memory;\n"
        "\n"
        "INSERT INTO a VALUES\n"
        "    ('1'),\n"
        "    ('2');\n"
        "SELECT 1"
    )
    assert split_statements(text) == [
        "CREATE TABLE a (x String DEFAULT 'a;b') ENGINE = Memory",
        "INSERT INTO a VALUES\n    ('1'),\n    ('2')",
        "SELECT 1",
    ]


def test_fill_template_leaves_query_parameters_and_refuses_unknown_names() -> None:
    sql = "TTL d + INTERVAL {text_ttl_days} DAY WHERE x = {id:String}"
    assert fill_template(sql, {"text_ttl_days": "90"}) == (
        "TTL d + INTERVAL 90 DAY WHERE x = {id:String}"
    )
    with pytest.raises(KeyError, match="retention"):
        fill_template("{retention}", {})


def test_every_shipped_migration_is_numbered_and_fills_with_defaults() -> None:
    migrations = discover(DEFAULT_SQL_DIR)
    names = [migration.name for migration in migrations]
    assert names == sorted(names)
    assert names[0] == "0001_events.sql"
    for migration in migrations:
        for statement in split_statements(migration.text):
            filled = fill_template(statement, {"text_ttl_days": "180"})
            assert "{text_ttl_days}" not in filled


def test_discover_refuses_badly_named_or_duplicate_numbers(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 2;")
    with pytest.raises(MigrationError, match="number 0001 also used"):
        discover(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "events.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="0001_events.sql"):
        discover(other)


def test_check_identifier_refuses_injection() -> None:
    assert check_identifier("db.events") == "db.events"
    for bad in ("events; DROP TABLE x", "1events", "ev ents", ""):
        with pytest.raises(ValueError):
            check_identifier(bad)


def test_dedup_settings_turn_on_mv_dedup_with_the_token() -> None:
    assert dedup_settings(None) == {}
    assert dedup_settings("t-0-1-9") == {
        "insert_deduplicate": 1,
        "insert_deduplication_token": "t-0-1-9",
        "deduplicate_blocks_in_dependent_materialized_views": 1,
    }
    with pytest.raises(ValueError):
        dedup_settings("")


def test_render_settings_quotes_strings_and_refuses_odd_names() -> None:
    rendered = render_settings({"insert_deduplication_token": "a'b\\c", "max_threads": 2})
    assert rendered == "insert_deduplication_token = 'a\\'b\\\\c', max_threads = 2"
    with pytest.raises(ValueError):
        render_settings({"x = 1; DROP": 1})


def test_format_parameter_renders_clickhouse_text_values() -> None:
    shanghai = timezone(timedelta(hours=8))
    assert format_parameter(datetime(2026, 3, 2, 17, 0, 0, 123000, tzinfo=shanghai)) == (
        "2026-03-02 09:00:00.123"
    )
    assert format_parameter(date(2026, 3, 2)) == "2026-03-02"
    assert format_parameter(["a'b", "c"]) == "['a\\'b','c']"
    assert format_parameter([1, 2.5]) == "[1,2.5]"
    assert format_parameter("plain") == "plain"


def test_json_rows_keep_bytes_readable_and_datetimes_iso() -> None:
    moment = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    encoded = to_json_each_row(
        [{"raw": b"\xffok", "at": moment, "tags": {"b", "a"}}, {"raw": b"", "at": moment}]
    )
    first, second = (orjson.loads(line) for line in encoded.split(b"\n"))
    assert first == {"raw": "\\xffok", "at": "2026-03-02T09:00:00+00:00", "tags": ["a", "b"]}
    assert second["raw"] == ""
    with pytest.raises(TypeError, match="object"):
        to_json_each_row([{"x": object()}])


def test_decoders_return_aware_utc_datetimes_dates_and_ints() -> None:
    assert decoder_for("DateTime64(3, 'UTC')")("2026-03-02 09:00:00.250") == datetime(
        2026, 3, 2, 9, 0, 0, 250000, tzinfo=UTC
    )
    shanghai = decoder_for("Array(DateTime64(3, 'Asia/Shanghai'))")
    assert shanghai(["2026-03-02 17:00:00.000"]) == [datetime(2026, 3, 2, 9, tzinfo=UTC)]
    assert decoder_for("Nullable(Date)")(None) is None
    assert decoder_for("LowCardinality(Nullable(Date))")("2026-03-02") == date(2026, 3, 2)
    assert decoder_for("UInt64")("18446744073709551615") == 2**64 - 1
    assert decoder_for("Map(String, String)")({"a": "b"}) == {"a": "b"}


def test_native_coercers_accept_what_the_sink_sends() -> None:
    assert native_coercer("DateTime64(3, 'UTC')")("2026-03-02T09:00:00.5Z") == datetime(
        2026, 3, 2, 9, 0, 0, 500000, tzinfo=UTC
    )
    assert native_coercer("Nullable(DateTime64(3, 'UTC'))")(None) is None
    assert native_coercer("Date")("2026-03-02") == date(2026, 3, 2)
    assert native_coercer("UInt8")(True) == 1
    assert native_coercer("Array(LowCardinality(String))")(("a", "b")) == ["a", "b"]
    assert native_coercer("String")(b"\xffx") == "\\xffx"


def test_open_backend_refuses_unknown_addresses() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        open_backend("ftp://host/db")
    with pytest.raises(ValueError, match="needs a directory"):
        open_backend("chdb://")


def test_resolve_target_prefers_flags_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(URL_ENV, raising=False)
    monkeypatch.delenv(DB_DIR_ENV, raising=False)
    with pytest.raises(ValueError, match="no ClickHouse given"):
        resolve_target()
    monkeypatch.setenv(DB_DIR_ENV, "/var/lib/salesradar")
    assert resolve_target() == "/var/lib/salesradar"
    monkeypatch.setenv(URL_ENV, "http://ch:8123/db")
    assert resolve_target() == "http://ch:8123/db"
    assert resolve_target(db_dir="/tmp/x") == "/tmp/x"
    with pytest.raises(ValueError, match="not both"):
        resolve_target(db_dir="/tmp/x", clickhouse_url="http://ch:8123")
