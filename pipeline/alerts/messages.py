"""The words of an alert: who, which customer and class, how long, signals, hint, CRM link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schemas.alerts import RepContact

from .hints import Hints
from .items import WaitItem, responsible_rep


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
) -> tuple[str, str]:
    """(headline, markdown section) for one alert."""
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
    lines = [
        f"### {title}（{kind_name}）",
        f"> 销售：**{rep_name}**",
        f"> 客户：{item.customer_id or '—'}（{tier}类）",
        f"> 已等待：**{waited}**（承诺{sla}内）",
        f"> 客户最后消息信号：{signals}",
        f"> 建议：{hints.hint(tuple(item.last_customer_signals), item.kind, values)}",
    ]
    if crm_url_template and item.customer_id:
        link = crm_url_template.replace("{customer_id}", item.customer_id)
        lines.append(f"> [查看CRM记录]({link})")
    return headline, "\n".join(lines)


def build_message(
    headlines: list[str], sections: list[str], mentions: list[RepContact]
) -> AlertMessage:
    """One alert as itself; several as one digest that lists every one of them."""
    unique: dict[str, RepContact] = {m.rep_id: m for m in mentions}
    if len(sections) == 1:
        return AlertMessage(headlines[0], sections[0], tuple(unique.values()))
    title = f"销售响应提醒汇总（{len(sections)}条）"
    body = f"### {title}\n\n" + "\n\n---\n\n".join(
        section.replace("### ", "#### ", 1) for section in sections
    )
    return AlertMessage(title, body, tuple(unique.values()))
