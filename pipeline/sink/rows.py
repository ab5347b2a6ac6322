"""Map one record of each pipeline topic to the ClickHouse rows it becomes.

Each function returns ``{table: [row, ...]}``: an events record becomes one `events` row plus
one `signals` row per signal, so the heatmap rollup always agrees with the raw table.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from schemas.events import CanonicalEvent
from schemas.latency import Breach, LatencySample

Rows = dict[str, list[dict[str, Any]]]


def _local_parts(instant: datetime, zone: ZoneInfo) -> dict[str, Any]:
    local = instant.astimezone(zone)
    return {
        "local_date": local.date().isoformat(),
        "local_weekday": local.isoweekday(),
        "local_hour": local.hour,
    }


def kafka_position(topic: str, partition: int, offset: int) -> dict[str, Any]:
    """The `_topic/_partition/_offset` columns every raw table keeps."""
    return {"_topic": topic, "_partition": partition, "_offset": offset}


def event_rows(
    event: CanonicalEvent, zone: ZoneInfo, position: dict[str, Any], *, store_text: bool
) -> Rows:
    """The `events` row and its `signals` rows; text is dropped when the tenant stores none."""
    local = _local_parts(event.occurred_at, zone)
    row = event.model_dump(mode="json")
    row["occurred_at"] = event.occurred_at.astimezone(UTC)
    row["signals"] = list(event.signals)
    row["text_truncated"] = int(event.text_truncated)
    if not store_text:
        row["text"] = ""
    row.update(local)
    row.update(position)
    signal_rows = [
        {
            "tenant": event.tenant,
            "event_id": event.event_id,
            "signal": signal,
            "actor": event.actor.value,
            "rep_id": event.rep_id,
            "customer_id": event.customer_id,
            "customer_tier": event.customer_tier,
            "conversation_id": event.conversation_id,
            "source": event.source.value,
            "kind": event.kind.value,
            "occurred_at": row["occurred_at"],
            **local,
            **position,
        }
        for signal in event.signals
    ]
    return {"events": [row], "signals": signal_rows}


def latency_rows(record: dict[str, Any], zone: ZoneInfo, position: dict[str, Any]) -> Rows:
    """A latency-topic record: a sample, a breach row, or a reminder (alerts only, no row)."""
    kind = record.get("type")
    if kind == "sample":
        sample = LatencySample.model_validate(record["data"])
        row = sample.model_dump(mode="json")
        row["breached"] = int(sample.breached)
        row["start_signals"] = list(sample.start_signals)
        row["local_date"] = sample.replied_at.astimezone(zone).date().isoformat()
        row.update(position)
        return {"latency_samples": [row]}
    if kind == "breach":
        breach = Breach.model_validate(record["data"])
        row = breach.model_dump(mode="json")
        row["last_customer_signals"] = list(breach.last_customer_signals)
        row["local_date"] = breach.deadline.astimezone(zone).date().isoformat()
        row.update(position)
        return {"breaches": [row]}
    return {}


def dead_letter_rows(record: dict[str, Any], position: dict[str, Any]) -> Rows:
    """A DLQ record keeps the raw bytes readable (escaped) and exact (base64) for replay."""
    raw = base64.b64decode(record.get("raw_b64", ""))
    row = {
        "source": record.get("source", ""),
        "reason": record.get("reason", ""),
        "message": record.get("message", ""),
        "raw": raw,
        "raw_b64": record.get("raw_b64", ""),
        "raw_truncated": int(bool(record.get("raw_truncated", False))),
        "topic": record.get("topic", ""),
        "partition": int(record.get("partition", -1)),
        "offset": int(record.get("offset", -1)),
        "received_at": record.get("received_at") or datetime.now(UTC),
        **position,
    }
    return {"dead_letters": [row]}


def alert_rows(record: dict[str, Any], position: dict[str, Any]) -> Rows:
    row = dict(record)
    row.update(position)
    return {"alerts": [row]}


def rows_for(
    topic_role: str,
    value: bytes,
    zone: ZoneInfo,
    position: dict[str, Any],
    *,
    store_text: bool = True,
) -> Rows:
    """Rows for one Kafka record of the given topic role (events, latency, dlq, alerts)."""
    if topic_role == "events":
        event = CanonicalEvent.model_validate_json(value)
        return event_rows(event, zone, position, store_text=store_text)
    record = orjson.loads(value)
    if topic_role == "latency":
        return latency_rows(record, zone, position)
    if topic_role == "dlq":
        return dead_letter_rows(record, position)
    if topic_role == "alerts":
        return alert_rows(record, position)
    raise ValueError(f"no rows for topic role {topic_role!r}")
