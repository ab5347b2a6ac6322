"""Run your own files through the embedded pipeline (broker + ClickHouse in-process), then report.

Each --input is SOURCE=FILE with SOURCE one of wecom, dingtalk, crm, email; a file holds JSON
lines, a JSON array, or (WeCom callbacks) XML documents. Rejected records do not fail the run:
they are counted in the report and kept in the dead_letters table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.commands.embedded_run import add_common_arguments, run_and_report, settings_from
from pipeline.identity import Directory
from pipeline.readers import read_records
from pipeline.settings import SOURCES


def _input(value: str) -> tuple[str, Path]:
    source, sep, path = value.partition("=")
    if not sep or source not in SOURCES or not path:
        raise argparse.ArgumentTypeError(
            f"{value!r}: expected SOURCE=FILE with SOURCE one of {', '.join(SOURCES)}"
        )
    return source, Path(path)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--embedded",
        action="store_true",
        required=True,
        help="start an embedded broker and ClickHouse (the only mode here)",
    )
    parser.add_argument(
        "--input",
        type=_input,
        action="append",
        required=True,
        metavar="SOURCE=FILE",
        help="a source's file; repeat for more",
    )
    parser.add_argument("--directory", type=Path, help="identity directory (CSV or TOML)")
    add_common_arguments(parser, default_db=None)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    records: dict[str, list[bytes]] = {}
    for source, path in args.input:
        if not path.is_file():
            print(f"run: {path}: no such file", file=sys.stderr)
            return 2
        records.setdefault(source, []).extend(read_records(path, source))
    directory_path = args.directory or settings.directory_file
    directory = Directory.load(directory_path) if directory_path else None
    return run_and_report(settings, records, directory)
