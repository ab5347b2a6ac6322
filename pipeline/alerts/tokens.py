"""Access tokens for WeCom and DingTalk apps: fetched once, reused until shortly before expiry."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

TokenFetch = Callable[[], Awaitable[tuple[str, float]]]  # → (token, expires_in seconds)


class AccessTokenCache:
    """Vendors cap gettoken calls per day, so one fetch serves every send until it nears expiry."""

    def __init__(self, clock: Callable[[], datetime], margin_s: float) -> None:
        self._clock = clock
        self._margin = timedelta(seconds=margin_s)
        self._token = ""
        self._expires_at: datetime | None = None
        self._lock = asyncio.Lock()

    async def get(self, fetch: TokenFetch) -> str:
        async with self._lock:
            if self._token and self._expires_at and self._clock() < self._expires_at:
                return self._token
            token, expires_in = await fetch()
            self._token = token
            self._expires_at = self._clock() + timedelta(seconds=expires_in) - self._margin
            return token

    def invalidate(self, token: str) -> None:
        """Drop `token` after the vendor refused it; a newer token fetched meanwhile stays."""
        if token == self._token:
            self._token = ""
            self._expires_at = None
