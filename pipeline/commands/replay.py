"""Produce a file's records, unchanged, to the raw topic of a source on the configured broker."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from pipeline.readers import read_records
from pipeline.settings import SOURCES, load_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True, choices=SOURCES)
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")


def run(args: argparse.Namespace) -> int:
    from agents.runner import produce_raw

    settings = load_settings()
    records: list[bytes] = []
    for path in args.files:
        if not path.is_file():
            print(f"replay: {path}: no such file", file=sys.stderr)
            return 2
        records.extend(read_records(path, args.source))
    sent = asyncio.run(produce_raw(settings, {args.source: records}))
    print(f"replay: {sent} records sent to {settings.raw_topic(args.source)}", file=sys.stderr)
    return 0
