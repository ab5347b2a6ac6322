"""Turn each source's timestamp (epoch ms, epoch s, float s, ISO 8601, RFC 2822) into aware UTC.

An instant before 2000 or more than a day ahead of now would open an SLA clock that never
closes or poison a day's rollup, so it is refused. A value in the wrong epoch unit is
converted only when exactly one unit gives a plausible instant: the plausible ranges of
seconds (~1e9) and milliseconds (~1e12) never overlap, so that choice is provably right.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
_MAX_EPOCH_NUMBER = 2**63

EpochUnit = Literal["s", "ms"]
_PER_SECOND: dict[str, int] = {"s": 1, "ms": 1000}


class TimestampError(ValueError):
    """A timestamp that cannot be used; `reason` is a dead-letter reason code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def is_plausible(instant: datetime, now: datetime) -> bool:
    return EARLIEST <= instant <= now + FUTURE_SLACK


def _require_plausible(instant: datetime, now: datetime, original: object) -> datetime:
    if not is_plausible(instant, now):
        raise TimestampError(
            "implausible_timestamp", f"{original!r} is {instant.isoformat()}, outside 2000..now+1d"
        )
    return instant


def _epoch_number(value: object) -> float:
    """Accept ints, floats and numeric strings (DingTalk sends epoch ms as strings)."""
    if isinstance(value, bool):
        raise TimestampError("bad_timestamp", f"boolean {value!r} is not a timestamp")
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise TimestampError("bad_timestamp", f"{value[:64]!r} is not a number") from None
    elif isinstance(value, int | float):
        number = float(value)
    else:
        raise TimestampError("bad_timestamp", f"{type(value).__name__} is not a timestamp")
    if not math.isfinite(number) or abs(number) >= _MAX_EPOCH_NUMBER:
        raise TimestampError("wrong_type", f"{str(value)[:64]} is out of range for a timestamp")
    return number


def _from_epoch(number: float, unit: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(number / _PER_SECOND[unit], tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_epoch(value: object, unit: EpochUnit, now: datetime) -> datetime:
    """Epoch number in `unit`; the other unit is used only when it alone is plausible."""
    number = _epoch_number(value)
    expected = _from_epoch(number, unit)
    if expected is not None and is_plausible(expected, now):
        return expected
    other = _from_epoch(number, "s" if unit == "ms" else "ms")
    if other is not None and is_plausible(other, now):
        return other
    if expected is None:
        raise TimestampError("implausible_timestamp", f"{value!r} is beyond any calendar date")
    return _require_plausible(expected, now, value)


def parse_iso8601(value: object, now: datetime) -> datetime:
    """ISO 8601 as Salesforce and SES write it ('...Z', '...+0000'); naive means UTC."""
    if not isinstance(value, str):
        raise TimestampError("bad_timestamp", f"expected an ISO 8601 string, got {value!r:.64}")
    try:
        instant = datetime.fromisoformat(value.strip())
    except ValueError:
        raise TimestampError("bad_timestamp", f"{value[:64]!r} is not ISO 8601") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return _require_plausible(instant.astimezone(UTC), now, value)


def parse_rfc2822(value: object, now: datetime) -> datetime:
    """Mail `Date:` header; '-0000' (unknown zone) is read as UTC."""
    if not isinstance(value, str) or not value.strip():
        raise TimestampError("bad_timestamp", f"expected an RFC 2822 date, got {value!r:.64}")
    try:
        instant = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        raise TimestampError("bad_timestamp", f"{value[:64]!r} is not an RFC 2822 date") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return _require_plausible(instant.astimezone(UTC), now, value)
