"""Turn the sink's JSON-able row dicts into the text ClickHouse's JSONEachRow format reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson


def _encode_extra(value: Any) -> Any:
    """Bytes (dead-letter raw payloads) become text; invalid UTF-8 is kept as \\xNN escapes."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="backslashreplace")
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot store a {type(value).__name__} in ClickHouse")


def to_json_each_row(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """One JSON object per line; datetimes become RFC 3339 strings (read with best_effort)."""
    return b"\n".join(
        orjson.dumps(dict(row), default=_encode_extra, option=orjson.OPT_NON_STR_KEYS)
        for row in rows
    )
