"""AlertService behaviour that needs no HTTP: bad input, unroutable alerts, closed breaches,
callbacks that fail — none of it may raise at the caller or vanish without a record."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from pipeline.alerts import AlertRecord, AlertService, InMemoryAlertStateStore
from pipeline.alerts.config import AlertConfig
from pipeline.alerts.metrics import ALERTS_TOTAL
from schemas.latency import Breach

NOW = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)


def breach(status: str = "open", rep: str = "lisi", breach_id: str = "b1") -> Breach:
    return Breach(
        tenant="t",
        breach_id=breach_id,
        kind="first_reply",
        source="wecom",
        conversation_id="c1",
        start_event_id="e1",
        rep_id=rep,
        owner_rep_id=rep,
        customer_id="cust-1",
        customer_tier="B",
        started_at=NOW - timedelta(hours=3),
        deadline=NOW - timedelta(hours=1),
        sla_s=7200.0,
        detected_at=NOW,
        status=status,
        closed_at=NOW if status == "closed" else None,
        reply_event_id="",
        latency_s=None,
        last_customer_signals=(),
        last_customer_text="",
    )


def service(config: AlertConfig, records: list[AlertRecord], **kwargs: object) -> AlertService:
    return AlertService(
        config,
        clock=lambda: NOW,
        store=InMemoryAlertStateStore(),
        on_record=kwargs.pop("on_record", records.append),
        **kwargs,
    )


def test_unroutable_breach_is_recorded_dead_once_with_reason() -> None:
    records: list[AlertRecord] = []

    async def main() -> None:
        alerts = service(AlertConfig(), records)
        await alerts.submit(breach())
        await alerts.submit(breach())
        await alerts.flush(1)

    asyncio.run(main())
    assert len(records) == 1
    record = records[0]
    assert (record.status, record.channel, record.stage) == ("dead", "none", "breach")
    assert record.error == "no_route: no team for rep 'lisi' and no default_team"


def test_something_that_is_not_a_breach_is_counted_not_raised() -> None:
    records: list[AlertRecord] = []
    before = ALERTS_TOTAL.labels(channel="none", status="dead")._value.get()

    async def main() -> None:
        await service(AlertConfig(), records).submit(object())  # type: ignore[arg-type]

    asyncio.run(main())
    assert records == []
    assert ALERTS_TOTAL.labels(channel="none", status="dead")._value.get() - before == 1


def webhook_config() -> AlertConfig:
    return AlertConfig.model_validate(
        {
            "default_team": "east",
            "delivery": {"timeout_s": 0.5},
            "endpoints": {"hook": {"channel": "webhook", "url": "http://127.0.0.1:9/closed"}},
            "teams": {
                "east": {
                    "lead": "zhang",
                    "director": "wang",
                    "breach": ["hook"],
                    "escalation": ["hook"],
                }
            },
            "escalation": {"after_s": 0},
        }
    )


def test_closed_breach_alone_sends_nothing_and_cancels_escalation() -> None:
    records: list[AlertRecord] = []

    async def main() -> None:
        alerts = service(webhook_config(), records)
        await alerts.submit(breach(status="closed"))
        await alerts.tick()
        await alerts.close()

    asyncio.run(main())
    assert records == []


def test_failed_delivery_and_failing_callback_never_raise() -> None:
    calls: list[str] = []

    async def on_record(record: AlertRecord) -> None:
        calls.append(record.status)
        raise RuntimeError("sink down")

    async def main() -> None:
        alerts = service(webhook_config(), [], on_record=on_record)
        await alerts.submit(breach())
        await alerts.flush(2)
        await alerts.close()

    asyncio.run(main())
    # breach and its escalation (due at once) are queued, then both fail: port 9 refuses
    assert sorted(calls) == ["failed", "failed", "queued", "queued"]


def test_a_close_arriving_while_an_escalation_is_enqueued_spares_the_others() -> None:
    """Recording one escalation awaits the sink; a close submitted meanwhile drops another
    escalation that was already due. The tick must skip it and still escalate the rest."""
    records: list[AlertRecord] = []

    async def main() -> None:
        async def on_record(record: AlertRecord) -> None:
            records.append(record)
            if (record.breach_id, record.stage) == ("b1", "escalation"):
                await alerts.submit(breach(status="closed", breach_id="b2"))

        alerts = service(webhook_config(), records, on_record=on_record)
        for breach_id in ("b1", "b2", "b3"):
            await alerts.submit(breach(breach_id=breach_id))
        await alerts.tick()
        await alerts.close()

    asyncio.run(main())
    escalated = {r.breach_id for r in records if r.stage == "escalation" and r.status == "queued"}
    assert escalated == {"b1", "b3"}
