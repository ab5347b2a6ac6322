"""Insert settings shared by both backends, so a retried batch behaves the same everywhere."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any


def dedup_settings(dedup_token: str | None) -> dict[str, Any]:
    """Settings that make a retried batch with the same token a no-op, rollups included."""
    if dedup_token is None:
        return {}
    if not dedup_token:
        raise ValueError("dedup_token must not be empty")
    return {
        "insert_deduplicate": 1,
        "insert_deduplication_token": dedup_token,
        "deduplicate_blocks_in_dependent_materialized_views": 1,
    }


def render_settings(settings: dict[str, Any]) -> str:
    """A SETTINGS clause body: k = 'v', with strings quoted and escaped."""
    parts = []
    for key, value in settings.items():
        if not key.replace("_", "").isalnum():
            raise ValueError(f"bad setting name {key!r}")
        parts.append(f"{key} = {quote_literal(value)}")
    return ", ".join(parts)


def quote_literal(value: Any) -> str:
    """A ClickHouse literal for a number or a string."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def format_parameter(value: Any) -> str:
    """A query parameter in ClickHouse text format, as the HTTP interface's param_<name> expects."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ",".join(_element(item) for item in value) + "]"
    return quote_literal(value) if isinstance(value, bool) else str(value)


def _element(value: Any) -> str:
    """An array element: strings and dates quoted, numbers bare."""
    if isinstance(value, bool | int | float):
        return quote_literal(value)
    if isinstance(value, list | tuple):
        return format_parameter(value)
    return quote_literal(format_parameter(value))
