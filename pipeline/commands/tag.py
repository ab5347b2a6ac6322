"""Tag messages with the 12 behaviour signals, or measure the tagger on a labelled set.

Reads JSON lines from stdin, each with `text` and optional `actor` (customer, rep, system;
default customer) and `kind`, and writes each line back with `signals` added. A line that
cannot be tagged is written as {"line": n, "error": <reason code>, "message": ...} in its
place, and the exit status is 1.

With --eval FILE, prints per-signal precision, recall and F1 and the macro averages, for the
dev and test splits separately when the rows carry a `split` field.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from pipeline.tagging import Tagger, TaxonomyError
from pipeline.tagging.evaluate import EvalFileError, evaluate, load_rows
from schemas.events import Actor, EventKind


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--taxonomy", type=Path, default=None, help="taxonomy TOML (default: the packaged one)"
    )
    parser.add_argument(
        "--eval", dest="eval_file", type=Path, default=None, help="labelled JSON-lines file"
    )
    parser.add_argument(
        "--split", default=None, help="with --eval: only this split (e.g. dev while tuning)"
    )
    parser.add_argument(
        "--errors", action="store_true", help="with --eval: also list every wrong message"
    )


def run(args: argparse.Namespace) -> int:
    try:
        tagger = Tagger.from_file(args.taxonomy)
    except TaxonomyError as exc:
        print(f"salesradar tag: {exc}", file=sys.stderr)
        return 2
    if args.eval_file is not None:
        return _run_eval(tagger, args.eval_file, args.split, args.errors)
    failed = False
    for row, ok in tag_lines(tagger, sys.stdin.buffer):
        failed = failed or not ok
        sys.stdout.buffer.write(orjson.dumps(row) + b"\n")
    sys.stdout.flush()
    return 1 if failed else 0


def tag_lines(
    tagger: Tagger, source: BinaryIO | Iterable[bytes]
) -> Iterator[tuple[dict[str, Any], bool]]:
    """One result per non-blank input line: (row with `signals`, True) or (rejection, False)."""
    for number, raw in enumerate(source, start=1):
        if raw.strip():
            yield _tag_row(tagger, raw, number)


def _tag_row(tagger: Tagger, raw: bytes, number: int) -> tuple[dict[str, Any], bool]:
    try:
        row = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return _rejection(number, "invalid_json", str(exc))
    if not isinstance(row, dict):
        return _rejection(number, "not_an_object", "each line must be a JSON object")
    text = row.get("text")
    if not isinstance(text, str):
        return _rejection(number, "missing_text", "`text` must be a string")
    try:
        actor = Actor(row.get("actor", Actor.CUSTOMER))
    except ValueError:
        return _rejection(number, "bad_actor", f"unknown actor {row.get('actor')!r}")
    try:
        kind = EventKind(row.get("kind", EventKind.MESSAGE))
    except ValueError:
        return _rejection(number, "bad_kind", f"unknown kind {row.get('kind')!r}")
    return {**row, "signals": list(tagger.tag(text, actor, kind))}, True


def _rejection(number: int, reason: str, message: str) -> tuple[dict[str, Any], bool]:
    return {"line": number, "error": reason, "message": message}, False


def _run_eval(tagger: Tagger, path: Path, only_split: str | None, show_errors: bool) -> int:
    try:
        rows = load_rows(path)
    except (OSError, EvalFileError) as exc:
        print(f"salesradar tag: {exc}", file=sys.stderr)
        return 2
    splits = sorted({row["split"] for row in rows if "split" in row})
    groups = [(split, [r for r in rows if r.get("split") == split]) for split in splits]
    if not splits:
        groups = [("all", rows)]
    if only_split is not None:
        groups = [(name, group) for name, group in groups if name == only_split]
        if not groups:
            print(f"salesradar tag: no rows with split {only_split!r} in {path}", file=sys.stderr)
            return 2
    for name, group in groups:
        report = evaluate(tagger, group)
        print(report.format(name))
        if show_errors:
            for mistake in report.mistakes:
                print(
                    f"  [{mistake.actor}] {mistake.text}  missed={list(mistake.missed)}"
                    f" extra={list(mistake.extra)}"
                )
        print()
    return 0
