"""The fixed set of dead-letter reason codes, and the exception adapters raise to reach one."""

from __future__ import annotations

from dataclasses import dataclass

#: Every reason a raw record can be refused for. Dashboards group the DLQ by these codes.
REASONS: dict[str, str] = {
    "empty": "the record has no content (empty, whitespace, empty array)",
    "too_large": "the raw record is bigger than max_raw_bytes; a 64 KiB prefix is kept",
    "invalid_utf8": "the bytes are not valid UTF-8",
    "invalid_json": "the record is not valid JSON (truncated, garbage, bad escapes)",
    "invalid_xml": "the XML callback body does not parse",
    "xml_forbidden": "the XML declares a DOCTYPE or entity; refused without expanding it",
    "too_deep": "JSON nested deeper than the allowed depth",
    "unknown_shape": "valid JSON/XML but not a payload shape this source family sends",
    "unknown_source": "the source name is not wecom, dingtalk, crm or email",
    "missing_field": "a field the shape requires (id, timestamp...) is absent or empty",
    "wrong_type": "a field has the wrong type (object for a string, huge integer...)",
    "bad_timestamp": "a timestamp that cannot be read as an instant",
    "implausible_timestamp": "an instant before 2000-01-01 or more than a day in the future",
    "signature": "the webhook signature does not verify against the configured key",
    "internal_error": "the adapter failed unexpectedly; the record is kept for replay",
}


class Reject(Exception):
    """Raised inside adapters; normalize_record turns it into a Rejection value."""

    def __init__(self, reason: str, message: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown reason code {reason!r}")
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class PartReject:
    """One bad element of a batch (a SendGrid array): the good elements still become events."""

    reason: str
    message: str
    raw: bytes
