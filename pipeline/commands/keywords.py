"""Grow the taxonomy from your own chats: `keywords suggest --input FILE`.

Ranks candidate new keywords per signal from the messages the current taxonomy leaves
untagged (jieba.analyse TF-IDF or TextRank), placing each under the signal it most often
accompanies in the messages that were tagged. FILE holds JSON lines with `text` and optional
`actor`, or plain text, one message a line. Lines that cannot be read are counted on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

from pipeline.tagging import Tagger, TaxonomyError
from pipeline.tagging.suggest import METHODS, suggest_keywords
from schemas.events import Actor


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    suggest = actions.add_parser("suggest", help="rank candidate keywords per signal")
    suggest.add_argument("--input", type=Path, required=True, help="messages, one per line")
    suggest.add_argument("--taxonomy", type=Path, default=None, help="taxonomy TOML")
    suggest.add_argument("--top", type=int, default=10, help="suggestions per signal")
    suggest.add_argument("--method", choices=METHODS, default="tfidf")
    suggest.add_argument(
        "--min-count", type=int, default=2, help="untagged messages a word must appear in"
    )


def run(args: argparse.Namespace) -> int:
    try:
        tagger = Tagger.from_file(args.taxonomy)
    except TaxonomyError as exc:
        print(f"salesradar keywords: {exc}", file=sys.stderr)
        return 2
    try:
        messages, skipped = read_messages(args.input)
    except OSError as exc:
        print(f"salesradar keywords: cannot read {args.input}: {exc}", file=sys.stderr)
        return 2
    for number, reason in skipped:
        print(f"salesradar keywords: {args.input}:{number}: skipped: {reason}", file=sys.stderr)
    suggestions = suggest_keywords(
        tagger, messages, top=args.top, method=args.method, min_count=args.min_count
    )
    for signal, items in suggestions.items():
        print(f"[{signal}]")
        for item in items:
            print(
                f"  {item.word:<12} score={item.score:.3f}  in {item.untagged_count} untagged"
                f"  e.g. {item.example}"
            )
    if not suggestions:
        print("no candidates: every message was tagged, or too few repeat a word")
    return 0


def read_messages(path: Path) -> tuple[list[tuple[str, Actor]], list[tuple[int, str]]]:
    """(text, actor) per line; JSON objects need `text`, anything else is read as plain text."""
    messages: list[tuple[str, Actor]] = []
    skipped: list[tuple[int, str]] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line:
                continue
            if not line.startswith(b"{"):
                messages.append((line.decode("utf-8", errors="replace"), Actor.CUSTOMER))
                continue
            try:
                row = orjson.loads(line)
                messages.append((str(row["text"]), Actor(row.get("actor", Actor.CUSTOMER))))
            except (orjson.JSONDecodeError, KeyError, ValueError, TypeError) as exc:
                skipped.append((number, f"{type(exc).__name__}: {exc}"))
    return messages, skipped
