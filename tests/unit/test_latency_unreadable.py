"""A stored conversation this version cannot read never stops the processor.

Raising on it would crash the deadline timer and every restart's timer rebuild: a crash loop.
It is read as absent (the conversation starts afresh), reported once for a dead letter, and
deleted by the next commit.
"""

from __future__ import annotations

import orjson
import pytest

from pipeline.latency.decoded import UnreadableState, decode_stored, stored_partition
from pipeline.latency.processor import LatencyProcessor
from schemas.latency import Breach
from tests.unit.test_latency_timers import POLICY, message, minutes

CORRUPT = b'{"p": 0, "s": {"v": 1, "tenant'


def _stored_by(processor: LatencyProcessor, store: dict[str, bytes], conversation: str) -> bytes:
    processor.process(message("customer", minutes(0), conversation), 0)
    processor.commit()
    return store[conversation]


def _from_a_newer_version(stored: bytes) -> bytes:
    value = orjson.loads(stored)
    value["s"]["v"] = 99
    return orjson.dumps(value)


UNREADABLE = [b"", b"\xff\xfe", CORRUPT, b"[1, 2]", b'{"p": "x"}']


@pytest.mark.parametrize("stored", [*UNREADABLE, b'{"p": 0, "s": {}, "a": {}}'])
def test_decoding_an_unreadable_value_raises_one_error_type(stored: bytes) -> None:
    with pytest.raises(UnreadableState):
        decode_stored(stored)


@pytest.mark.parametrize("stored", UNREADABLE)
def test_the_partition_of_an_unreadable_value_raises_the_same_error(stored: bytes) -> None:
    with pytest.raises(UnreadableState):
        stored_partition(stored)


def test_a_new_event_on_an_unreadable_conversation_starts_it_afresh_and_reports_it() -> None:
    store: dict[str, bytes] = {"broken": CORRUPT}
    processor = LatencyProcessor(POLICY, store)
    processor.process(message("customer", minutes(0), "broken"), 0)
    processor.process(message("customer", minutes(1), "broken"), 0)  # read twice, reported once
    (found,) = processor.take_unreadable()
    assert (found.key, found.stored) == ("broken", CORRUPT)
    assert "JSONDecodeError" in found.error
    processor.commit()
    assert len(decode_stored(store["broken"]).state.waits) == 1
    raised = processor.fire(0, minutes(121), caught_up=True)
    assert [o.conversation_id for o in raised if isinstance(o, Breach)] == ["broken"]
    assert processor.take_unreadable() == []


def test_a_state_from_a_newer_version_is_reported_and_deleted_at_the_next_commit() -> None:
    store: dict[str, bytes] = {}
    writer = LatencyProcessor(POLICY, store)
    newer = _from_a_newer_version(_stored_by(writer, store, "upgraded"))
    store["upgraded"] = newer
    _stored_by(writer, store, "fine")
    reader = LatencyProcessor(POLICY, store)  # a rolled-back worker after a restart
    assert reader.rebuild(0) == 1  # the readable wait only
    assert reader.has_unreadable
    (found,) = reader.take_unreadable()
    assert found.key == "upgraded" and "unsupported state version 99" in found.error
    assert found.stored == newer
    assert reader.rebuild(0) == 1 and not reader.has_unreadable  # pending delete: not again
    reader.commit()
    assert "upgraded" not in store and "fine" in store
    raised = reader.fire(0, minutes(121), caught_up=True)
    assert [o.conversation_id for o in raised if isinstance(o, Breach)] == ["fine"]


def test_the_deadline_timer_survives_a_value_corrupted_after_its_timer_was_set() -> None:
    store: dict[str, bytes] = {}
    processor = LatencyProcessor(POLICY, store)
    _stored_by(processor, store, "spoiled")
    _stored_by(processor, store, "fine")
    store["spoiled"] = b"not json"  # a new object: the decoded cache does not hide it
    raised = processor.fire(0, minutes(121), caught_up=True)
    assert [o.conversation_id for o in raised if isinstance(o, Breach)] == ["fine"]
    assert [item.key for item in processor.take_unreadable()] == ["spoiled"]


def test_a_revoked_partition_leaves_no_unreadable_value_to_delete() -> None:
    """After a rebalance the value may belong to another worker: never delete it from here."""
    store: dict[str, bytes] = {"moved": CORRUPT}
    processor = LatencyProcessor(POLICY, store)
    processor.rebuild(0)
    assert processor.has_unreadable
    processor.revoke(0)
    assert processor.take_unreadable() == []
    processor.commit()
    assert store == {"moved": CORRUPT}
    processor.rebuild(1)  # still here after the rebalance: found again
    assert [item.key for item in processor.take_unreadable()] == ["moved"]
