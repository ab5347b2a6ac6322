"""`salesradar migrate`: create or upgrade the ClickHouse schema from sql/."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.clickhouse import DEFAULT_SETTINGS_VARS, ClickHouseError, migrate, open_backend
from pipeline.clickhouse.target import resolve_target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--db", metavar="DIR", help="embedded chDB data directory")
    target.add_argument("--clickhouse-url", metavar="URL", help="http(s)://user:pass@host:port/db")
    parser.add_argument("--sql-dir", type=Path, help="migrations directory (default: sql/)")
    parser.add_argument(
        "--text-ttl-days",
        type=int,
        default=int(DEFAULT_SETTINGS_VARS["text_ttl_days"]),
        help="days after which events.text is blanked; fixed when events is created "
        "(default %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        target = resolve_target(args.db, args.clickhouse_url)
        if args.text_ttl_days < 1:
            raise ValueError("--text-ttl-days must be at least 1")
        backend = open_backend(target)
    except (ValueError, ClickHouseError) as error:
        print(f"migrate: {error}", file=sys.stderr)
        return 2
    try:
        applied = migrate(
            backend, args.sql_dir, settings_vars={"text_ttl_days": str(args.text_ttl_days)}
        )
    except ClickHouseError as error:
        print(f"migrate: {error}", file=sys.stderr)
        return 1
    finally:
        backend.close()
    for name in applied:
        print(f"applied {name}")
    print(f"{len(applied)} migration(s) applied" if applied else "schema is up to date")
    return 0
