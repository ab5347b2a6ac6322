"""`salesradar migrate` and `salesradar sql` against an embedded chDB directory."""

from __future__ import annotations

import argparse
from pathlib import Path

import chdb  # noqa: F401 - a missing chDB must fail these tests, not skip them
import orjson
import pytest

from pipeline.commands import migrate as migrate_command
from pipeline.commands import sql as sql_command

pytestmark = pytest.mark.integration


def _run(module, argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return module.run(parser.parse_args(argv))


def test_migrate_then_query_through_the_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "db")
    assert _run(migrate_command, ["--db", db, "--text-ttl-days", "90"]) == 0
    assert "applied 0001_events.sql" in capsys.readouterr().out
    assert _run(migrate_command, ["--db", db]) == 0
    assert capsys.readouterr().out.strip() == "schema is up to date"

    query = "SELECT component, weight FROM phi_weights FINAL ORDER BY component"
    assert _run(sql_command, ["--db", db, "--json", query]) == 0
    rows = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows == [
        {"component": "action_completeness", "weight": 0.4},
        {"component": "information_richness", "weight": 0.3},
        {"component": "response_timeliness", "weight": 0.3},
    ]
    assert _run(sql_command, ["--db", db, "SHOW CREATE TABLE events"]) == 0
    assert "toIntervalDay(90)" in capsys.readouterr().out


def test_commands_report_errors_without_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "db")
    assert _run(sql_command, ["--db", db, "SELECT * FROM missing_table"]) == 1
    assert "sql: " in capsys.readouterr().err
    monkeypatch.delenv("SALESRADAR_CLICKHOUSE_URL", raising=False)
    monkeypatch.delenv("SALESRADAR_DB_DIR", raising=False)
    assert _run(migrate_command, []) == 2
    assert "no ClickHouse given" in capsys.readouterr().err
    monkeypatch.setenv("SALESRADAR_DB_DIR", db)
    assert _run(migrate_command, ["--text-ttl-days", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
