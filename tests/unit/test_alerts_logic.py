"""The pure parts of alerting: signatures, sliding window, quiet hours, hints, message text,
routing and the dedup stores."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from pipeline.alerts import JsonFileAlertStateStore, alert_id
from pipeline.alerts.config import AlertConfig, parse_quiet_window
from pipeline.alerts.hints import Hints
from pipeline.alerts.messages import (
    RenderedAlert,
    build_message,
    digest_bytes,
    format_duration,
    render_section,
)
from pipeline.alerts.quiet import quiet_until
from pipeline.alerts.ratelimit import SlidingWindow
from pipeline.alerts.routing import Route, directory_from_config, resolve_route
from pipeline.alerts.signing import dingtalk_sign, webhook_signature
from schemas.alerts import RepContact
from schemas.latency import WaitReminder

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)


def test_dingtalk_sign_matches_the_documented_recipe() -> None:
    secret, timestamp = "SEC123abc", 1_700_000_000_000
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    assert (
        urllib.parse.unquote_plus(dingtalk_sign(secret, timestamp))
        == base64.b64encode(digest).decode()
    )
    assert "+" not in dingtalk_sign(secret, timestamp)  # urlencoded, safe in a query


def test_webhook_signature_covers_timestamp_and_body() -> None:
    one = webhook_signature("k", 100, b"{}")
    assert one.startswith("sha256=") and len(one) == 7 + 64
    assert one != webhook_signature("k", 101, b"{}")
    assert one != webhook_signature("k", 100, b"{ }")


def test_sliding_window_frees_slots_as_old_requests_age_out() -> None:
    window = SlidingWindow(limit=3, window_s=60)
    for second in (0, 10, 20):
        window.take(T0 + timedelta(seconds=second))
    assert window.free(T0 + timedelta(seconds=30)) == 0
    assert window.next_free_at(T0 + timedelta(seconds=30)) == T0 + timedelta(seconds=60)
    assert window.free(T0 + timedelta(seconds=60)) == 1
    assert window.free(T0 + timedelta(seconds=80)) == 3


@given(st.lists(st.integers(min_value=0, max_value=600), max_size=80))
def test_sliding_window_never_allows_more_than_limit_per_window(offsets: list[int]) -> None:
    window = SlidingWindow(limit=5, window_s=60)
    taken: list[int] = []
    for offset in sorted(offsets):
        now = T0 + timedelta(seconds=offset)
        if window.free(now) > 0:
            window.take(now)
            taken.append(offset)
    for start in taken:
        assert sum(1 for t in taken if start <= t < start + 60) <= 5


def test_quiet_hours_wrap_midnight_and_release_at_the_end() -> None:
    window = parse_quiet_window("21:00-08:30")
    evening = datetime(2026, 11, 30, 22, 15, tzinfo=SHANGHAI)
    early = datetime(2026, 12, 1, 7, 0, tzinfo=SHANGHAI)
    day = datetime(2026, 12, 1, 8, 30, tzinfo=SHANGHAI)
    morning = datetime(2026, 12, 1, 8, 30, tzinfo=SHANGHAI)
    assert quiet_until(evening.astimezone(UTC), window, SHANGHAI) == morning
    assert quiet_until(early, window, SHANGHAI) == morning
    assert quiet_until(day, window, SHANGHAI) is None
    assert quiet_until(evening, None, SHANGHAI) is None


def test_quiet_hours_within_one_day() -> None:
    window = parse_quiet_window("12:00-13:30")
    lunch = datetime(2026, 12, 1, 12, 45, tzinfo=SHANGHAI)
    assert quiet_until(lunch, window, SHANGHAI) == lunch.replace(hour=13, minute=30)
    assert quiet_until(lunch.replace(hour=11), window, SHANGHAI) is None


def test_format_duration_in_chinese() -> None:
    assert format_duration(30) == "不到1分钟"
    assert format_duration(7200) == "2小时"
    assert format_duration(8100) == "2小时15分"
    assert format_duration(2 * 86400 + 60) == "2天1分"


def hints() -> Hints:
    return Hints(
        default="默认",
        signal_priority=("objection_price", "quote"),
        signal_names={"quote": "报价/比价", "objection_price": "价格异议"},
        kind_names={"first_reply": "首次回复"},
        stage_titles={"reminder": "即将超时提醒"},
        by_signal={"quote": "询价等待{waited}", "objection_price": "{tier}类客户嫌贵{unknown}"},
        by_kind={"lead_unassigned": "线索超过{sla}未分配"},
    )


def test_hint_prefers_priority_signal_then_kind_then_default() -> None:
    values = {"waited": "3小时", "tier": "A", "sla": "2天"}
    both = ("quote", "objection_price")
    assert hints().hint(both, "first_reply", values) == "A类客户嫌贵{unknown}"
    assert hints().hint(("quote",), "first_reply", values) == "询价等待3小时"
    assert hints().hint(("demo",), "lead_unassigned", values) == "线索超过2天未分配"
    assert hints().hint((), "first_reply", values) == "默认"


def reminder(**changes: object) -> WaitReminder:
    fields: dict[str, object] = dict(
        tenant="t",
        reminder_id="r1",
        breach_id="b1",
        kind="first_reply",
        conversation_id="c1",
        rep_id="lisi",
        owner_rep_id="lisi",
        customer_id="cust-9",
        customer_tier="B",
        started_at=T0,
        deadline=T0 + timedelta(hours=4),
        due_at=T0 + timedelta(hours=3),
        last_customer_signals=("quote",),
        last_customer_text="报价呢",
    )
    fields.update(changes)
    return WaitReminder(**fields)


def test_section_says_who_customer_wait_signals_hint_and_link() -> None:
    rendered = render_section(
        reminder(),
        "reminder",
        now=T0 + timedelta(hours=3, minutes=5),
        rep=RepContact(rep_id="lisi", name="李四"),
        hints=hints(),
        sla_s=14400,
        crm_url_template="https://crm/c/{customer_id}?tab=log",
    )
    assert rendered.headline == "即将超时提醒：李四 / cust-9"
    assert rendered.section.splitlines() == [
        "### 即将超时提醒（首次回复）",
        "> 销售：**李四**",
        "> 客户：cust-9（B类）",
        "> 已等待：**3小时5分**（承诺4小时内）",
        "> 客户最后消息信号：报价/比价",
        "> 建议：询价等待3小时5分",
        "> [查看CRM记录](https://crm/c/cust-9?tab=log)",
    ]
    assert rendered.digest_line == (
        "- 即将超时提醒：**李四** / cust-9（B类） 已等待3小时5分 · 信号：报价/比价"
        " · 询价等待3小时5分 · [CRM](https://crm/c/cust-9?tab=log)"
    )


def test_section_without_rep_or_tier_still_reads() -> None:
    rendered = render_section(
        reminder(rep_id="", owner_rep_id="", customer_tier="", customer_id=""),
        "breach",
        now=T0,
        rep=None,
        hints=hints(),
        sla_s=0,
        crm_url_template="https://crm/{customer_id}",
    )
    assert "> 销售：**未分配**" in rendered.section and "（未分级类）" in rendered.section
    assert "CRM" not in rendered.section  # no customer, no link


def test_digest_lists_every_alert_and_mentions_each_person_once() -> None:
    lisi, zhang = RepContact(rep_id="lisi", wecom_userid="LiSi"), RepContact(rep_id="zhang")
    alerts = [RenderedAlert(f"h{n}", f"### s{n}", f"- line {n}") for n in (1, 2, 3)]
    message = build_message(alerts, [lisi, zhang, lisi])
    assert message.title == "销售响应提醒汇总（3条）"
    assert message.body == "### 销售响应提醒汇总（3条）\n- line 1\n- line 2\n- line 3"
    assert [m.rep_id for m in message.mentions] == ["lisi", "zhang"]
    single = build_message(alerts[:1], [lisi])
    assert (single.title, single.body) == ("h1", "### s1")
    assert digest_bytes(alerts, [lisi]) >= len(message.body.encode()) + len(" <@LiSi>")


def config() -> AlertConfig:
    return AlertConfig.model_validate(
        {
            "default_team": "east",
            "endpoints": {"robot": {"channel": "webhook", "url": "http://x"}},
            "teams": {
                "east": {
                    "lead": "zhang",
                    "director": "wang",
                    "reminder": ["robot"],
                    "breach": ["robot"],
                    "escalation": ["robot"],
                },
                "west": {"lead": "qian", "breach": ["robot"]},
            },
            "reps": [
                {"rep_id": "lisi", "team": "east", "wecom_userid": "LiSi"},
                {"rep_id": "zhao", "team": "west", "team_lead": "own_lead"},
                {"rep_id": "zhang", "name": "张三", "wecom_userid": "ZS"},
            ],
        }
    )


def test_routes_by_stage_rep_team_lead_director() -> None:
    cfg = config()
    directory = directory_from_config(cfg)
    reminder_route = resolve_route("reminder", "lisi", cfg, directory)
    assert reminder_route == Route(directory("lisi"), ("robot",))
    breach_route = resolve_route("breach", "lisi", cfg, directory)
    assert isinstance(breach_route, Route) and breach_route.recipient.wecom_userid == "ZS"
    escalation = resolve_route("escalation", "lisi", cfg, directory)
    assert isinstance(escalation, Route) and escalation.recipient.rep_id == "wang"
    own = resolve_route("breach", "zhao", cfg, directory)
    assert isinstance(own, Route) and own.recipient.rep_id == "own_lead"


def test_unroutable_alerts_say_why() -> None:
    cfg = config()
    directory = directory_from_config(cfg)
    assert resolve_route("escalation", "zhao", cfg, directory).startswith(  # type: ignore[union-attr]
        "no_route: team 'west' has no endpoints"
    )
    assert resolve_route("reminder", "", cfg, directory) == "no_route: a reminder needs a rep"
    unassigned = resolve_route("breach", "", cfg, directory)
    assert isinstance(unassigned, Route) and unassigned.recipient.rep_id == "zhang"


def test_alert_id_is_deterministic_and_distinguishes_each_part() -> None:
    parts = ("t", "b1", "breach", "zhang", "robot")
    assert alert_id(*parts) == alert_id(*parts)
    variants = {alert_id(*parts[:i], "x", *parts[i + 1 :]) for i in range(len(parts))}
    assert alert_id(*parts) not in variants and len(variants) == len(parts)


def test_json_file_store_survives_reopen_and_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    store = JsonFileAlertStateStore(path)
    store.mark("a1")
    store.mark("a1")
    store.mark("a2")
    with path.open("ab") as handle:
        handle.write(b'"a3')  # a crash mid-write
    reopened = JsonFileAlertStateStore(path)
    assert reopened.seen("a1") and reopened.seen("a2") and not reopened.seen("a3")
    assert path.read_bytes().count(b'"a1"') == 1
    reopened.mark("a4")  # must not be glued to the torn line
    assert JsonFileAlertStateStore(path).seen("a4")
