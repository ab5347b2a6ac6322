"""Generate a realistic week for a sales team and run it through the embedded pipeline.

12 reps, 200 customers of classes A/B/C; WeCom archive records, DingTalk robot messages, CRM
operation logs, SendGrid events and mailbox threads in their raw vendor shapes. Prints the
heatmaps, the latency table and the breaches, and leaves the ClickHouse directory behind.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.commands.embedded_run import add_common_arguments, run_and_report, settings_from

DEFAULT_DB = ".salesradar/demo-db"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=7, help="random seed of the generated week")
    parser.add_argument("--reps", type=int, default=12)
    parser.add_argument("--customers", type=int, default=200)
    add_common_arguments(parser, default_db=DEFAULT_DB)


def last_monday(now: datetime, zone: ZoneInfo) -> datetime:
    """Monday 00:00 (tenant time) of the previous full week, so every deadline has passed."""
    local_today = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    return (local_today - timedelta(days=local_today.weekday() + 7)).astimezone(UTC)


def run(args: argparse.Namespace) -> int:
    from pipeline.demo_data import generate_week

    settings = settings_from(args)
    db = Path(settings.db_dir)
    if db.exists():
        print(
            f"demo: starting from an empty {db} (removing the previous demo's data)",
            file=sys.stderr,
        )
        shutil.rmtree(db)
    start = last_monday(datetime.now(UTC), settings.zone)
    print(
        f"demo: generating the week of {start:%Y-%m-%d} (seed {args.seed}, {args.reps} reps, "
        f"{args.customers} customers)",
        file=sys.stderr,
    )
    data = generate_week(args.seed, start, reps=args.reps, customers=args.customers)
    return run_and_report(settings, data.records, data.directory)
