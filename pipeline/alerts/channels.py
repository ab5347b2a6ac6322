"""The five channels: how one AlertMessage becomes each vendor's HTTP request."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from urllib.parse import quote, urlencode

import aiohttp
import orjson
from yarl import URL

from .config import (
    DingtalkNoticeEndpoint,
    DingtalkRobotEndpoint,
    Endpoint,
    WebhookEndpoint,
    WecomAppEndpoint,
    WecomRobotEndpoint,
)
from .messages import AlertMessage
from .signing import dingtalk_sign, webhook_signature
from .tokens import AccessTokenCache
from .transport import TOKEN_ERRCODES, DeliveryError, call_json


class Channel(Protocol):
    name: str  # the AlertRecord.channel value
    group: bool  # True: one shared chat (merge everyone into one digest); False: per person
    max_bytes: int  # the vendor's limit on one markdown message

    async def send(self, session: aiohttp.ClientSession, message: AlertMessage) -> None: ...


def _url(base: str, path: str, query: dict[str, str]) -> URL:
    """Build a URL whose query is already encoded, so signatures survive byte for byte."""
    return URL(f"{base.rstrip('/')}{path}?{urlencode(query, quote_via=quote)}", encoded=True)


def _dumps(payload: dict[str, object]) -> bytes:
    return orjson.dumps(payload)


class WecomRobot:
    name = "wecom_robot"
    group = True
    max_bytes = 4096

    def __init__(self, endpoint: WecomRobotEndpoint, timeout_s: float) -> None:
        self._endpoint = endpoint
        self._timeout = timeout_s

    @staticmethod
    def payload(message: AlertMessage) -> dict[str, object]:
        mentions = " ".join(f"<@{m.wecom_userid}>" for m in message.mentions if m.wecom_userid)
        content = f"{message.body}\n{mentions}" if mentions else message.body
        return {"msgtype": "markdown", "markdown": {"content": content}}

    async def send(self, session: aiohttp.ClientSession, message: AlertMessage) -> None:
        url = _url(
            self._endpoint.base_url,
            "/cgi-bin/webhook/send",
            {"key": self._endpoint.key.get_secret_value()},
        )
        await call_json(
            session, "POST", url, timeout_s=self._timeout, body=_dumps(self.payload(message))
        )


class _TokenClient:
    """Shared by the two app channels: post with a cached token, refresh it once if refused."""

    def __init__(
        self,
        *,
        base_url: str,
        token_path: str,
        token_query: dict[str, str],
        send_path: str,
        timeout_s: float,
        clock: Callable[[], datetime],
        margin_s: float,
    ) -> None:
        self._base = base_url
        self._token_url = _url(base_url, token_path, token_query)
        self._send_path = send_path
        self._timeout = timeout_s
        self._tokens = AccessTokenCache(clock, margin_s)

    async def _fetch_token(self, session: aiohttp.ClientSession) -> tuple[str, float]:
        answer = await call_json(session, "GET", self._token_url, timeout_s=self._timeout)
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise DeliveryError("bad_response", "gettoken answered without access_token")
        return token, float(answer.get("expires_in", 7200))

    async def post(self, session: aiohttp.ClientSession, body: bytes) -> None:
        for refreshed in (False, True):
            token = await self._tokens.get(lambda: self._fetch_token(session))
            url = _url(self._base, self._send_path, {"access_token": token})
            try:
                await call_json(session, "POST", url, timeout_s=self._timeout, body=body)
                return
            except DeliveryError as exc:
                if exc.errcode not in TOKEN_ERRCODES or refreshed:
                    raise
                self._tokens.invalidate(token)


class WecomApp:
    name = "wecom_app"
    group = False
    max_bytes = 2048

    def __init__(
        self,
        endpoint: WecomAppEndpoint,
        timeout_s: float,
        clock: Callable[[], datetime],
        margin_s: float,
    ) -> None:
        self._endpoint = endpoint
        self._client = _TokenClient(
            base_url=endpoint.base_url,
            token_path="/cgi-bin/gettoken",
            token_query={
                "corpid": endpoint.corp_id,
                "corpsecret": endpoint.secret.get_secret_value(),
            },
            send_path="/cgi-bin/message/send",
            timeout_s=timeout_s,
            clock=clock,
            margin_s=margin_s,
        )

    def payload(self, message: AlertMessage) -> dict[str, object]:
        users = "|".join(m.wecom_userid for m in message.mentions if m.wecom_userid)
        return {
            "touser": users,
            "msgtype": "markdown",
            "agentid": self._endpoint.agent_id,
            "markdown": {"content": message.body},
        }

    async def send(self, session: aiohttp.ClientSession, message: AlertMessage) -> None:
        await self._client.post(session, _dumps(self.payload(message)))


class DingtalkNotice:
    name = "dingtalk_notice"
    group = False
    max_bytes = 5000

    def __init__(
        self,
        endpoint: DingtalkNoticeEndpoint,
        timeout_s: float,
        clock: Callable[[], datetime],
        margin_s: float,
    ) -> None:
        self._endpoint = endpoint
        self._client = _TokenClient(
            base_url=endpoint.base_url,
            token_path="/gettoken",
            token_query={
                "appkey": endpoint.app_key,
                "appsecret": endpoint.app_secret.get_secret_value(),
            },
            send_path="/topapi/message/corpconversation/asyncsend_v2",
            timeout_s=timeout_s,
            clock=clock,
            margin_s=margin_s,
        )

    def payload(self, message: AlertMessage) -> dict[str, object]:
        users = ",".join(m.dingtalk_userid for m in message.mentions if m.dingtalk_userid)
        return {
            "agent_id": self._endpoint.agent_id,
            "userid_list": users,
            "msg": {
                "msgtype": "markdown",
                "markdown": {"title": message.title, "text": message.body},
            },
        }

    async def send(self, session: aiohttp.ClientSession, message: AlertMessage) -> None:
        await self._client.post(session, _dumps(self.payload(message)))


class DingtalkRobot:
    name = "dingtalk_robot"
    group = True
    max_bytes = 20000

    def __init__(
        self, endpoint: DingtalkRobotEndpoint, timeout_s: float, wall_clock_ms: Callable[[], int]
    ) -> None:
        self._endpoint = endpoint
        self._timeout = timeout_s
        self._wall_clock_ms = wall_clock_ms

    @staticmethod
    def payload(message: AlertMessage) -> dict[str, object]:
        user_ids = [m.dingtalk_userid for m in message.mentions if m.dingtalk_userid]
        mobiles = [m.mobile for m in message.mentions if m.mobile and not m.dingtalk_userid]
        # DingTalk only highlights an @ that also appears in the markdown text.
        at_text = " ".join(f"@{who}" for who in user_ids + mobiles)
        text = f"{message.body}\n\n{at_text}" if at_text else message.body
        return {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": text},
            "at": {"atUserIds": user_ids, "atMobiles": mobiles, "isAtAll": False},
        }

    async def send(self, session: aiohttp.ClientSession, message: AlertMessage) -> None:
        # DingTalk refuses a signature whose timestamp is over an hour off its own clock, so
        # this is the real wall clock, not the service's (possibly simulated) clock.
        timestamp = self._wall_clock_ms()
        secret = self._endpoint.secret.get_secret_value()
        query = (
            f"access_token={quote(self._endpoint.access_token.get_secret_value())}"
            f"&timestamp={timestamp}&sign={dingtalk_sign(secret, timestamp)}"
        )
        url = URL(f"{self._endpoint.base_url.rstrip('/')}/robot/send?{query}", encoded=True)
        await call_json(
            session, "POST", url, timeout_s=self._timeout, body=_dumps(self.payload(message))
        )


class Webhook:
    name = "webhook"
    group = True
    max_bytes = 65536

    def __init__(
        self, endpoint: WebhookEndpoint, timeout_s: float, wall_clock_s: Callable[[], int]
    ) -> None:
        self._endpoint = endpoint
        self._timeout = timeout_s
        self._wall_clock_s = wall_clock_s

    @staticmethod
    def payload(message: AlertMessage) -> dict[str, object]:
        return {
            "title": message.title,
            "markdown": message.body,
            "mentions": [
                {
                    "rep_id": m.rep_id,
                    "name": m.name,
                    "wecom_userid": m.wecom_userid,
                    "dingtalk_userid": m.dingtalk_userid,
                    "mobile": m.mobile,
                }
                for m in message.mentions
            ],
        }

    async def send(self, session: aiohttp.ClientSession, message: AlertMessage) -> None:
        body = _dumps(self.payload(message))
        headers: dict[str, str] = {}
        if self._endpoint.secret is not None:
            timestamp = self._wall_clock_s()
            headers["X-Salesradar-Timestamp"] = str(timestamp)
            headers["X-Salesradar-Signature"] = webhook_signature(
                self._endpoint.secret.get_secret_value(), timestamp, body
            )
        await call_json(
            session, "POST", self._endpoint.url, timeout_s=self._timeout, body=body, headers=headers
        )


def make_channel(
    endpoint: Endpoint, timeout_s: float, clock: Callable[[], datetime], margin_s: float
) -> Channel:
    """The channel implementation for one configured endpoint."""
    if isinstance(endpoint, WecomRobotEndpoint):
        return WecomRobot(endpoint, timeout_s)
    if isinstance(endpoint, WecomAppEndpoint):
        return WecomApp(endpoint, timeout_s, clock, margin_s)
    if isinstance(endpoint, DingtalkRobotEndpoint):
        return DingtalkRobot(endpoint, timeout_s, lambda: int(time.time() * 1000))
    if isinstance(endpoint, DingtalkNoticeEndpoint):
        return DingtalkNotice(endpoint, timeout_s, clock, margin_s)
    return Webhook(endpoint, timeout_s, lambda: int(time.time()))
