"""Request signatures: DingTalk robot signed mode and the generic webhook's HMAC header."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's `sign` query value: urlencode(base64(HMAC-SHA256(secret, f"{ts}\\n{secret}")))."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def webhook_signature(secret: str, timestamp_s: int, body: bytes) -> str:
    """`sha256=<hex>` over `<timestamp>.<body>`, so a receiver can also refuse replays."""
    mac = hmac.new(secret.encode("utf-8"), str(timestamp_s).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()
