"""Output of `salesradar sql`: aligned tables a person can read, JSON lines a script can."""

from __future__ import annotations

from datetime import UTC, date, datetime

import orjson

from pipeline.commands.sql import display_width, format_json_lines, format_table


def test_table_aligns_chinese_text_and_right_aligns_numbers() -> None:
    rows = [
        {"stage": "方案演示", "signal": "demo", "n": 12},
        {"stage": "报价", "signal": "quote", "n": 3},
    ]
    lines = format_table(rows).splitlines()
    assert lines[0] == "stage     signal   n"
    assert lines[2] == "方案演示  demo    12"
    assert lines[3] == "报价      quote    3"
    assert lines[-1] == "(2 rows)"
    assert len({display_width(line) for line in lines[:4]}) == 1


def test_table_renders_nulls_dates_and_empty_results() -> None:
    rows = [{"at": datetime(2026, 3, 2, 9, tzinfo=UTC), "day": date(2026, 3, 2), "v": None}]
    body = format_table(rows).splitlines()[2]
    assert body.split() == ["2026-03-02", "09:00:00.000Z", "2026-03-02", "NULL"]
    assert format_table([]) == "(0 rows)"


def test_json_lines_one_object_per_row() -> None:
    rows = [{"at": datetime(2026, 3, 2, 9, tzinfo=UTC), "tags": ["a"]}, {"at": None, "tags": []}]
    lines = format_json_lines(rows).splitlines()
    assert [orjson.loads(line) for line in lines] == [
        {"at": "2026-03-02T09:00:00Z", "tags": ["a"]},
        {"at": None, "tags": []},
    ]
