"""One HTTP call to a vendor, turned into a JSON answer or a DeliveryError with a reason code."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson
from yarl import URL

#: Vendor codes meaning "the access token is invalid or expired": refresh it and try again.
TOKEN_ERRCODES = frozenset({40014, 42001})


class DeliveryError(Exception):
    """A failed attempt; `reason` is a short code that ends up in AlertRecord.error."""

    def __init__(self, reason: str, detail: str = "", errcode: int | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.errcode = errcode


async def call_json(
    session: aiohttp.ClientSession,
    method: str,
    url: str | URL,
    *,
    timeout_s: float,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Send, require HTTP 2xx and a JSON object whose `errcode` (when present) is 0."""
    all_headers = {"Content-Type": "application/json; charset=utf-8"} if body is not None else {}
    all_headers.update(headers or {})
    try:
        async with session.request(
            method,
            url,
            data=body,
            headers=all_headers,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as response:
            text = await response.read()
            if response.status >= 300:
                raise DeliveryError(f"http_{response.status}", text[:200].decode(errors="replace"))
    except TimeoutError as exc:
        raise DeliveryError("timeout", f"no answer within {timeout_s}s") from exc
    except asyncio.CancelledError:
        raise
    except aiohttp.ClientError as exc:
        raise DeliveryError("connection", type(exc).__name__) from exc
    try:
        answer = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise DeliveryError("bad_response", "not JSON") from exc
    if not isinstance(answer, dict):
        raise DeliveryError("bad_response", "not a JSON object")
    errcode = answer.get("errcode", 0)
    if errcode not in (0, "0"):
        code = int(errcode) if str(errcode).lstrip("-").isdigit() else None
        raise DeliveryError(f"errcode_{errcode}", str(answer.get("errmsg", "")), code)
    return answer
