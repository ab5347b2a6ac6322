"""A worker's resident memory with N open waits (prints numbers; target ≤ 500 MB at 100k).

A real `salesradar worker` process on the embedded broker, writing to a ClickHouse server (the
chDB HTTP endpoint in a process of its own), so the memory read is the worker's alone, as in a
deployment. N customers each send one WeCom message nobody answers; every customer is class B
(a 4 h promise), so each wait stays open for the whole run. The worker's RSS is read from /proc
before the first record, when its open-waits gauge reaches N, and once its sink has stored
every event; its peak (VmHWM) last.

Run: python -m tests.bench.bench_worker_memory [--waits 100000] [--partitions 4]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from agents.runner import produce_raw
from pipeline.clickhouse import ServerBackend
from tests.integration.worker_stack import WorkerProcess, running_stack, wait_for

OPEN_WAITS = "salesradar_open_waits"
QUESTIONS = (
    "你好，想问下这个方案的报价大概多少？",
    "我们有三个工厂，系统能不能支持多组织？",
    "上次说的试用账号什么时候能开通？",
    "合同里的付款方式能再商量一下吗？",
    "请问私有化部署需要多少台服务器？",
    "能发一份和你们竞品的对比资料给我吗？",
)


def unanswered_messages(count: int, reps: int = 50) -> list[bytes]:
    """One WeCom archive message per customer, sent a minute ago to one of ``reps`` reps."""
    sent_ms = int((datetime.now(UTC) - timedelta(minutes=1)).timestamp() * 1000)
    return [
        orjson.dumps(
            {
                "msgid": f"mem{n}",
                "action": "send",
                "from": f"wm{n:08d}",
                "tolist": [f"rep{n % reps:02d}"],
                "roomid": "",
                "msgtime": sent_ms + n % 60_000,
                "msgtype": "text",
                "text": {"content": QUESTIONS[n % len(QUESTIONS)]},
            }
        )
        for n in range(count)
    ]


def status_mb(pid: int, field: str) -> float:
    """A memory line of /proc/<pid>/status (VmRSS, VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no {field}")


def events_stored(url: str) -> int:
    backend = ServerBackend(url, compress=False, connect_timeout=3)
    try:
        return int(backend.query_rows("SELECT count() AS n FROM events")[0]["n"])
    finally:
        backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--waits", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args()
    records = unanswered_messages(args.waits)
    with tempfile.TemporaryDirectory(prefix="salesradar-memory-") as tmp:
        work = Path(tmp)
        with running_stack(
            work, topic_partitions=args.partitions, default_customer_tier="B"
        ) as stack:
            worker = WorkerProcess("memory", stack.env, work)
            worker.start()
            try:
                worker.wait_ready(120)
                assert worker.process is not None
                pid = worker.process.pid
                idle = status_mb(pid, "VmRSS")
                started = time.monotonic()
                asyncio.run(produce_raw(stack.settings, {"wecom": records}))
                limit_s = 300 + args.waits / 100
                wait_for(
                    lambda: worker.metric(OPEN_WAITS) >= args.waits,
                    limit_s,
                    lambda: f"{args.waits:,} open waits, {worker.metric(OPEN_WAITS):,.0f} so far",
                    interval_s=1.0,
                )
                at_waits = status_mb(pid, "VmRSS")
                waits_s = time.monotonic() - started
                wait_for(
                    lambda: events_stored(stack.clickhouse.url) >= args.waits,
                    limit_s,
                    "every event stored",
                    interval_s=2.0,
                )
                stored = status_mb(pid, "VmRSS")
                peak = status_mb(pid, "VmHWM")
                open_waits = worker.metric(OPEN_WAITS)
            finally:
                worker.kill()
    per_wait_kb = (at_waits - idle) * 1024 / args.waits
    print(f"worker RSS, idle after joining the group: {idle:,.0f} MB")
    print(
        f"worker RSS at {open_waits:,.0f} open waits: {at_waits:,.0f} MB "
        f"({per_wait_kb:.1f} KB per wait above idle; reached in {waits_s:.0f} s)"
    )
    print(f"worker RSS once the sink stored every event: {stored:,.0f} MB")
    print(f"worker peak RSS (VmHWM): {peak:,.0f} MB")
    print("target: <= 500 MB with 100k open waits")


if __name__ == "__main__":
    main()
