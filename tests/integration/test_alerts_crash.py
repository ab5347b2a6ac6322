"""Alerts survive kill -9: a real `salesradar worker` on the embedded broker, chDB behind its
HTTP endpoint and a local HTTP receiver in this process.

Breaches go straight onto the latency topic. The first worker sends the urgent ones and holds
the others for quiet hours; it is killed while they wait (and while every escalation waits).
A second worker, with quiet hours lifted and escalations due at once, must deliver every
expected alert exactly once per (breach, stage, recipient): nothing lost with the first
worker's memory, nothing sent twice, and no escalation for the breach closed before the crash.
A rebalance while escalations are pending moves them to the worker that now owns their
partition, without a second copy on the worker that lost it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from pipeline.alerts.receiver import AlertReceiver
from pipeline.clickhouse import ClickHouseError, ServerBackend
from pipeline.settings import Settings
from schemas.latency import Breach
from tests.integration.worker_stack import (
    ClickHouseEndpoint,
    RunningStack,
    WorkerProcess,
    running_stack,
    wait_for,
)

pytestmark = pytest.mark.integration

PARTITIONS = 4
URGENT = ("b1", "b2")  # tier A: past quiet hours at once
QUIET = ("b3", "b4", "b5", "b6")
CLOSED = "b5"  # answered late, before the crash: no escalation
TITLES = {"客户回复超时": "breach", "超时未处理升级": "escalation"}


class ReceiverThread:
    """The local receiver on its own event loop, so the test can block while it answers."""

    def __init__(self) -> None:
        self.receiver = AlertReceiver()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> ReceiverThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.receiver.start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.receiver.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def alerts(self) -> Counter[tuple[str, str, str]]:
        """(breach, stage, recipient) of every request; each carries one alert here."""
        seen: Counter[tuple[str, str, str]] = Counter()
        for request in list(self.receiver.requests):
            payload = request.json()
            title, _, who = payload["title"].partition("：")
            customer = who.rsplit(" / ", 1)[1]
            recipients = ",".join(m["rep_id"] for m in payload["mentions"])
            seen[(customer.replace("cust-", "b"), TITLES[title], recipients)] += 1
        return seen


def config_text(url: str, *, quiet: str, after_s: int) -> str:
    return f"""
