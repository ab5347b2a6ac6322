"""`salesradar sql "QUERY"`: run one query and print an aligned table or JSON lines."""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import orjson

from pipeline.clickhouse import ClickHouseError, open_backend
from pipeline.clickhouse.target import resolve_target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--db", metavar="DIR", help="embedded chDB data directory")
    target.add_argument("--clickhouse-url", metavar="URL", help="http(s)://user:pass@host:port/db")
    parser.add_argument("--json", action="store_true", help="print one JSON object per row")
    parser.add_argument("query", help="the SQL to run")


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    return str(value)


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two, so Chinese names stay aligned."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int, right: bool) -> str:
    padding = " " * (width - display_width(text))
    return padding + text if right else text + padding


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """Columns padded to their widest cell; numbers right-aligned."""
    if not rows:
        return "(0 rows)"
    names = list(rows[0])
    cells = [[_cell(row[name]) for name in names] for row in rows]
    widths = [
        max(display_width(name), *(display_width(line[i]) for line in cells))
        for i, name in enumerate(names)
    ]
    numeric = [all(isinstance(row[name], int | float) for row in rows) for name in names]

    def render(values: Sequence[str]) -> str:
        return "  ".join(
            _pad(value, width, is_number)
            for value, width, is_number in zip(values, widths, numeric, strict=True)
        ).rstrip()

    lines = [render(names), "  ".join("-" * width for width in widths)]
    lines.extend(render(line) for line in cells)
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def format_json_lines(rows: Sequence[dict[str, Any]]) -> str:
    """One JSON object per row; datetimes in RFC 3339."""
    return "\n".join(
        orjson.dumps(row, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS).decode()
        for row in rows
    )


def run(args: argparse.Namespace) -> int:
    try:
        backend = open_backend(resolve_target(args.db, args.clickhouse_url))
    except (ValueError, ClickHouseError) as error:
        print(f"sql: {error}", file=sys.stderr)
        return 2
    try:
        rows = backend.query_rows(args.query)
    except ClickHouseError as error:
        print(f"sql: {error}", file=sys.stderr)
        return 1
    finally:
        backend.close()
    output = format_json_lines(rows) if args.json else format_table(rows)
    if output:
        print(output)
    return 0
