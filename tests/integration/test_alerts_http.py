"""Alerts over real HTTP to a local receiver: exact payloads, signatures, tokens, rate limits,
retries, dedup across restarts, escalation and quiet hours driven by an injected clock."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from pipeline.alerts import (
    AlertRecord,
    AlertService,
    AlertStateStore,
    InMemoryAlertStateStore,
    JsonFileAlertStateStore,
    load_alert_config,
)
from pipeline.alerts.demo import local_receiver_config
from pipeline.alerts.metrics import ALERTS_TOTAL
from pipeline.alerts.receiver import AlertReceiver, Fault
from schemas.latency import Breach, WaitReminder

ENV = {
    "T_ROBOT_KEY": "robot-key-1",
    "T_APP_SECRET": "app-secret-1",
    "T_DING_TOKEN": "ding-token-1",
    "T_DING_SECRET": "SECdingsecret123",
    "T_DING_APP_SECRET": "ding-app-secret",
    "T_HOOK_SECRET": "hook-secret",
}
# 2026-11-30 12:00:30 in Shanghai: inside working hours.
NOON = datetime(2026, 11, 30, 4, 0, 30, tzinfo=UTC)
ROBOT = "/cgi-bin/webhook/send"
APP = "/cgi-bin/message/send"
DING = "/robot/send"
NOTICE = "/topapi/message/corpconversation/asyncsend_v2"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def config_text(base: str, *, delivery: str = "", quiet: str = "", after_s: int = 1800) -> str:
    return f"""
