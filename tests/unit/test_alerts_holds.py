"""An input record is let go only once everything it caused has ended: the holds themselves,
and AlertService.submit's `on_done` over real outcomes (a refused port makes every delivery
fail, so "dead" is the final outcome reached without any HTTP server)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from pipeline.alerts import AlertRecord, AlertService, InMemoryAlertStateStore
from pipeline.alerts.config import AlertConfig, QuietHoursConfig
from pipeline.alerts.holds import Hold, Holds
from schemas.latency import WaitReminder
from tests.unit.test_alerts_service import NOW, breach

# -- the holds ------------------------------------------------------------------------------


def test_a_hold_is_released_once_sealed_and_every_key_ended() -> None:
    holds = Holds()
    released: list[str] = []
    hold = Hold(lambda: released.append("a"))
    holds.wait(hold, "x")
    holds.wait(hold, "y")
    holds.end("x")
    holds.seal(hold)
    assert released == []
    holds.end("y")
    holds.end("y")
    assert released == ["a"] and holds.waiting() == 0


def test_a_hold_is_not_released_before_it_is_sealed() -> None:
    holds = Holds()
    released: list[str] = []
    hold = Hold(lambda: released.append("a"))
    holds.wait(hold, "x")
    holds.end("x")  # the first alert ended while the item was still being submitted
    assert released == []
    holds.seal(hold)
    assert released == ["a"]


def test_an_ended_key_hands_its_holds_to_its_successors() -> None:
    holds = Holds()
    released: list[str] = []
    first, second = Hold(lambda: released.append("1")), Hold(lambda: released.append("2"))
    for hold in (first, second):
        holds.wait(hold, "escalation")
        holds.seal(hold)
    holds.end("escalation", then=["alert-a", "alert-b"])
    holds.end("alert-a")
    assert released == []
    holds.end("alert-b")
    assert sorted(released) == ["1", "2"]


# -- the service ----------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def refused_config(*, max_attempts: int = 1, after_s: float = 1800) -> AlertConfig:
    return AlertConfig.model_validate(
        {
            "default_team": "east",
            "delivery": {"timeout_s": 0.5, "max_attempts": max_attempts},
            "endpoints": {"hook": {"channel": "webhook", "url": "http://127.0.0.1:9/closed"}},
            "teams": {
                "east": {
                    "lead": "zhang",
                    "director": "wang",
                    "reminder": ["hook"],
                    "breach": ["hook"],
                    "escalation": ["hook"],
                }
            },
            "escalation": {"after_s": after_s},
        }
    )


def reminder() -> WaitReminder:
    return WaitReminder(
        tenant="t",
        reminder_id="r1",
        breach_id="b2",
        kind="first_reply",
        conversation_id="c2",
        rep_id="lisi",
        owner_rep_id="lisi",
        customer_id="cust-2",
        customer_tier="B",
        started_at=NOW - timedelta(hours=1),
        deadline=NOW + timedelta(hours=1),
        due_at=NOW,
        last_customer_signals=(),
        last_customer_text="",
    )


def make(config: AlertConfig, clock: Clock, records: list[AlertRecord], **kwargs) -> AlertService:
    return AlertService(
        config,
        clock=clock,
        store=InMemoryAlertStateStore(),
        on_record=records.append,
        **kwargs,
    )


def test_a_reminder_is_held_until_its_alert_is_final() -> None:
    done: list[str] = []
    records: list[AlertRecord] = []

    async def main() -> None:
        alerts = make(refused_config(), Clock(), records)
        await alerts.submit(reminder(), lambda: done.append("r"))
        assert done == [] and [r.status for r in records] == ["queued"]
        await alerts.flush(2)
        await alerts.close()

    asyncio.run(main())
    assert [r.status for r in records] == ["queued", "dead"]
    assert done == ["r"]


def test_a_retried_alert_keeps_its_record_held() -> None:
    done: list[str] = []
    records: list[AlertRecord] = []
    clock = Clock()

    async def main() -> None:
        alerts = make(refused_config(max_attempts=2), clock, records)
        await alerts.submit(reminder(), lambda: done.append("r"))
        await alerts.flush(2)
        assert [r.status for r in records] == ["queued", "failed"] and done == []
        clock.now += timedelta(minutes=5)  # past the backoff
        await alerts.flush(2)
        await alerts.close()

    asyncio.run(main())
    assert [r.status for r in records] == ["queued", "failed", "dead"]
    assert done == ["r"]


def test_a_breach_is_held_until_its_escalation_is_cancelled_by_the_close() -> None:
    done: list[str] = []
    records: list[AlertRecord] = []

    async def main() -> None:
        alerts = make(refused_config(), Clock(), records)
        await alerts.submit(breach(), lambda: done.append("open"))
        await alerts.flush(2)
        assert [r.status for r in records] == ["queued", "dead"]
        assert done == []  # the escalation, 30 min away, would be lost with the record
        await alerts.submit(breach(status="closed"), lambda: done.append("closed"))
        await alerts.close()

    asyncio.run(main())
    assert sorted(done) == ["closed", "open"]


def test_a_breach_is_held_until_its_escalation_alert_is_final() -> None:
    done: list[str] = []
    records: list[AlertRecord] = []
    clock = Clock()

    async def main() -> None:
        alerts = make(refused_config(), clock, records)
        await alerts.submit(breach(), lambda: done.append("open"))
        await alerts.flush(2)
        clock.now += timedelta(seconds=1800)
        await alerts.tick()  # the escalation is queued now; its delivery has not ended
        assert [r.stage for r in records if r.status == "queued"] == ["breach", "escalation"]
        assert done == []
        await alerts.flush(2)
        await alerts.close()

    asyncio.run(main())
    assert [(r.stage, r.status) for r in records if r.status == "dead"] == [
        ("breach", "dead"),
        ("escalation", "dead"),
    ]
    assert done == ["open"]


def test_a_redelivered_record_waits_for_the_alert_the_first_delivery_queued() -> None:
    done: list[str] = []
    records: list[AlertRecord] = []

    async def main() -> None:
        alerts = make(refused_config(), Clock(), records)
        await alerts.submit(reminder(), lambda: done.append("first"))
        await alerts.submit(reminder(), lambda: done.append("again"))
        assert done == []
        await alerts.flush(2)
        await alerts.close()

    asyncio.run(main())
    assert [r.status for r in records] == ["queued", "dead"]
    assert sorted(done) == ["again", "first"]


def test_items_that_cause_nothing_new_are_let_go_at_once() -> None:
    done: list[str] = []

    async def main() -> None:
        alerts = make(refused_config(), Clock(), [])
        await alerts.submit(breach(status="closed"), lambda: done.append("close"))
        unroutable = make(AlertConfig(), Clock(), [])
        await unroutable.submit(reminder(), lambda: done.append("unroutable"))
        await alerts.submit(object(), lambda: done.append("unreadable"))  # type: ignore[arg-type]
        await alerts.close()

    asyncio.run(main())
    assert done == ["close", "unroutable", "unreadable"]


def test_no_escalation_fires_while_the_input_has_a_backlog() -> None:
    """After a restart the input is read again from the oldest held record: an overdue
    escalation must wait until the close further on has had its chance to be read."""
    records: list[AlertRecord] = []
    clock = Clock()
    backlog = [True]

    async def main() -> None:
        alerts = make(refused_config(after_s=0), clock, records, caught_up=lambda: not backlog[0])
        await alerts.submit(breach())
        await alerts.tick()
        assert [r.stage for r in records] == ["breach"]
        await alerts.submit(breach(status="closed"))
        backlog[0] = False
        await alerts.flush(2)
        await alerts.close()

    asyncio.run(main())
    assert {r.stage for r in records} == {"breach"}


def test_abandoning_a_moved_input_drops_its_deferred_alerts_and_escalations() -> None:
    """After a rebalance the new owner of a latency partition reads its records again: what
    this worker still had queued from it must not go out here too, and an escalation whose
    close only the new owner reads must not fire here."""
    config = refused_config(after_s=600).model_copy(
        update={"quiet_hours": QuietHoursConfig(default="11:00-13:00")}  # NOW is 12:00 local
    )
    done: list[str] = []
    records: list[AlertRecord] = []
    clock = Clock()

    async def main() -> None:
        alerts = make(config, clock, records)
        await alerts.submit(breach(breach_id="moved"), lambda: done.append("moved"), "p0")
        await alerts.submit(breach(breach_id="kept"), lambda: done.append("kept"), "p1")
        assert [(r.breach_id, r.status) for r in records] == [
            ("moved", "deferred"),
            ("kept", "deferred"),
        ]
        assert alerts.abandon({"p0"}) == 2  # its breach alert and its escalation
        clock.now += timedelta(hours=2)  # past quiet hours and the escalation
        await alerts.tick()
        await alerts.flush(2)
        await alerts.close()

    asyncio.run(main())
    after = {(r.breach_id, r.stage) for r in records if r.status != "deferred"}
    assert after == {("kept", "breach"), ("kept", "escalation")}
    assert done == ["kept"]  # the moved record is not released: its offset stays uncommitted
