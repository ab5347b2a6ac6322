"""`salesradar dlq list | replay`: the dead letters by reason, and sending them back after a fix.

`list` groups the `dead_letters` table by reason with a few samples. `replay` sends the exact
raw bytes (column `raw_b64`) of one reason's records, or all, back to their source's raw topic
on the configured broker; with `--embedded` it runs them through the embedded pipeline into the
same `--db` instead, like `run --embedded`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.clickhouse import ClickHouseBackend, ClickHouseError, open_backend
from pipeline.clickhouse.target import resolve_target
from pipeline.dead_letter_codes import OTHER_REASONS
from pipeline.normalize import REASONS
from pipeline.settings import SOURCES, Settings, load_settings

SAMPLES_PER_REASON = 3
_SAMPLE_CHARS = 120


@dataclass
class ReasonGroup:
    reason: str
    count: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)


def _sample(row: Mapping[str, object]) -> str:
    raw = row.get("raw", b"")
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
    message = str(row.get("message", ""))
    return f"{message[:_SAMPLE_CHARS]} | {text[:_SAMPLE_CHARS]!r}"


def group_by_reason(rows: Iterable[Mapping[str, object]]) -> list[ReasonGroup]:
    """Groups biggest first (then by reason name), a few samples each."""
    groups: dict[str, ReasonGroup] = {}
    for row in rows:
        reason = str(row.get("reason", "")) or "unknown"
        group = groups.setdefault(reason, ReasonGroup(reason))
        group.count += 1
        source = str(row.get("source", "")) or "unknown"
        group.by_source[source] = group.by_source.get(source, 0) + 1
        if len(group.samples) < SAMPLES_PER_REASON:
            group.samples.append(_sample(row))
    return sorted(groups.values(), key=lambda g: (-g.count, g.reason))


def format_groups(groups: list[ReasonGroup]) -> str:
    if not groups:
        return "dead letters: none"
    lines = [f"dead letters: {sum(g.count for g in groups)}"]
    for group in groups:
        sources = ", ".join(f"{s}={n}" for s, n in sorted(group.by_source.items()))
        lines.append(f"{group.reason:<24}{group.count:>8}  ({sources})")
        lines += [f"    {sample}" for sample in group.samples]
    return "\n".join(lines)


@dataclass
class ReplayPlan:
    """What `dlq replay` sends back through normalize, per source, and what it cannot."""

    records: dict[str, list[bytes]] = field(default_factory=dict)
    skipped_truncated: int = 0
    #: Dead letters that are not raw input (the sink's, stored states): by source.
    not_input: Counter[str] = field(default_factory=Counter)


def plan_replay(rows: Iterable[Mapping[str, object]], reason: str | None = None) -> ReplayPlan:
    """Rows of one reason (or all); a truncated raw prefix is not the record, so it stays."""
    plan = ReplayPlan()
    for row in rows:
        if reason is not None and row.get("reason") != reason:
            continue
        source = str(row.get("source", ""))
        if source not in SOURCES:
            plan.not_input[source] += 1
            continue
        if row.get("raw_truncated"):
            plan.skipped_truncated += 1
            continue
        raw = row.get("raw", b"")
        data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8")
        plan.records.setdefault(source, []).append(data)
    return plan


_LIST_QUERY = (
    "SELECT reason, source, substringUTF8(message, 1, 400) AS message, "
    "substringUTF8(raw, 1, 400) AS raw FROM dead_letters{where} "
    "ORDER BY received_at, topic, partition, offset"
)
_REPLAY_QUERY = (
    "SELECT reason, source, notEmpty(raw) AS has_text, raw_b64, raw_truncated "
    "FROM dead_letters{where} "
    "ORDER BY received_at, topic, partition, offset"
)


def _where(reason: str | None) -> str:
    return " WHERE reason = {reason:String}" if reason else ""


def read_dead_letters(
    backend: ClickHouseBackend, query: str, reason: str | None
) -> list[dict[str, Any]]:
    """Rows of the dead-letter table, of one reason or all, oldest first."""
    return backend.query_rows(
        query.format(where=_where(reason)), {"reason": reason} if reason else None
    )


def exact_raw(row: Mapping[str, Any]) -> bytes | None:
    """The record's bytes from raw_b64; None when the row has no exact copy to send back.

    Rows written before raw_b64 existed hold only an escaped text copy, which is not the record.
    """
    encoded = str(row.get("raw_b64") or "")
    if not encoded:
        return None if row.get("has_text") else b""
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="dead letters grouped by reason, with samples")
    replay = actions.add_parser(
        "replay", help="send dead letters back through normalize (after a fix)"
    )
    for sub in (listing, replay):
        target = sub.add_mutually_exclusive_group()
        target.add_argument("--db", metavar="DIR", help="embedded chDB data directory")
        target.add_argument(
            "--clickhouse-url", metavar="URL", help="http(s)://user:pass@host:port/db"
        )
        sub.add_argument("--reason", metavar="R", help="only this reason code (see docs)")
    replay.add_argument(
        "--embedded",
        action="store_true",
        help="run them through the embedded pipeline into --db instead of the configured broker",
    )


def run(args: argparse.Namespace) -> int:
    known = {**REASONS, **OTHER_REASONS}
    if args.reason and args.reason not in known:
        print(
            f"dlq: note: {args.reason!r} is not one of the reason codes "
            f"({', '.join(sorted(known))})",
            file=sys.stderr,
        )
    if args.action == "replay" and args.embedded and not args.db:
        print(
            "dlq replay --embedded: give --db DIR (the data directory to read and write)",
            file=sys.stderr,
        )
        return 2
    try:
        backend = open_backend(resolve_target(args.db, args.clickhouse_url))
    except (ValueError, ClickHouseError) as error:
        print(f"dlq: {error}", file=sys.stderr)
        return 2
    try:
        query = _LIST_QUERY if args.action == "list" else _REPLAY_QUERY
        rows = read_dead_letters(backend, query, args.reason)
    except ClickHouseError as error:
        print(f"dlq: {error}", file=sys.stderr)
        return 1
    finally:
        backend.close()  # an embedded replay reopens the same directory
    if args.action == "list":
        print(format_groups(group_by_reason(rows)))
        return 0
    return _replay(args, rows)


def _replay(args: argparse.Namespace, rows: list[dict[str, Any]]) -> int:
    exact = [{**row, "raw": raw} for row in rows if (raw := exact_raw(row)) is not None]
    plan = plan_replay(exact, args.reason)
    count = sum(len(records) for records in plan.records.values())
    by_source = ", ".join(f"{s}={len(r)}" for s, r in sorted(plan.records.items())) or "none"
    print(f"dlq replay: {count} record(s) ({by_source})", file=sys.stderr)
    if plan.skipped_truncated:
        print(
            f"dlq replay: {plan.skipped_truncated} kept back: only a prefix was stored "
            "(reason too_large); send the original with `salesradar replay`",
            file=sys.stderr,
        )
    if plan.not_input:
        kept = ", ".join(f"{s}={n}" for s, n in sorted(plan.not_input.items()))
        print(
            f"dlq replay: kept back, not raw input ({kept}): the sink's refusals and unreadable "
            "stored states are for inspection (docs/operations.md, dead letters)",
            file=sys.stderr,
        )
    if len(exact) < len(rows):
        print(
            f"dlq replay: {len(rows) - len(exact)} kept back: no exact copy of the bytes",
            file=sys.stderr,
        )
    if not count:
        return 0
    settings = _settings(args)
    if args.embedded:
        from pipeline.commands.embedded_run import run_and_report

        return run_and_report(settings, plan.records, None)
    from agents.runner import produce_raw  # faust is only imported when records are sent
    from pipeline.runtime import Runtime

    context = Runtime.from_settings(settings).normalize_context
    sent = asyncio.run(produce_raw(settings, plan.records, context))
    topics = ", ".join(settings.raw_topic(source) for source in sorted(plan.records))
    print(f"dlq replay: {sent} record(s) sent to {topics}", file=sys.stderr)
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(db_dir=Path(args.db)) if args.db else load_settings()
