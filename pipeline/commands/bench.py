"""Benchmark on the embedded broker and chDB: faust ceiling, pipeline rate, produce->row latency.

Prints numbers; it is not a test. Run it on an otherwise idle machine and record the load it
prints beside the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reps", type=int, default=12, help="reps in the generated weeks")
    parser.add_argument("--customers", type=int, default=200, help="customers (input size)")
    parser.add_argument("--rate", type=float, default=5000.0, help="paced produce rate, records/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the paced phase")
    parser.add_argument("--partitions", type=int, default=4, help="partitions per topic")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop, as a worker can")


def run(args: argparse.Namespace) -> int:
    from pipeline.bench import BenchOptions, run_bench
    from pipeline.embedded_broker import EmbeddedBroker
    from pipeline.settings import load_settings

    if args.uvloop:
        import uvloop

        uvloop.install()
    work = Path(tempfile.mkdtemp(prefix="salesradar-bench-"))
    options = BenchOptions(
        reps=args.reps,
        customers=args.customers,
        rate=args.rate,
        paced_seconds=args.seconds,
        seed=args.seed,
    )
    try:
        with EmbeddedBroker() as broker:
            settings = load_settings(
                clickhouse_url="",
                db_dir=work / "db",
                table_dir=work / "tables",
                topic_partitions=args.partitions,
                **broker.worker_settings(),
            )
            result = asyncio.run(
                run_bench(settings, options, lambda line: print(line, file=sys.stderr, flush=True))
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n".join(result.lines()))
    return 0