crm_url_template = "https://crm.example.com/customers/{{customer_id}}"
default_team = "east"
[delivery]
timeout_s = 1
digest_hold_s = 5
{delivery}
[escalation]
after_s = {after_s}
[quiet_hours]
{quiet}
[endpoints.east_robot]
channel = "wecom_robot"
base_url = "{base}"
key_env = "T_ROBOT_KEY"
[endpoints.wecom_app]
channel = "wecom_app"
base_url = "{base}"
corp_id = "wwcorp"
agent_id = 1000002
secret_env = "T_APP_SECRET"
[endpoints.north_robot]
channel = "dingtalk_robot"
base_url = "{base}"
token_env = "T_DING_TOKEN"
secret_env = "T_DING_SECRET"
[endpoints.ding_notice]
channel = "dingtalk_notice"
base_url = "{base}"
app_key = "dingkey"
agent_id = 2000001
app_secret_env = "T_DING_APP_SECRET"
[endpoints.ops_hook]
channel = "webhook"
url = "{base}/hooks/alerts"
secret_env = "T_HOOK_SECRET"
[teams.east]
lead = "zhangsan"
director = "wangwu"
reminder = ["wecom_app"]
breach = ["east_robot"]
escalation = ["wecom_app"]
[teams.north]
lead = "zhaoliu"
director = "wangwu"
reminder = ["ding_notice"]
breach = ["north_robot"]
escalation = ["ding_notice"]
[teams.ops]
lead = "zhangsan"
breach = ["ops_hook"]
[[reps]]
rep_id = "lisi"
name = "李四"
team = "east"
wecom_userid = "LiSi"
[[reps]]
rep_id = "zhangsan"
name = "张三"
team = "east"
wecom_userid = "ZhangSan"
[[reps]]
rep_id = "wangwu"
name = "王五"
wecom_userid = "WangWu"
dingtalk_userid = "ding_wangwu"
[[reps]]
rep_id = "zhaoliu"
name = "赵六"
team = "north"
dingtalk_userid = "ding_zhaoliu"
mobile = "13800000002"
[[reps]]
rep_id = "sunqi"
name = "孙七"
team = "north"
dingtalk_userid = "ding_sunqi"
[[reps]]
rep_id = "zhou"
name = "周八"
team = "ops"
"""


def breach(
    n: int = 1,
    *,
    rep: str = "lisi",
    tier: str = "A",
    status: str = "open",
    detected_at: datetime = NOON,
    kind: str = "first_reply",
    signals: tuple[str, ...] = ("objection_price", "competitor"),
) -> Breach:
    started = detected_at - timedelta(seconds=7230)
    return Breach(
        tenant="t1",
        breach_id=f"b-{n}",
        kind=kind,
        source="wecom",
        conversation_id=f"conv-{n}",
        start_event_id=f"wecom:m{n}",
        rep_id=rep,
        owner_rep_id=rep,
        customer_id=f"cust-{n:03d}",
        customer_tier=tier,
        started_at=started,
        deadline=started + timedelta(hours=2),
        sla_s=7200.0,
        detected_at=detected_at,
        status=status,
        closed_at=detected_at if status == "closed" else None,
        reply_event_id="",
        latency_s=None,
        last_customer_signals=signals,
        last_customer_text="太贵了，别家便宜",
    )


def reminder(n: int = 1, *, rep: str = "lisi") -> WaitReminder:
    started = NOON - timedelta(minutes=90)
    return WaitReminder(
        tenant="t1",
        reminder_id=f"r-{n}",
        breach_id=f"b-{n}",
        kind="first_reply",
        conversation_id=f"conv-{n}",
        rep_id=rep,
        owner_rep_id=rep,
        customer_id=f"cust-{n:03d}",
        customer_tier="B",
        started_at=started,
        deadline=started + timedelta(hours=4),
        due_at=NOON,
        last_customer_signals=("quote",),
        last_customer_text="报价单发一下",
    )


Scenario = Callable[
    [AlertReceiver, Callable[..., AlertService], list[AlertRecord]], Awaitable[None]
]


def run_scenario(
    tmp_path: Path,
    scenario: Scenario,
    *,
    clock: Clock | None = None,
    delivery: str = "",
    quiet: str = "",
    after_s: int = 1800,
) -> list[AlertRecord]:
    """Start the receiver, build services on demand (same config), return every record."""
    records: list[AlertRecord] = []
    the_clock = clock or Clock(NOON)

    async def main() -> None:
        async with AlertReceiver() as receiver, aiohttp.ClientSession() as http:
            path = tmp_path / "alerts.toml"
            path.write_text(
                config_text(receiver.base_url, delivery=delivery, quiet=quiet, after_s=after_s),
                encoding="utf-8",
            )
            config = load_alert_config(path, ENV)

            def make(store: AlertStateStore | None = None) -> AlertService:
                return AlertService(
                    config,
                    clock=the_clock,
                    http=http,
                    store=store or InMemoryAlertStateStore(),
                    on_record=records.append,
                )

            await scenario(receiver, make, records)

    asyncio.run(main())
    return records


def expected_breach_body(n: int = 1) -> str:
    return (
        "### 客户回复超时（首次回复）\n"
        "> 销售：**李四**\n"
        f"> 客户：cust-{n:03d}（A类）\n"
        "> 已等待：**2小时**（承诺2小时内）\n"
        "> 客户最后消息信号：价格异议、竞品提及\n"
        "> 建议：客户提出价格异议后等待2小时，价格异议久拖易流失，"
        "建议由主管确认折扣空间后当天回复\n"
        f"> [查看CRM记录](https://crm.example.com/customers/cust-{n:03d})"
    )


def test_breach_goes_to_team_lead_and_is_recorded_queued_then_sent(tmp_path: Path) -> None:
    async def scenario(receiver, make, records):
        service = make()
        await service.submit(breach())
        await service.flush(2)

    records = run_scenario(tmp_path, scenario)
    assert [r.status for r in records] == ["queued", "sent"]
    assert records[-1].recipient == "zhangsan" and records[-1].channel == "wecom_robot"


def test_wecom_robot_payload_is_exact(tmp_path: Path) -> None:
    seen: list = []

    async def scenario(receiver, make, records):
        service = make()
        await service.submit(breach())
        await service.flush(2)
        seen.extend(receiver.requests)

    run_scenario(tmp_path, scenario)
    assert len(seen) == 1
    request = seen[0]
    assert request.method == "POST" and request.path == ROBOT
    assert request.query == {"key": "robot-key-1"}
    assert request.json() == {
        "msgtype": "markdown",
        "markdown": {"content": expected_breach_body() + "\n<@ZhangSan>"},
    }


def test_dingtalk_robot_signature_verifies_like_dingtalk(tmp_path: Path) -> None:
    seen: list = []

    async def scenario(receiver, make, records):
        service = make()
        await service.submit(breach(rep="sunqi", signals=()))
        await service.flush(2)
        seen.extend(receiver.requests)

    run_scenario(tmp_path, scenario)
    assert len(seen) == 1
    request = seen[0]
    assert request.path == DING and request.query["access_token"] == "ding-token-1"
    timestamp = request.query["timestamp"]
    expected = base64.b64encode(
        hmac.new(
            b"SECdingsecret123", f"{timestamp}\nSECdingsecret123".encode(), hashlib.sha256
        ).digest()
    ).decode()
    assert request.query["sign"] == expected
    now_ms = datetime.now(UTC).timestamp() * 1000
    assert abs(int(timestamp) - now_ms) < 3_600_000  # DingTalk refuses signatures over 1 h off
    payload = request.json()
    assert payload["msgtype"] == "markdown"
    assert payload["at"] == {"atUserIds": ["ding_zhaoliu"], "atMobiles": [], "isAtAll": False}
    assert payload["markdown"]["title"] == "客户回复超时：孙七 / cust-001"
    assert payload["markdown"]["text"].endswith("\n\n@ding_zhaoliu")
    assert "> 客户最后消息信号：无" in payload["markdown"]["text"]


def test_wecom_app_token_is_cached_and_refreshed_when_refused(tmp_path: Path) -> None:
    seen: dict = {}

    async def scenario(receiver, make, records):
        service = make()
        for n in (1, 2, 3):
            await service.submit(reminder(n))
        await service.flush(2)
        seen["fetches_after_three"] = receiver.token_fetches
        receiver.expire_token()
        await service.submit(reminder(4))
        await service.flush(2)
        seen["fetches_after_expiry"] = receiver.token_fetches
        seen["requests"] = list(receiver.at(APP))

    records = run_scenario(tmp_path, scenario)
    assert seen["fetches_after_three"] == 1
    assert seen["fetches_after_expiry"] == 2
    # the refused attempt is retried at once with the new token, inside the same attempt
    assert [r.query["access_token"] for r in seen["requests"]] == ["tok-1"] * 3 + ["tok-1", "tok-2"]
    assert [r.status for r in records if r.status == "sent"] == ["sent"] * 4
    payload = seen["requests"][0].json()
    assert payload["touser"] == "LiSi" and payload["agentid"] == 1000002
    assert payload["msgtype"] == "markdown"
    assert payload["markdown"]["content"].startswith(
        "### 即将超时提醒（首次回复）\n> 销售：**李四**"
    )


def test_wecom_app_token_refetched_after_expiry_time(tmp_path: Path) -> None:
    clock = Clock(NOON)
    fetches: list[int] = []

    async def scenario(receiver, make, records):
        service = make()
        await service.submit(reminder(1))
        await service.flush(2)
        fetches.append(receiver.token_fetches)
        clock.advance(7200 - 300 - 1)  # just inside expires_in minus the refresh margin
        await service.submit(reminder(2))
        await service.flush(2)
        fetches.append(receiver.token_fetches)
        clock.advance(2)
        await service.submit(reminder(3))
        await service.flush(2)
        fetches.append(receiver.token_fetches)

    run_scenario(tmp_path, scenario, clock=clock)
    assert fetches == [1, 1, 2]


def test_dingtalk_notice_payload_and_token(tmp_path: Path) -> None:
    seen: list = []

    async def scenario(receiver, make, records):
        service = make()
        await service.submit(reminder(1, rep="sunqi"))
        await service.flush(2)
        seen.extend(receiver.at(NOTICE))
        seen.append(receiver.token_fetches)

    run_scenario(tmp_path, scenario)
    request, fetches = seen
    assert fetches == 1 and request.query == {"access_token": "tok-1"}
    payload = request.json()
    assert payload["agent_id"] == 2000001 and payload["userid_list"] == "ding_sunqi"
    assert payload["msg"]["msgtype"] == "markdown"
    assert payload["msg"]["markdown"]["title"] == "即将超时提醒：孙七 / cust-001"
    assert "> 客户最后消息信号：报价/比价" in payload["msg"]["markdown"]["text"]


def test_webhook_carries_verifiable_hmac_signature(tmp_path: Path) -> None:
    seen: list = []

    async def scenario(receiver, make, records):
        service = make()
        await service.submit(breach(rep="zhou"))
        await service.flush(2)
        seen.extend(receiver.requests)

    run_scenario(tmp_path, scenario)
    (request,) = seen
    assert request.path == "/hooks/alerts"
    timestamp = request.headers["X-Salesradar-Timestamp"]
    mac = hmac.new(b"hook-secret", timestamp.encode() + b"." + request.body, hashlib.sha256)
    assert request.headers["X-Salesradar-Signature"] == "sha256=" + mac.hexdigest()
    payload = request.json()
    assert payload["mentions"][0]["rep_id"] == "zhangsan"
    assert "周八" in payload["markdown"]


def test_21_breaches_in_a_minute_make_at_most_20_requests_and_lose_none(tmp_path: Path) -> None:
    clock = Clock(NOON)
    seen: list = []

    async def scenario(receiver, make, records):
        service = make()
        for n in range(1, 22):
            await service.submit(breach(n, detected_at=clock.now))
            await service.tick()
            clock.advance(2.5)  # 21 breaches over 52.5 s
        await service.flush(2)
        seen.extend(receiver.at(ROBOT))

    records = run_scenario(tmp_path, scenario, clock=clock)
    assert len(seen) <= 20
    contents = "\n".join(r.json()["markdown"]["content"] for r in seen)
    for n in range(1, 22):
        assert f"cust-{n:03d}（A类）" in contents
    sent = [r for r in records if r.status == "sent"]
    assert sorted(r.breach_id for r in sent) == sorted(f"b-{n}" for n in range(1, 22))
    assert max(r.digest_size for r in sent) >= 2


def test_a_simultaneous_burst_goes_out_as_19_singles_and_one_digest(tmp_path: Path) -> None:
    seen: list = []

    async def scenario(receiver, make, records):
        service = make()
        for n in range(1, 31):
            await service.submit(breach(n))
        await service.flush(2)
        seen.extend(receiver.at(ROBOT))

    records = run_scenario(tmp_path, scenario)
    assert len(seen) == 20
    digests = [r for r in seen if "销售响应提醒汇总" in r.json()["markdown"]["content"]]
    assert len(digests) == 1
    assert "汇总（11条）" in digests[0].json()["markdown"]["content"]
    assert sum(1 for r in records if r.status == "sent") == 30


def test_a_large_burst_is_split_by_message_size_and_delivered_over_windows(
    tmp_path: Path,
) -> None:
    clock = Clock(NOON)
    per_window: list[int] = []
    seen: list = []

    async def scenario(receiver, make, records):
        service = make()
        for n in range(1, 101):
            await service.submit(breach(n))
        for _ in range(5):
            await service.flush(2)
            per_window.append(len(receiver.requests) - sum(per_window))
            clock.advance(60)
            await service.tick()
        seen.extend(receiver.requests)

    records = run_scenario(tmp_path, scenario, clock=clock)
    assert all(count <= 20 for count in per_window) and per_window[1] > 0
    assert all(len(r.json()["markdown"]["content"].encode()) <= 4096 for r in seen)
    contents = "\n".join(r.json()["markdown"]["content"] for r in seen)
    assert all(f"cust-{n:03d}（A类）" in contents for n in range(1, 101))
    assert len({r.breach_id for r in records if r.status == "sent"}) == 100


def test_retries_on_http_500_with_backoff_then_sends(tmp_path: Path) -> None:
    clock = Clock(NOON)
    counts: list[int] = []

    async def scenario(receiver, make, records):
        receiver.fail(ROBOT, 2, Fault(status=500))
        service = make()
        await service.submit(breach())
        await service.flush(2)
        counts.append(len(receiver.requests))
        clock.advance(1.9)  # backoff after the first failure is 2 s
        await service.tick()
        await service.flush(2)
        counts.append(len(receiver.requests))
        clock.advance(0.1)
        await service.tick()
        await service.flush(2)
        clock.advance(4)  # then 4 s
        await service.tick()
        await service.flush(2)
        counts.append(len(receiver.requests))

    records = run_scenario(tmp_path, scenario, clock=clock)
    assert counts == [1, 1, 3]
    outcomes = [(r.status, r.attempts, r.error.split(":")[0]) for r in records]
    assert outcomes == [
        ("queued", 0, ""),
        ("failed", 1, "http_500"),
        ("failed", 2, "http_500"),
        ("sent", 3, ""),
    ]


def test_retries_after_timeout_and_on_vendor_rate_limit_errcode(tmp_path: Path) -> None:
    clock = Clock(NOON)

    async def scenario(receiver, make, records):
        receiver.fail(ROBOT, 1, Fault(delay_s=1.5))  # client timeout is 1 s
        receiver.fail(ROBOT, 1, Fault(errcode=130101))
        service = make()
        await service.submit(breach())
        await service.flush(3)
        for _ in range(2):
            clock.advance(10)
            await service.tick()
            await service.flush(3)

    records = run_scenario(tmp_path, scenario, clock=clock)
    failures = [r.error.split(":")[0] for r in records if r.status == "failed"]
    assert failures == ["timeout", "errcode_130101"]
    assert records[-1].status == "sent" and records[-1].attempts == 3


def test_dead_after_max_attempts_with_record_and_metric(tmp_path: Path) -> None:
    clock = Clock(NOON)
    before = ALERTS_TOTAL.labels(channel="wecom_robot", status="dead")._value.get()

    async def scenario(receiver, make, records):
        receiver.fail(ROBOT, 10, Fault(status=503))
        service = make()
        await service.submit(breach())
        await service.flush(2)
        for _ in range(5):
            clock.advance(60)
            await service.tick()
            await service.flush(2)

    records = run_scenario(tmp_path, scenario, clock=clock, delivery="max_attempts = 3")
    assert [r.status for r in records] == ["queued", "failed", "failed", "dead"]
    assert records[-1].attempts == 3 and records[-1].error.startswith("http_503")
    after = ALERTS_TOTAL.labels(channel="wecom_robot", status="dead")._value.get()
    assert after - before == 1


def test_dedup_survives_restart_with_json_file_store(tmp_path: Path) -> None:
    counts: list[int] = []
    store_path = tmp_path / "state" / "alerts.jsonl"

    async def scenario(receiver, make, records):
        first = make(JsonFileAlertStateStore(store_path))
        await first.submit(breach(1))
        await first.submit(breach(1))  # a redelivery before the first went out
        await first.flush(2)
        counts.append(len(receiver.requests))
        second = make(JsonFileAlertStateStore(store_path))  # a restarted worker
        await second.submit(breach(1))
        await second.submit(breach(2))
        await second.flush(2)
        counts.append(len(receiver.requests))

    records = run_scenario(tmp_path, scenario)
    assert counts == [1, 2]
    assert [r.breach_id for r in records if r.status == "sent"] == ["b-1", "b-2"]


def test_escalation_to_director_after_interval_unless_closed(tmp_path: Path) -> None:
    clock = Clock(NOON)
    counts: list[int] = []
    seen: list = []

    async def scenario(receiver, make, records):
        service = make()
        await service.submit(breach(1))
        await service.submit(breach(2))
        await service.flush(2)
        counts.append(len(receiver.at(APP)))
        clock.advance(1799)
        await service.submit(breach(2, status="closed"))  # answered before escalation
        await service.tick()
        await service.flush(2)
        counts.append(len(receiver.at(APP)))
        clock.advance(1)
        await service.tick()
        await service.flush(2)
        counts.append(len(receiver.at(APP)))
        seen.extend(receiver.at(APP))

    records = run_scenario(tmp_path, scenario, clock=clock, after_s=1800)
    assert counts == [0, 0, 1]
    payload = seen[0].json()
    assert payload["touser"] == "WangWu"
    assert payload["markdown"]["content"].startswith("### 超时未处理升级（首次回复）")
    assert "cust-001" in payload["markdown"]["content"]
    escalations = [r for r in records if r.stage == "escalation"]
    assert {r.breach_id for r in escalations} == {"b-1"}


def test_quiet_hours_hold_alerts_for_one_morning_digest_but_not_urgent(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 11, 30, 14, 0, tzinfo=UTC))  # 22:00 in Shanghai
    counts: list[int] = []
    seen: list = []

    async def scenario(receiver, make, records):
        service = make()
        for n in (1, 2, 3):
            await service.submit(breach(n, tier="B", detected_at=clock.now))
        await service.submit(breach(4, tier="A", detected_at=clock.now))  # urgent
        await service.flush(2)
        counts.append(len(receiver.requests))
        clock.now = datetime(2026, 12, 1, 0, 29, tzinfo=UTC)  # 08:29
        await service.tick()
        await service.flush(2)
        counts.append(len(receiver.requests))
        clock.advance(60)  # 08:30
        await service.tick()
        await service.flush(2)
        counts.append(len(receiver.requests))
        seen.extend(receiver.requests)

    records = run_scenario(
        tmp_path,
        scenario,
        clock=clock,
        after_s=10**6,
        quiet='default = "21:00-08:30"\nurgent_tiers = ["A"]',
    )
    assert counts == [1, 1, 2]
    assert "cust-004" in seen[0].json()["markdown"]["content"]
    morning = seen[1].json()["markdown"]["content"]
    assert "汇总（3条）" in morning
    assert all(f"cust-{n:03d}" in morning for n in (1, 2, 3))
    deferred = [r for r in records if r.status == "deferred"]
    assert sorted(r.breach_id for r in deferred) == ["b-1", "b-2", "b-3"]
    sent = {r.breach_id: r for r in records if r.status == "sent"}
    assert sent["b-1"].digest_size == 3 and sent["b-4"].digest_size == 1


def test_demo_config_delivers_to_local_receiver_and_summarises(tmp_path: Path) -> None:
    lines: list[str] = []

    async def main() -> None:
        async with AlertReceiver() as receiver:
            alerts = AlertService(
                local_receiver_config(receiver.base_url),
                clock=lambda: NOON,
                store=InMemoryAlertStateStore(),
                on_record=lambda record: None,
            )
            for n in (1, 2, 3):
                await alerts.submit(breach(n, rep=f"demo-rep-{n}"))
            await alerts.submit(reminder(4, rep="demo-rep-4"))
            await alerts.flush(3)
            await alerts.close()
            lines.extend(receiver.summary())

    asyncio.run(main())
    assert lines[0].startswith("3 alert message(s) would have gone to WeCom group robot: ")
    assert "客户回复超时（首次回复） demo-rep-1 cust-001（A类）" in lines[0]
    assert sorted(line.split(":")[0] for line in lines) == [
        "1 alert message(s) would have gone to WeCom app",
        "3 alert message(s) would have gone to DingTalk robot",
        "3 alert message(s) would have gone to WeCom group robot",
    ]


def test_run_loop_fires_escalation_when_the_clock_passes_it(tmp_path: Path) -> None:
    clock = Clock(NOON)
    seen: list = []

    async def scenario(receiver, make, records):
        service = make()
        await service.submit(breach(1))
        loop = asyncio.create_task(service.run(interval_s=0.01))
        await receiver.wait_for(1)
        clock.advance(1800)
        await receiver.wait_for(2)
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
        seen.extend(r.path for r in receiver.requests)

    run_scenario(tmp_path, scenario, clock=clock, after_s=1800)
    assert seen == [ROBOT, APP]
