"""Normalize throughput per source, on the demo week's raw records (prints records/s).

Run: python tests/bench/bench_normalize.py [--seed 7] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from pipeline.demo_data import generate_week
from pipeline.normalize import NormalizeContext, normalize_record

START = datetime(2026, 11, 16, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    began = time.perf_counter()
    week = generate_week(args.seed, START)
    print(f"generate_week: {time.perf_counter() - began:.2f} s")
    ctx = NormalizeContext(week.directory, now=lambda: START + timedelta(days=8))
    total_records = total_seconds = 0.0
    for source, raws in week.records.items():
        best = float("inf")
        for _ in range(args.repeat):
            began = time.perf_counter()
            outputs = sum(len(normalize_record(source, raw, ctx)) for raw in raws)
            best = min(best, time.perf_counter() - began)
        total_records += len(raws)
        total_seconds += best
        print(
            f"{source:<9} {len(raws):>7} records -> {outputs:>7} outputs  "
            f"{len(raws) / best:>9,.0f} records/s"
        )
    print(
        f"{'all':<9} {int(total_records):>7} records                    "
        f"{total_records / total_seconds:>9,.0f} records/s"
    )


if __name__ == "__main__":
    main()
