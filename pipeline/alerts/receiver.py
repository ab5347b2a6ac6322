"""A local stand-in for the WeCom, DingTalk and webhook endpoints, speaking their HTTP.

The demo starts it to show which alerts would have gone where; tests start it to check exactly
what arrived. It issues and checks access tokens like the vendors do and can be told to fail.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

TOKEN_PATHS = frozenset({"/cgi-bin/gettoken", "/gettoken"})
TOKEN_SEND_PATHS = frozenset(
    {"/cgi-bin/message/send", "/topapi/message/corpconversation/asyncsend_v2"}
)
CHANNEL_BY_PATH = {
    "/cgi-bin/webhook/send": "WeCom group robot",
    "/cgi-bin/message/send": "WeCom app",
    "/robot/send": "DingTalk robot",
    "/topapi/message/corpconversation/asyncsend_v2": "DingTalk work notice",
}


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    arrived_at: float  # time.perf_counter() when the request arrived

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass(frozen=True)
class Fault:
    """What to do instead of answering ok: an HTTP status, a vendor errcode, or a delay."""

    status: int = 200
    errcode: int = 0
    delay_s: float = 0.0


class AlertReceiver:
    """Records every request; `requests` excludes token fetches, which are counted apart."""

    def __init__(self, token_expires_in: int = 7200) -> None:
        self.requests: list[Received] = []
        self.token_fetches = 0
        self._token_expires_in = token_expires_in
        self._current_token = ""
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> str:
        """Listen on 127.0.0.1 at a free port; returns the base URL."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> AlertReceiver:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def fail(self, path: str, times: int, fault: Fault) -> None:
        """The next `times` requests to `path` get `fault` instead of success."""
        self._faults[path].extend([fault] * times)

    def expire_token(self) -> None:
        """The vendor invalidated the token early: the next send with it gets errcode 42001."""
        self._current_token = ""

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    async def wait_for(self, count: int, timeout_s: float = 5.0) -> None:
        """Until at least `count` requests (token fetches excluded) arrived."""
        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(lambda: len(self.requests) >= count), timeout_s
            )

    def summary(self) -> list[str]:
        """Human lines for the demo: how many alerts would have gone to each platform."""
        per_channel: dict[str, list[str]] = defaultdict(list)
        for request in self.requests:
            channel = CHANNEL_BY_PATH.get(request.path, f"webhook {request.path}")
            per_channel[channel].append(_title_of(request))
        return [
            f"{len(titles)} alert message(s) would have gone to {channel}: " + "; ".join(titles)
            for channel, titles in per_channel.items()
        ]

    async def _handle(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter()
        body = await request.read()
        if request.path in TOKEN_PATHS:
            self.token_fetches += 1
            self._current_token = f"tok-{self.token_fetches}"
            return web.json_response(
                {
                    "errcode": 0,
                    "errmsg": "ok",
                    "access_token": self._current_token,
                    "expires_in": self._token_expires_in,
                }
            )
        received = Received(
            request.method, request.path, dict(request.query), dict(request.headers), body, arrived
        )
        async with self._arrived:
            self.requests.append(received)
            self._arrived.notify_all()
        faults = self._faults.get(request.path)
        if faults:
            fault = faults.popleft()
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.status != 200:
                return web.Response(status=fault.status, text="server error")
            if fault.errcode:
                return web.json_response({"errcode": fault.errcode, "errmsg": "fault"})
        if request.path in TOKEN_SEND_PATHS:
            token = request.query.get("access_token", "")
            if not self._current_token or token != self._current_token:
                return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})


def _title_of(request: Received) -> str:
    """The message heading, plus rep and customer for a single alert, for a one-line summary."""
    try:
        payload = request.json()
    except orjson.JSONDecodeError:
        return "(not JSON)"
    markdown = payload.get("markdown") or payload.get("msg", {}).get("markdown") or {}
    text = (
        markdown
        if isinstance(markdown, str)
        else (markdown.get("text") or markdown.get("content") or "")
    )
    lines = text.splitlines()
    heading = lines[0].lstrip("# ") if lines else ""
    details = [m.group(1) for line in lines if (m := _DETAIL.match(line))]
    return " ".join([heading, *details])


_DETAIL = re.compile(r"^> (?:销售|客户)：\**([^*]+?)\**$")
