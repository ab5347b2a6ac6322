"""The words of an alert: who, which customer and class, how long, signals, hint, CRM link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schemas.alerts import RepContact

from .hints import Hints
from .items import WaitItem, responsible_rep


@dataclass(frozen=True)
class RenderedAlert:
    """One alert's words: a headline, the full section, and the compact line used in digests."""

    headline: str
    section: str
    digest_line: str


@dataclass(frozen=True)
class AlertMessage:
    """Channel-neutral markdown; each channel adds its own mention syntax."""

    title: str
    body: str
    mentions: tuple[RepContact, ...]


def format_duration(seconds: float) -> str:
    """2h15m → '2小时15分'; under a minute → '不到1分钟'."""
    minutes = max(0, int(seconds // 60))
    if minutes == 0:
        return "不到1分钟"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = ((days, "天"), (hours, "小时"), (mins, "分"))
    return "".join(f"{value}{unit}" for value, unit in parts if value)


def render_section(
    item: WaitItem,
    stage: str,
    *,
    now: datetime,
    rep: RepContact | None,
    hints: Hints,
    sla_s: float,
    crm_url_template: str,
) -> RenderedAlert:
    """Render one alert at the moment it is queued."""
    rep_id = responsible_rep(item)
    rep_name = (rep.name if rep and rep.name else rep_id) or "未分配"
    tier = item.customer_tier or "未分级"
    waited = format_duration((now - item.started_at).total_seconds())
    sla = format_duration(sla_s) if sla_s > 0 else "—"
    signals = "、".join(hints.signal_name(s) for s in item.last_customer_signals) or "无"
    kind_name = hints.kind_names.get(item.kind, item.kind)
    title = hints.stage_titles.get(stage, stage)
    headline = f"{title}：{rep_name} / {item.customer_id or item.conversation_id}"
    values = {
        "rep_name": rep_name,
        "customer_id": item.customer_id,
        "tier": tier,
        "waited": waited,
        "sla": sla,
        "signals": signals,
    }
    hint = hints.hint(tuple(item.last_customer_signals), item.kind, values)
    customer = f"{item.customer_id or '—'}（{tier}类）"
    lines = [
        f"### {title}（{kind_name}）",
        f"> 销售：**{rep_name}**",
        f"> 客户：{customer}",
        f"> 已等待：**{waited}**（承诺{sla}内）",
        f"> 客户最后消息信号：{signals}",
        f"> 建议：{hint}",
    ]
    digest_line = f"- {title}：**{rep_name}** / {customer} 已等待{waited} · 信号：{signals}"
    digest_line += f" · {hint}"
    if crm_url_template and item.customer_id:
        link = crm_url_template.replace("{customer_id}", item.customer_id)
        lines.append(f"> [查看CRM记录]({link})")
        digest_line += f" · [CRM]({link})"
    return RenderedAlert(headline, "\n".join(lines), digest_line)


def digest_title(count: int) -> str:
    return f"销售响应提醒汇总（{count}条）"


def build_message(alerts: list[RenderedAlert], mentions: list[RepContact]) -> AlertMessage:
    """One alert as itself; several as one digest with a line for every one of them."""
    unique: dict[str, RepContact] = {m.rep_id: m for m in mentions}
    if len(alerts) == 1:
        return AlertMessage(alerts[0].headline, alerts[0].section, tuple(unique.values()))
    title = digest_title(len(alerts))
    body = f"### {title}\n" + "\n".join(alert.digest_line for alert in alerts)
    return AlertMessage(title, body, tuple(unique.values()))


def digest_bytes(alerts: list[RenderedAlert], mentions: list[RepContact]) -> int:
    """An upper bound of a digest's size as a channel counts it (UTF-8 bytes, mentions added)."""
    lines = sum(len(alert.digest_line.encode()) + 1 for alert in alerts)
    mention = sum(len(m.wecom_userid or m.dingtalk_userid or m.mobile) + 4 for m in mentions)
    return len(f"### {digest_title(len(alerts))}\n".encode()) + lines + mention
