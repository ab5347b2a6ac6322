"""CPU per raw record of the faust pass's own stages, without faust or a broker (prints numbers).

The bench week's records, keyed as `salesradar bench` produces them, go through what the
process agent runs per record (agents/process.py): normalize, dedup, tag, the latency
processor (process, then fire), encoding of every output; states are committed every
``--batch`` records. What this leaves out is the Prometheus metrics and faust's and aiokafka's
own cost per record and per send, which `salesradar bench` measures (its "event-loop CPU per
record" line). Time is process CPU time, best of ``--repeat``.

Run: python -m tests.bench.bench_pass [--repeat 3] [--batch 500]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from agents.codec import encode_model, encode_rejection, encode_tagged
from agents.process import OUTPUT_TYPES
from pipeline.bench import BenchOptions, RawRecord, _keyed, _week
from pipeline.latency.processor import LatencyProcessor
from pipeline.normalize import normalize_record
from pipeline.normalize.recent import RecentIds
from pipeline.partitioner import partition_for
from pipeline.runtime import Runtime
from pipeline.settings import load_settings
from schemas.events import Rejection

PARTITIONS = 4
STAGES = ("normalize", "tag", "latency", "encode")


def run(runtime: Runtime, records: list[RawRecord], batch: int) -> Counter[str]:
    """Seconds of CPU per stage over ``records``."""
    spent: Counter[str] = Counter()
    processor = LatencyProcessor(runtime.sla_policy, {})
    recent = RecentIds(200_000)
    clock = time.process_time
    for offset, record in enumerate(records):
        partition = partition_for(record.key, PARTITIONS)
        source = f"{record.topic}/{partition}"
        started = clock()
        items = normalize_record(record.source, record.value, runtime.normalize_context)
        spent["normalize"] += clock() - started
        for number, item in enumerate(items):
            if isinstance(item, Rejection):
                started = clock()
                encode_rejection(item)
                spent["encode"] += clock() - started
                continue
            if recent.seen_before(item.event_id):
                continue
            started = clock()
            tagged = runtime.tagger.current().tag_event(item)
            tagged_at = clock()
            outputs = processor.process(
                tagged, partition, source=source, position=(source, offset, number)
            )
            outputs += processor.fire(partition, datetime.now(UTC), False)
            processed_at = clock()
            encode_model(tagged)
            for output in outputs:
                encode_tagged(OUTPUT_TYPES[type(output)], output)
            encoded_at = clock()
            spent["tag"] += tagged_at - started
            spent["latency"] += processed_at - tagged_at
            spent["encode"] += encoded_at - processed_at
        if offset % batch == batch - 1:
            started = clock()
            processor.commit()
            spent["latency"] += clock() - started
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500, help="records per state commit")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="salesradar-bench-pass-"))
    settings = load_settings(
        broker_url="kafka://localhost:9092",
        clickhouse_url="",
        db_dir=work / "db",
        table_dir=work / "tables",
        topic_partitions=PARTITIONS,
    )
    runtime = Runtime.from_settings(settings)
    records = _keyed(runtime, _week(BenchOptions(), seed=7, weeks_ago=2))
    run(runtime, records[:2000], args.batch)  # warm-up: jieba's dictionary, first calls
    best = min(
        (run(runtime, records, args.batch) for _ in range(args.repeat)),
        key=lambda spent: sum(spent.values()),
    )
    total = sum(best.values())
    print(
        f"{len(records):,} raw records (the bench week), CPU per raw record, best of {args.repeat}"
    )
    for stage in STAGES:
        print(
            f"  {stage:<10} {best[stage] / len(records) * 1e6:7.1f} us  {best[stage] / total:5.0%}"
        )
    print(f"  {'all':<10} {total / len(records) * 1e6:7.1f} us")


if __name__ == "__main__":
    main()
