"""`salesradar dlq list`: dead letters grouped by reason, for people deciding what to fix.

This module holds the pure part (grouping and display). Rows are mappings with the columns
of the dead-letter table: reason, source, message, raw (bytes or str).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

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


def plan_replay(rows: Iterable[Mapping[str, object]], reason: str | None = None) -> ReplayPlan:
    """Rows of one reason (or all); a truncated raw prefix is not the record, so it stays."""
    plan = ReplayPlan()
    for row in rows:
        if reason is not None and row.get("reason") != reason:
            continue
        if row.get("raw_truncated"):
            plan.skipped_truncated += 1
            continue
        raw = row.get("raw", b"")
        data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8")
        plan.records.setdefault(str(row.get("source", "")), []).append(data)
    return plan
