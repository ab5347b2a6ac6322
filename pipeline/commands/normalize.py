"""`salesradar normalize --source S FILE`: run a file through the normalize stage offline.

Events go to stdout as JSON lines, dead letters to stderr, then one summary line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import BinaryIO

import orjson

from pipeline.identity import Directory, DirectoryError
from pipeline.normalize import NormalizeContext, normalize_record
from pipeline.readers import read_records
from schemas.events import Rejection, Source

_MAILGUN_KEY_ENV = "SALESRADAR_MAILGUN_SIGNING_KEY"
_RAW_SHOWN = 500


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True, choices=[s.value for s in Source])
    parser.add_argument("file", type=Path, help="JSON lines, JSON array or XML callbacks")
    parser.add_argument("--directory", type=Path, help="identity directory (.toml or .csv)")
    parser.add_argument("--tenant", default="default")
    parser.add_argument("--max-text-chars", type=int, default=20000)


def rejection_line(rejection: Rejection) -> bytes:
    return orjson.dumps(
        {
            "reason": rejection.reason,
            "message": rejection.message,
            "raw": rejection.raw[:_RAW_SHOWN].decode("utf-8", errors="replace"),
        }
    )


def normalize_file(
    path: Path, source: str, ctx: NormalizeContext, out: BinaryIO, err: BinaryIO
) -> tuple[int, int]:
    """Writes events and rejections; returns (good, rejected)."""
    good = rejected = 0
    for offset, raw in enumerate(read_records(path, source)):
        for result in normalize_record(source, raw, ctx, topic=str(path), offset=offset):
            if isinstance(result, Rejection):
                rejected += 1
                err.write(rejection_line(result) + b"\n")
            else:
                good += 1
                out.write(orjson.dumps(result.model_dump(mode="json")) + b"\n")
    return good, rejected


def run(args: argparse.Namespace) -> int:
    try:
        directory = Directory.load(args.directory) if args.directory else Directory()
    except DirectoryError as error:
        print(f"normalize: {error}", file=sys.stderr)
        return 2
    ctx = NormalizeContext(
        directory=directory,
        tenant=args.tenant,
        max_text_chars=args.max_text_chars,
        mailgun_signing_key=os.environ.get(_MAILGUN_KEY_ENV) or None,
    )
    try:
        good, rejected = normalize_file(
            args.file, args.source, ctx, sys.stdout.buffer, sys.stderr.buffer
        )
    except OSError as error:
        print(f"normalize: cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    sys.stdout.flush()
    sys.stderr.buffer.flush()
    print(f"normalize: {good} good, {rejected} rejected", file=sys.stderr)
    return 0
