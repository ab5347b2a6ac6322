"""Benchmark the ClickHouse storage layer: insert throughput through the rollups, BI query times.

    python tests/bench/bench_clickhouse.py [--rows 10000000] [--target DIR_OR_URL]

Prints numbers; asserts nothing. Two insert paths are measured: insert_rows() from Python (what
the sink does: JSON/Native encoding + the materialized views), and INSERT ... SELECT generated
inside ClickHouse (the engine alone, used to reach --rows quickly). Then the heatmap and PHI
views are timed on the loaded data.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.clickhouse import DEFAULT_SQL_DIR, ClickHouseBackend, migrate, open_backend
from pipeline.clickhouse.sql_text import split_statements

SIGNALS = [
    "screening", "demo", "quote", "contract", "payment", "delivery", "objection_price",
    "objection_tech", "objection_decision", "competitor", "material_sent", "customer_update",
]  # fmt: skip
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
#: Migrations whose views computed the PHI and self-check from the raw tables on every read.
ON_READ_MIGRATIONS = ("0009_phi_views.sql", "0010_selfcheck_views.sql")
ON_READ_PREFIX = "on_read_"
_VIEW_NAME = re.compile(r"CREATE VIEW IF NOT EXISTS (\w+)")
DAYS = 90


def python_signal_rows(count: int, offset: int, reps: int, rng: random.Random) -> list[dict]:
    rows = []
    for number in range(offset, offset + count):
        moment = START + timedelta(seconds=rng.randrange(DAYS * 86400))
        customer = f"c{rng.randrange(reps * 50)}"
        rows.append(
            {
                "tenant": "acme",
                "event_id": f"wecom:{number}",
                "signal": rng.choice(SIGNALS),
                "actor": "rep" if number % 2 else "customer",
                "rep_id": f"r{rng.randrange(reps)}",
                "customer_id": customer,
                "customer_tier": "AB"[number % 2],
                "conversation_id": f"wecom:{customer}",
                "source": "wecom",
                "kind": "message",
                "occurred_at": moment,
                "local_date": moment.date(),
                "local_weekday": moment.isoweekday(),
                "local_hour": moment.hour,
                "_topic": "salesradar.signals",
                "_partition": 0,
                "_offset": number,
            }
        )
    return rows


def generated_signals_sql(count: int, first: int, reps: int) -> str:
    """INSERT ... SELECT that makes `count` signal rows like python_signal_rows, in-engine."""
    signals = "[" + ",".join(f"'{name}'" for name in SIGNALS) + "]"
    return f"""
        INSERT INTO signals
        SELECT 'acme', concat('wecom:', toString(n)), {signals}[1 + n % 12],
               if(n % 2 = 1, 'rep', 'customer'), concat('r', toString(cityHash64(n, 1) % {reps})),
               concat('c', toString(cityHash64(n, 2) % {reps * 50})), if(n % 2 = 1, 'B', 'A'),
               concat('wecom:c', toString(cityHash64(n, 2) % {reps * 50})), 'wecom', 'message',
               at, toDate(at), toDayOfWeek(at), toHour(at),
               'salesradar.signals', 0, n, now64(3)
        FROM (
            SELECT number + {first} AS n,
                   toDateTime64('{START:%Y-%m-%d %H:%M:%S}', 3, 'UTC')
                       + toIntervalSecond(cityHash64(number + {first}, 3) % {DAYS * 86400}) AS at
            FROM numbers({count})
        )
    """


def load_crm_and_latency(backend: ClickHouseBackend, deals: int, reps: int) -> None:
    """Deals with stage moves and core-field changes, and first-reply samples, for the PHI."""
    stages = "['初步沟通','方案演示','报价比价','合同谈判','付款确认']"
    backend.command(
        f"""
        INSERT INTO events (tenant, event_id, source, source_format, kind, actor, actor_id,
            rep_id, customer_id, customer_tier, conversation_id, occurred_at, local_date,
            local_weekday, local_hour, text, text_truncated, parent_id, attrs, signals,
            _topic, _partition, _offset)
        SELECT 'acme', concat('crm:s', toString(d), '-', toString(step)), 'crm', 'bench',
               'stage_changed', 'rep', '', concat('r', toString(d % {reps})),
               concat('c', toString(d % {reps * 50})), 'A', concat('crm:', toString(d)), at,
               toDate(at), toDayOfWeek(at), toHour(at), '', 0, '',
               map('field', 'stage', 'old_value', {stages}[step], 'new_value', {stages}[step + 1]),
               [], 'salesradar.events', 0, d * 10 + step
        FROM (
            SELECT intDiv(number, 4) AS d, number % 4 + 1 AS step,
                   toDateTime64('{START:%Y-%m-%d %H:%M:%S}', 3, 'UTC')
                       + toIntervalSecond(cityHash64(number, 9) % {DAYS * 86400}) AS at
            FROM numbers({deals * 4})
        )
        """
    )
    backend.command(
        f"""
        INSERT INTO events (tenant, event_id, source, source_format, kind, actor, actor_id,
            rep_id, customer_id, customer_tier, conversation_id, occurred_at, local_date,
            local_weekday, local_hour, text, text_truncated, parent_id, attrs, signals,
            _topic, _partition, _offset)
        SELECT 'acme', concat('crm:f', toString(number)), 'crm', 'bench', 'field_changed', 'rep',
               '', concat('r', toString(intDiv(number, 4) % {reps})),
               concat('c', toString(intDiv(number, 4) % {reps * 50})), 'A',
               concat('crm:', toString(intDiv(number, 4))), at, toDate(at), toDayOfWeek(at),
               toHour(at), '', 0, '',
               map('field', ['决策人','预算','时间窗口','痛点'][number % 4 + 1],
                   'new_value', if(number % 3 = 0, '暂无', '已确认')),
               [], 'salesradar.events', 0, number
        FROM (
            SELECT number, toDateTime64('{START:%Y-%m-%d %H:%M:%S}', 3, 'UTC')
                       + toIntervalSecond(cityHash64(number, 8) % {DAYS * 86400}) AS at
            FROM numbers({deals * 4})
        )
        """
    )
    backend.command(
        f"""
        INSERT INTO latency_samples
        SELECT 'acme', concat('s', toString(number)), 'first_reply', 'wecom',
               concat('wecom:c', toString(number % {reps * 50})), '', '',
               concat('r', toString(number % {reps})), concat('r', toString(number % {reps})),
               concat('c', toString(number % {reps * 50})), if(number % 2 = 1, 'B', 'A'),
               at - toIntervalSecond(lat), at, lat, lat / 2, if(number % 2 = 1, 14400, 7200),
               lat > if(number % 2 = 1, 14400, 7200), [], toDate(at),
               'salesradar.latency', 0, number, now64(3)
        FROM (
            SELECT number, toFloat64(cityHash64(number, 5) % 20000) AS lat,
                   toDateTime64('{START:%Y-%m-%d %H:%M:%S}', 3, 'UTC')
                       + toIntervalSecond(cityHash64(number, 6) % {DAYS * 86400}) AS at
            FROM numbers({deals * 10})
        )
        """
    )


def create_on_read_views(backend: ClickHouseBackend) -> None:
    """The PHI and self-check views as first defined (computed from raw tables on every read),
    under the prefix on_read_, beside the current ones: for comparing results and speed."""
    views: dict[str, str] = {}
    for migration in ON_READ_MIGRATIONS:
        text = (DEFAULT_SQL_DIR / migration).read_text(encoding="utf-8")
        for statement in split_statements(text):
            if match := _VIEW_NAME.match(statement):
                views[match.group(1)] = statement
    renamed = re.compile(r"\b(" + "|".join(views) + r")\b")
    for statement in views.values():
        backend.command(renamed.sub(lambda found: ON_READ_PREFIX + found.group(1), statement))


def load_breaches(backend: ClickHouseBackend, count: int, reps: int) -> None:
    """First-reply breaches: every one opened for the owner, every other one closed by a replier."""
    backend.command(
        f"""
        INSERT INTO breaches (tenant, breach_id, kind, source, conversation_id, start_event_id,
            rep_id, owner_rep_id, customer_id, customer_tier, started_at, deadline, sla_s,
            detected_at, status, closed_at, reply_event_id, latency_s, last_customer_signals,
            last_customer_text, local_date, _topic, _partition, _offset)
        SELECT 'acme', concat('b', toString(n)), 'first_reply', 'wecom',
               concat('wecom:c', toString(n % {reps * 50})), '',
               concat('r', toString((n + closed) % {reps})),
               concat('r', toString(n % {reps})), concat('c', toString(n % {reps * 50})),
               if(n % 2 = 1, 'B', 'A'), deadline - toIntervalSecond(7200), deadline, 7200,
               deadline, if(closed, 'closed', 'open'),
               if(closed, deadline + toIntervalSecond(600), NULL), '',
               if(closed, 7800., NULL), [], '', toDate(deadline),
               'salesradar.latency', 1, number
        FROM (
            SELECT number, intDiv(number, 2) AS n, number % 4 = 1 AS closed,
                   toDateTime64('{START:%Y-%m-%d %H:%M:%S}', 3, 'UTC')
                       + toIntervalSecond(cityHash64(intDiv(number, 2), 7) % {DAYS * 86400})
                       AS deadline
            FROM numbers({count * 2})
            WHERE number % 2 = 0 OR closed
        )
        """
    )


def timed(label: str, action: Callable[[], Any], repeat: int = 3) -> Any:
    """Run `action` `repeat` times; print the median and best wall time."""
    times = []
    result = None
    for _ in range(repeat):
        began = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - began)
    print(
        f"{label:<66} median {statistics.median(times) * 1000:9.1f} ms   "
        f"best {min(times) * 1000:9.1f} ms"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="signal rows to load")
    parser.add_argument(
        "--python-rows", type=int, default=500_000, help="of those, via insert_rows"
    )
    parser.add_argument("--batch", type=int, default=50_000, help="rows per insert_rows batch")
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--deals", type=int, default=0, help="CRM deals for PHI (default rows/100)")
    parser.add_argument(
        "--target", help="chDB dir or http(s) URL of an empty database (default: tmp)"
    )
    args = parser.parse_args()

    target = args.target or tempfile.mkdtemp(prefix="salesradar_bench_")
    backend = open_backend(target)
    migrate(backend)
    rng = random.Random(1)
    print(f"target {target}; {args.rows:,} signal rows, {args.reps} reps")

    python_rows = min(args.python_rows, args.rows)
    build_seconds = insert_seconds = 0.0
    for first in range(0, python_rows, args.batch):
        count = min(args.batch, python_rows - first)
        began = time.perf_counter()
        rows = python_signal_rows(count, first, args.reps, rng)
        built = time.perf_counter()
        backend.insert_rows("signals", rows, dedup_token=f"bench-0-{first}-{first + count - 1}")
        build_seconds += built - began
        insert_seconds += time.perf_counter() - built
    if python_rows:
        print(
            f"insert_rows into signals (+heatmap MV), batches of {args.batch:,}: "
            f"{python_rows / insert_seconds:,.0f} rows/s  ({python_rows:,} rows, "
            f"{insert_seconds:.2f} s; building the dicts took {build_seconds:.2f} s more)"
        )

    remaining = args.rows - python_rows
    began = time.perf_counter()
    chunk = 2_000_000
    for first in range(python_rows, args.rows, chunk):
        backend.command(generated_signals_sql(min(chunk, args.rows - first), first, args.reps))
    if remaining:
        seconds = time.perf_counter() - began
        print(
            f"INSERT ... SELECT into signals (+heatmap MV), in-engine: "
            f"{remaining / seconds:,.0f} rows/s  ({remaining:,} rows, {seconds:.2f} s)"
        )

    deals = args.deals or max(args.rows // 100, 100)
    began = time.perf_counter()
    load_crm_and_latency(backend, deals, args.reps)
    load_breaches(backend, deals, args.reps)
    print(
        f"loaded {deals * 8:,} CRM events, {deals * 10:,} latency samples and {deals:,} breaches "
        f"in {time.perf_counter() - began:.2f} s"
    )
    counts = backend.query_rows(
        "SELECT (SELECT count() FROM signals) AS signals, "
        "(SELECT count() FROM signal_heatmap_agg) AS heatmap_rows, "
        "(SELECT count() FROM events) AS events"
    )[0]
    print(f"rows: {counts}")

    timed(
        "heatmap weekday x hour, all reps, 90 days (rollup)",
        lambda: backend.query_rows(
            "SELECT local_weekday, local_hour, sum(signal_count) AS n FROM signal_heatmap "
            "GROUP BY local_weekday, local_hour"
        ),
    )
    timed(
        "heatmap signal x weekday x hour, one rep, one month (rollup)",
        lambda: backend.query_rows(
            "SELECT signal, local_weekday, local_hour, sum(signal_count) AS n "
            "FROM signal_heatmap WHERE tenant = 'acme' AND rep_id = 'r7' AND month = '2026-02-01' "
            "GROUP BY signal, local_weekday, local_hour"
        ),
    )
    timed(
        "heatmap weekday x hour, one rep (rollup)",
        lambda: backend.query_rows(
            "SELECT local_weekday, local_hour, sum(signal_count) AS n FROM signal_heatmap "
            "WHERE tenant = 'acme' AND rep_id = 'r7' GROUP BY local_weekday, local_hour"
        ),
    )
    timed(
        "same one-rep heatmap from raw signals (no rollup)",
        lambda: backend.query_rows(
            "SELECT local_weekday, local_hour, count() AS n FROM signals "
            "WHERE tenant = 'acme' AND rep_id = 'r7' GROUP BY local_weekday, local_hour"
        ),
    )
    timed(
        "same heatmap from raw signals (no rollup, for comparison)",
        lambda: backend.query_rows(
            "SELECT local_weekday, local_hour, count() AS n FROM signals "
            "GROUP BY local_weekday, local_hour"
        ),
    )
    timed(
        "latency_daily p50/p90/p99 per rep, 90 days",
        lambda: backend.query_rows(
            "SELECT rep_id, quantilesTDigestMerge(0.5, 0.9, 0.99)(latency_q) AS q "
            "FROM latency_daily_agg GROUP BY rep_id"
        ),
    )
    create_on_read_views(backend)
    last_weeks = "WHERE tenant = 'acme' AND week >= toDate('2026-03-09')"
    for label, sql in (
        ("phi_weekly_rep, all reps and weeks", "SELECT * FROM {view}phi_weekly_rep"),
        ("phi_weekly_team, all teams and weeks", "SELECT * FROM {view}phi_weekly_team"),
        ("selfcheck_weekly_rep, all reps and weeks", "SELECT * FROM {view}selfcheck_weekly_rep"),
        ("selfcheck_weekly_team, all teams and weeks", "SELECT * FROM {view}selfcheck_weekly_team"),
        (
            "phi_weekly_rep, last 4 weeks (dashboard)",
            f"SELECT * FROM {{view}}phi_weekly_rep {last_weeks}",
        ),
        ("phi_stage_transitions, count", "SELECT count() FROM {view}phi_stage_transitions"),
        ("phi_profile_weekly, count", "SELECT count() FROM {view}phi_profile_weekly"),
    ):
        for view, how in ((ON_READ_PREFIX, "on read (0009/0010)"), ("", "on rollups (0011-0012)")):
            query = sql.format(view=view)
            timed(f"{label}, {how}", lambda query=query: backend.query_rows(query), repeat=2)
    backend.close()


if __name__ == "__main__":
    main()
