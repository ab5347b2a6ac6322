"""What normalize needs besides the raw bytes: identity, limits, the clock, webhook keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline.identity import Directory


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class NormalizeContext:
    directory: Directory = field(default_factory=Directory)
    tenant: str = "default"
    max_text_chars: int = 20000  # longer text is truncated and flagged text_truncated
    max_raw_bytes: int = 4_000_000  # bigger raw records are refused as too_large
    now: Callable[[], datetime] = _utc_now  # plausibility: before 2000 or > now+1 day refused
    mailgun_signing_key: str | None = None  # when set, Mailgun bodies must verify
