"""A record the process agent failed on is kept as a dead letter, truncation said out loud."""

from __future__ import annotations

from types import SimpleNamespace

from agents.process import failed
from pipeline.normalize import RAW_PREFIX_BYTES


def _message(value: bytes | None) -> SimpleNamespace:
    return SimpleNamespace(topic="salesradar.raw.email", partition=2, offset=41, value=value)


def test_a_failed_record_keeps_its_bytes_reason_and_position() -> None:
    item = failed("email", _message(b'{"id": 1}'), KeyError("to"))
    assert (item.source, item.reason, item.message) == ("email", "internal_error", "KeyError: 'to'")
    assert (item.raw, item.raw_truncated) == (b'{"id": 1}', False)
    assert (item.topic, item.partition, item.offset) == ("salesradar.raw.email", 2, 41)


def test_a_huge_failed_record_is_cut_and_flagged_so_replay_keeps_it_back() -> None:
    item = failed("email", _message(b"x" * (RAW_PREFIX_BYTES + 1)), ValueError("boom"))
    assert len(item.raw) == RAW_PREFIX_BYTES and item.raw_truncated
    assert failed("email", _message(None), ValueError("empty")).raw == b""
