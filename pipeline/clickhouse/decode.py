"""Turn ClickHouse JSON result values into Python values by column type.

Both backends return the same Python types: ints, floats, str, lists, dicts, `date`, and
timezone-aware `datetime` in UTC, so code reading results does not care where they came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

_WRAPPER = re.compile(r"^(Nullable|LowCardinality)\((.*)\)$")
_ARRAY = re.compile(r"^Array\((.*)\)$")
_DATETIME = re.compile(r"^DateTime(?:64)?(?:\((?:\d+)?(?:,\s*)?(?:'([^']*)')?\))?$")


def _identity(value: Any) -> Any:
    return value


def _datetime_decoder(tz_name: str | None) -> Callable[[Any], Any]:
    zone = ZoneInfo(tz_name) if tz_name else UTC

    def decode(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return datetime.fromisoformat(value).replace(tzinfo=zone).astimezone(UTC)

    return decode


def _date(value: Any) -> Any:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _int(value: Any) -> Any:
    return int(value) if isinstance(value, str) else value


def decoder_for(type_name: str, server_tz: str | None = None) -> Callable[[Any], Any]:
    """A function converting one JSON value of the ClickHouse type `type_name`."""
    type_name = type_name.replace("\\/", "/").strip()
    wrapped = _WRAPPER.match(type_name)
    if wrapped:
        inner = decoder_for(wrapped.group(2), server_tz)
        return lambda value: None if value is None else inner(value)
    array = _ARRAY.match(type_name)
    if array:
        element = decoder_for(array.group(1), server_tz)
        return lambda value: [element(item) for item in value]
    moment = _DATETIME.match(type_name)
    if moment:
        return _datetime_decoder(moment.group(1) or server_tz)
    if type_name in ("Date", "Date32"):
        return _date
    if re.fullmatch(r"U?Int\d+", type_name):
        return _int
    return _identity
