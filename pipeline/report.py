"""The text report a sales manager reads after a run: heatmaps, waits, breaches, health.

Everything is read back from ClickHouse rollups and views, i.e. what a BI tool would see.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from pipeline.clickhouse import ClickHouseBackend
from pipeline.commands.sql import format_table
from pipeline.tagging.taxonomy import SIGNAL_IDS


def _hours(seconds: float | None) -> str:
    if seconds is None or seconds != seconds:  # NaN from an empty t-digest
        return "-"
    return f"{seconds / 3600:.1f}h"


def _cell(count: int) -> str:
    if count == 0:
        return "  ."
    return f"{count:>3}" if count < 1000 else "999"


def heatmap_section(backend: ClickHouseBackend, tenant: str) -> str:
    """Per rep: signals × hour of day (tenant time), counts summed over the period."""
    rows = backend.query_rows(
        "SELECT rep_id, signal, local_hour, sum(signal_count) AS n FROM signal_heatmap_agg "
        "WHERE tenant = {t:String} GROUP BY rep_id, signal, local_hour",
        {"t": tenant},
    )
    grid: dict[str, dict[tuple[str, int], int]] = defaultdict(dict)
    for row in rows:
        grid[row["rep_id"]][(row["signal"], int(row["local_hour"]))] = int(row["n"])
    header = " " * 21 + "".join(f"{hour:>3}" for hour in range(24)) + "  total"
    out = ["HEATMAP — signals by hour of day (tenant time), per rep", ""]
    for rep in sorted(grid):
        cells = grid[rep]
        out.append(f"rep {rep or '(no rep)'}  ({sum(cells.values())} signals)")
        out.append(header)
        for signal in SIGNAL_IDS:
            counts = [cells.get((signal, hour), 0) for hour in range(24)]
            out.append(
                f"  {signal:<17}" + "".join(_cell(c) for c in counts) + f"  {sum(counts):>5}"
            )
        out.append("")
    if not grid:
        out.append("  (no signals)")
    return "\n".join(out)


def latency_section(backend: ClickHouseBackend, tenant: str) -> str:
    """First-reply p50/p90 and breach counts by rep and customer class."""
    waits = backend.query_rows(
        "SELECT rep_id, customer_tier, quantilesTDigestMerge(0.5, 0.9)(latency_q) AS q, "
        "sum(samples) AS samples, sum(breached) AS late "
        "FROM latency_daily_agg WHERE tenant = {t:String} AND kind = 'first_reply' "
        "GROUP BY rep_id, customer_tier",
        {"t": tenant},
    )
    breaches = backend.query_rows(
        "SELECT rep_id, customer_tier, uniqExactMerge(breach_ids) AS n, "
        "uniqExactMerge(closed_breach_ids) AS answered "
        "FROM breach_daily_agg WHERE tenant = {t:String} AND kind = 'first_reply' "
        "GROUP BY rep_id, customer_tier",
        {"t": tenant},
    )
    counted = {(b["rep_id"], b["customer_tier"]): b for b in breaches}
    keys = sorted({(w["rep_id"], w["customer_tier"]) for w in waits} | set(counted))
    by_key = {(w["rep_id"], w["customer_tier"]): w for w in waits}
    table = []
    for rep, tier in keys:
        wait = by_key.get((rep, tier), {})
        breach = counted.get((rep, tier), {})
        quantiles = wait.get("q") or [None, None]
        table.append(
            {
                "rep": rep,
                "class": tier or "?",
                "replies": int(wait.get("samples", 0)),
                "p50": _hours(quantiles[0]),
                "p90": _hours(quantiles[1]),
                "late replies": int(wait.get("late", 0)),
                "breaches": int(breach.get("n", 0)),
                "never answered": int(breach.get("n", 0)) - int(breach.get("answered", 0)),
            }
        )
    title = "FIRST-REPLY LATENCY — by rep and customer class (SLA: A ≤ 2 h, B ≤ 4 h)"
    return title + "\n\n" + (format_table(table) if table else "  (no waits measured)")


def breaches_section(
    backend: ClickHouseBackend, tenant: str, timezone: str, limit: int = 40
) -> str:
    rows = backend.query_rows(
        "SELECT kind, rep_id, customer_id, customer_tier, "
        "formatDateTime(started_at, '%m-%d %H:%i', {tz:String}) AS waiting_since, "
        "formatDateTime(deadline, '%m-%d %H:%i', {tz:String}) AS deadline_local, "
        "status, latency_s, arrayStringConcat(last_customer_signals, ',') AS signals "
        "FROM breaches_current WHERE tenant = {t:String} ORDER BY deadline",
        {"t": tenant, "tz": timezone},
    )
    table = [
        {
            "kind": r["kind"],
            "rep": r["rep_id"],
            "customer": r["customer_id"],
            "class": r["customer_tier"] or "?",
            "waiting since": r["waiting_since"],
            "deadline": r["deadline_local"],
            "answered after": _hours(r["latency_s"]) if r["latency_s"] is not None else "never",
            "last signals": r["signals"] or "-",
        }
        for r in rows
    ]
    title = f"BREACHES — {len(rows)} promises broken"
    shown = format_table(table[:limit]) if table else "  (none)"
    more = (
        f"\n  … and {len(table) - limit} more (query breaches_current)"
        if len(table) > limit
        else ""
    )
    return title + "\n\n" + shown + more


def health_section(backend: ClickHouseBackend, tenant: str) -> str:
    """Volumes by source, dead letters by reason, this period's Process Health Index per rep."""
    sources = backend.query_rows(
        "SELECT source, count() AS events, countIf(length(signals) > 0) AS with_signals "
        "FROM events WHERE tenant = {t:String} GROUP BY source ORDER BY source",
        {"t": tenant},
    )
    dead = backend.query_rows(
        "SELECT reason, count() AS records FROM dead_letters GROUP BY reason ORDER BY records DESC"
    )
    phi = backend.query_rows(
        "SELECT rep_id, toString(week) AS week, round(action_completeness, 2) AS actions, "
        "round(response_timeliness, 2) AS timeliness, round(information_richness, 2) AS profile, "
        "round(phi, 2) AS phi FROM phi_weekly_rep WHERE tenant = {t:String} "
        "ORDER BY week, rep_id",
        {"t": tenant},
    )
    parts = [
        "EVENTS BY SOURCE",
        format_table(sources) if sources else "  (none)",
        "",
        "DEAD LETTERS BY REASON",
        format_table(dead) if dead else "  (none)",
        "",
        "PROCESS HEALTH INDEX — per rep and week",
        format_table(phi) if phi else "  (no data)",
    ]
    return "\n".join(parts)


def alert_outcomes(backend: ClickHouseBackend, tenant: str) -> str:
    """Alert attempts by stage, channel and status, from the `alerts` table."""
    rows = backend.query_rows(
        "SELECT stage, channel, status, count() AS alerts, sum(digest_size) AS merged "
        "FROM alerts WHERE tenant = {t:String} GROUP BY stage, channel, status "
        "ORDER BY stage, channel, status",
        {"t": tenant},
    )
    return "ALERT OUTCOMES (alerts table)\n" + (format_table(rows) if rows else "  (none)")


def full_report(
    backend: ClickHouseBackend,
    tenant: str,
    timezone: str,
    *,
    extra: Callable[[], str] | None = None,
) -> str:
    sections = [
        heatmap_section(backend, tenant),
        latency_section(backend, tenant),
        breaches_section(backend, tenant, timezone),
        health_section(backend, tenant),
    ]
    if extra is not None:
        sections.append(extra())
    rule = "\n" + "─" * 100 + "\n"
    return rule.join(sections)
