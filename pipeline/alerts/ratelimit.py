"""Sliding-window request budget per endpoint (robots allow about 20 messages a minute)."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta


class SlidingWindow:
    """Counts requests started in the last `window_s`; pure, driven by the caller's clock."""

    def __init__(self, limit: int, window_s: float) -> None:
        self._limit = limit
        self._window = timedelta(seconds=window_s)
        self._starts: deque[datetime] = deque()

    def _expire(self, now: datetime) -> None:
        while self._starts and self._starts[0] <= now - self._window:
            self._starts.popleft()

    def free(self, now: datetime) -> int:
        """How many requests may start now."""
        self._expire(now)
        return self._limit - len(self._starts)

    def take(self, now: datetime) -> None:
        self._expire(now)
        self._starts.append(now)

    def next_free_at(self, now: datetime) -> datetime:
        """When the oldest request in the window leaves it (now, if a slot is free)."""
        self._expire(now)
        if len(self._starts) < self._limit:
            return now
        return self._starts[0] + self._window
