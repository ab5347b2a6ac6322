"""One JSON object per log line, so log stores can filter by tenant, topic, partition and offset.

Pass context with `extra`, e.g.
`log.warning("rejected", extra={"tenant": t, "topic": tp, "partition": p, "offset": o})`;
every extra key lands in the JSON object next to the standard fields.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

#: Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
) | {"message", "asctime", "taskName"}

#: Context keys listed first in each line, in this order, when present.
CONTEXT_KEYS = ("tenant", "topic", "partition", "offset")


def at(
    topic: str, partition: int, offset: int | None = None, *, tenant: str | None = None
) -> dict[str, Any]:
    """The ``extra`` of a log line about a record or a partition: JSON logs carry these as
    fields a log store can filter by (plain logs keep them in the message)."""
    context: dict[str, Any] = {"topic": topic, "partition": partition}
    if offset is not None:
        context["offset"] = offset
    if tenant is not None:
        context["tenant"] = tenant
    return context


class JsonFormatter(logging.Formatter):
    """Formats a record as a single-line JSON object; values orjson cannot encode become str."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}
        for key in CONTEXT_KEYS:
            if key in extras:
                entry[key] = extras.pop(key)
        entry.update(extras)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


class _SalesradarHandler(logging.StreamHandler):
    """Marks the handler we installed, so configuring twice replaces it instead of doubling."""


def configure_logging(level: int | str = logging.INFO, json: bool = False) -> None:
    """Route the root logger to stderr, as JSON lines (production) or plain text (a terminal)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _SalesradarHandler)]:
        root.removeHandler(handler)
    handler = _SalesradarHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
