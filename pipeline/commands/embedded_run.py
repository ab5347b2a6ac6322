"""Shared by `demo` and `run --embedded`: settings from flags, the run, the printed report."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipeline.identity import Directory
from pipeline.report import alert_outcomes, full_report
from pipeline.settings import Settings, load_settings


def add_common_arguments(parser: argparse.ArgumentParser, default_db: str | None) -> None:
    parser.add_argument(
        "--db",
        metavar="DIR",
        default=default_db,
        help="embedded ClickHouse (chDB) data directory"
        + (f" (default {default_db})" if default_db else " (default: setting db_dir)"),
    )
    parser.add_argument(
        "--partitions",
        type=int,
        default=None,
        help="partitions per topic (default: setting topic_partitions)",
    )


def settings_from(args: argparse.Namespace, **overrides: object) -> Settings:
    if args.db:
        overrides["db_dir"] = Path(args.db)
    if args.partitions:
        overrides["topic_partitions"] = args.partitions
    return load_settings(**overrides)


def run_and_report(
    settings: Settings,
    records: Mapping[str, Sequence[bytes]],
    directory: Directory | None,
) -> int:
    """Run the embedded pipeline to completion and print the manager's report."""
    from agents.runner import run_embedded  # faust is only imported when a pipeline runs
    from pipeline.runtime import Runtime

    started = time.monotonic()

    def runtime_factory(run_settings: Settings) -> Runtime:
        return Runtime.from_settings(run_settings, directory=directory)

    runtime, backend, summary = run_embedded(settings, records, runtime_factory)

    def alerts_section() -> str:
        lines = summary.alert_lines or ["(no alert reached the local receiver)"]
        return "\n".join(
            [
                "ALERTS — what managers would have received (local receiver)",
                "",
                *lines,
                "",
                alert_outcomes(backend, settings.tenant),
            ]
        )

    try:
        print(full_report(backend, settings.tenant, settings.timezone, extra=alerts_section))
    finally:
        backend.close()
    progress = summary.progress
    print(
        f"\nprocessed {summary.raw_records} raw records → {progress.events_produced} events, "
        f"{progress.rejected} dead letters, {progress.latency_produced} waits/breaches/reminders "
        f"in {time.monotonic() - started:.1f}s",
        file=sys.stderr,
    )
    print(
        f"ClickHouse data left in {settings.db_dir.resolve()} — query it with "
        f'`salesradar sql --db {settings.db_dir} "SELECT ..."`',
        file=sys.stderr,
    )
    return 0
