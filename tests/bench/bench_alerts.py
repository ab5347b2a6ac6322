"""Alert latency: from submit() to the HTTP request arriving at a local receiver.

Breaches are spread under the rate limit on a simulated clock (3.5 s apart against 20 per
60 s, so the last slot kept back for digests is never needed) and each goes out alone; the
wall time between submit() and arrival is what is measured. A burst run then shows the
digest path: how many requests a burst of N becomes.

    PYTHONPATH=. python tests/bench/bench_alerts.py [--count 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from pipeline.alerts import AlertService, InMemoryAlertStateStore, load_alert_config
from pipeline.alerts.receiver import AlertReceiver
from schemas.latency import Breach

ENV = {"B_KEY": "k", "B_SECRET": "s", "B_TOKEN": "t", "B_DSECRET": "SECx"}
START = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)


def config_text(base: str, endpoint: str) -> str:
    return f"""
default_team = "t"
[delivery]
digest_hold_s = 5
[endpoints.wecom_robot]
channel = "wecom_robot"
base_url = "{base}"
key_env = "B_KEY"
[endpoints.wecom_app]
channel = "wecom_app"
base_url = "{base}"
corp_id = "c"
agent_id = 1
secret_env = "B_SECRET"
[endpoints.dingtalk_robot]
channel = "dingtalk_robot"
base_url = "{base}"
token_env = "B_TOKEN"
secret_env = "B_DSECRET"
[teams.t]
lead = "lead"
breach = ["{endpoint}"]
"""


def breach(n: int, at: datetime) -> Breach:
    started = at - timedelta(hours=2)
    return Breach(
        tenant="bench",
        breach_id=f"b-{n}",
        kind="first_reply",
        source="wecom",
        conversation_id=f"c-{n}",
        start_event_id=f"e-{n}",
        rep_id=f"rep-{n % 7}",
        owner_rep_id="",
        customer_id=f"cust-{n:05d}",
        customer_tier="A",
        started_at=started,
        deadline=at,
        sla_s=7200.0,
        detected_at=at,
        status="open",
        closed_at=None,
        reply_event_id="",
        latency_s=None,
        last_customer_signals=("objection_price",),
        last_customer_text="太贵",
    )


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


async def spread(endpoint: str, count: int, workdir: Path) -> list[float]:
    """Milliseconds from submit() to arrival, one breach at a time, 3.5 simulated s apart."""
    async with AlertReceiver() as receiver, aiohttp.ClientSession() as http:
        path = workdir / f"{endpoint}.toml"
        path.write_text(config_text(receiver.base_url, endpoint), encoding="utf-8")
        clock = Clock()
        service = AlertService(
            load_alert_config(path, ENV),
            clock=clock,
            http=http,
            store=InMemoryAlertStateStore(),
            on_record=lambda r: None,
        )
        latencies = []
        for n in range(count):
            started = time.perf_counter()
            await service.submit(breach(n, clock.now))
            await receiver.wait_for(n + 1)
            latencies.append((receiver.requests[n].arrived_at - started) * 1000)
            clock.now += timedelta(seconds=3.5)
        await service.flush(5)
        return latencies


async def burst(count: int, workdir: Path) -> tuple[list[int], int, float]:
    """Requests per simulated 60 s window, alerts delivered, wall seconds for a burst of `count`
    breaches submitted at one instant (digests are capped by WeCom's 4096-byte message)."""
    async with AlertReceiver() as receiver, aiohttp.ClientSession() as http:
        path = workdir / "burst.toml"
        path.write_text(config_text(receiver.base_url, "wecom_robot"), encoding="utf-8")
        sent: set[str] = set()
        clock = Clock()
        service = AlertService(
            load_alert_config(path, ENV),
            clock=clock,
            http=http,
            store=InMemoryAlertStateStore(),
            on_record=lambda r: sent.add(r.breach_id) if r.status == "sent" else None,
        )
        started = time.perf_counter()
        for n in range(count):
            await service.submit(breach(n, START))
        per_window: list[int] = []
        while len(sent) < count:
            await service.flush(10)
            per_window.append(len(receiver.requests) - sum(per_window))
            clock.now += timedelta(seconds=60)
            await service.tick()
        return per_window, len(sent), time.perf_counter() - started


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        print(f"submit() -> HTTP arrival, {count} breaches spread under 20/60 s, local receiver")
        for endpoint in ("wecom_robot", "wecom_app", "dingtalk_robot"):
            ms = await spread(endpoint, count, workdir)
            print(
                f"  {endpoint:15s} p50 {quantile(ms, 0.50):6.2f} ms  "
                f"p99 {quantile(ms, 0.99):6.2f} ms  max {max(ms):6.2f} ms  "
                f"mean {statistics.fmean(ms):6.2f} ms"
            )
        per_window, delivered, seconds = await burst(count, workdir)
        print(
            f"burst of {count} at one instant -> requests per 60 s window {per_window}, "
            f"{delivered} alerts delivered in {len(per_window)} window(s), "
            f"{seconds * 1000:.0f} ms of wall time"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    asyncio.run(main(parser.parse_args().count))