default_team = "east"
[escalation]
after_s = {after_s}
[quiet_hours]
default = "{quiet}"
urgent_tiers = ["A"]
[endpoints.hook]
channel = "webhook"
url = "{url}/hooks/alerts"
[teams.east]
lead = "zhang"
director = "wang"
breach = ["hook"]
escalation = ["hook"]
"""


def quiet_now() -> str:
    """A quiet-hours window around the present moment in the alert time zone."""
    local = datetime.now(ZoneInfo("Asia/Shanghai"))
    start, end = local - timedelta(hours=1), local + timedelta(hours=2)
    return f"{start:%H:%M}-{end:%H:%M}"


def breach(breach_id: str, *, status: str = "open") -> Breach:
    detected = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    started = detected - timedelta(hours=2)
    return Breach(
        tenant="t1",
        breach_id=breach_id,
        kind="first_reply",
        source="wecom",
        conversation_id=f"conv-{breach_id}",
        start_event_id=f"wecom:{breach_id}",
        rep_id="lisi",
        owner_rep_id="lisi",
        customer_id=f"cust-{breach_id[1:]}",
        customer_tier="A" if breach_id in URGENT else "B",
        started_at=started,
        deadline=started + timedelta(hours=2),
        sla_s=7200.0,
        detected_at=detected,
        status=status,
        closed_at=detected + timedelta(minutes=1) if status == "closed" else None,
        reply_event_id="wecom:reply" if status == "closed" else "",
        latency_s=7260.0 if status == "closed" else None,
        last_customer_signals=(),
        last_customer_text="",
    )


async def produce_breaches(settings: Settings, breaches: list[Breach]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers)
    await producer.start()
    try:
        for item in breaches:
            value = orjson.dumps({"type": "breach", "data": item.model_dump(mode="json")})
            await producer.send_and_wait(
                settings.latency_topic, value, key=item.conversation_id.encode()
            )
    finally:
        await producer.stop()


def alert_statuses(clickhouse: ClickHouseEndpoint) -> set[tuple[str, str, str]]:
    backend = ServerBackend(clickhouse.url, compress=False, connect_timeout=3)
    try:
        rows = backend.query_rows("SELECT breach_id, stage, status FROM alerts")
    except ClickHouseError:
        return set()
    finally:
        backend.close()
    return {(r["breach_id"], r["stage"], r["status"]) for r in rows}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[RunningStack]:
    with running_stack(
        tmp_path, topic_partitions=PARTITIONS, alerts_file=tmp_path / "alerts.toml"
    ) as parts:
        yield parts


def test_queued_alerts_and_escalations_survive_kill_9_exactly_once(stack, tmp_path: Path) -> None:
    settings, env, clickhouse = stack.settings, stack.env, stack.clickhouse
    config = tmp_path / "alerts.toml"
    with ReceiverThread() as receiver:
        url = receiver.receiver.base_url
        config.write_text(config_text(url, quiet=quiet_now(), after_s=3600), encoding="utf-8")
        first = WorkerProcess("first", env, tmp_path)
        second = WorkerProcess("second", env, tmp_path)
        try:
            first.start()
            first.wait_ready(90)
            opened = [breach(b) for b in (*URGENT, *QUIET)]
            asyncio.run(produce_breaches(settings, [*opened, breach(CLOSED, status="closed")]))
            before_kill = {(b, "breach", "sent") for b in URGENT} | {
                (b, "breach", "deferred") for b in QUIET
            }
            wait_for(
                lambda: before_kill <= alert_statuses(clickhouse),
                90,
                lambda: f"urgent alerts sent, the rest deferred: {alert_statuses(clickhouse)}",
            )
            time.sleep(5)  # past faust's commit interval: an acked offset would be committed
            assert receiver.alerts() == Counter({(b, "breach", "zhang"): 1 for b in URGENT})
            first.kill()

            config.write_text(config_text(url, quiet="", after_s=0), encoding="utf-8")
            second.start()
            expected = Counter(
                {(b, "breach", "zhang"): 1 for b in (*URGENT, *QUIET)}
                | {(b, "escalation", "wang"): 1 for b in (*URGENT, *QUIET) if b != CLOSED}
            )
            wait_for(
                lambda: set(receiver.alerts()) >= set(expected),
                120,
                lambda: (
                    f"every alert after the restart: got {receiver.alerts()}\n{second.log_tail()}"
                ),
            )
            time.sleep(5)  # a duplicate still on its way would arrive now
            assert receiver.alerts() == expected
        finally:
            for worker in (first, second):
                if worker.alive():
                    worker.kill()


def test_a_worker_that_loses_partitions_leaves_their_escalations_to_the_new_owner(
    stack, tmp_path: Path
) -> None:
    """A second worker joins while every escalation is pending: the partitions it takes over
    are read again there, so their escalations must fire there and not also on the first
    worker, which stays up; the closed breach is escalated by neither."""
    settings, env, clickhouse = stack.settings, stack.env, stack.clickhouse
    config = tmp_path / "alerts.toml"
    with ReceiverThread() as receiver:
        url = receiver.receiver.base_url
        # detected 5 minutes ago: escalations fall due about a minute from now
        config.write_text(config_text(url, quiet="", after_s=360), encoding="utf-8")
        first = WorkerProcess("first", env, tmp_path)
        second = WorkerProcess("second", env, tmp_path)
        try:
            first.start()
            first.wait_ready(90)
            opened = (*URGENT, *QUIET)
            asyncio.run(
                produce_breaches(
                    settings, [*(breach(b) for b in opened), breach(CLOSED, status="closed")]
                )
            )
            sent = {(b, "breach", "sent") for b in opened}
            wait_for(
                lambda: sent <= alert_statuses(clickhouse),
                60,
                lambda: f"every breach alert sent: {alert_statuses(clickhouse)}",
            )
            second.start()
            second.wait_ready(60)
            expected = Counter(
                {(b, "breach", "zhang"): 1 for b in opened}
                | {(b, "escalation", "wang"): 1 for b in opened if b != CLOSED}
            )
            wait_for(
                lambda: set(receiver.alerts()) >= set(expected),
                150,
                lambda: f"every escalation: got {receiver.alerts()}\n{second.log_tail()}",
            )
            time.sleep(5)  # a duplicate still on its way would arrive now
            assert receiver.alerts() == expected
            assert first.alive()
            assert second.metric("salesradar_alerts_total") > 0, "no partition moved"
        finally:
            for worker in (first, second):
                if worker.alive():
                    worker.kill()
