"""Quiet hours: when a non-urgent alert to a person must wait for their morning."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .config import QuietWindow


def quiet_until(now: datetime, window: QuietWindow | None, zone: ZoneInfo) -> datetime | None:
    """The end of the quiet period `now` falls in, or None when the person may be alerted now."""
    if window is None:
        return None
    local = now.astimezone(zone)
    if not window.contains(local.time()):
        return None
    end = local.replace(hour=window.end.hour, minute=window.end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end
