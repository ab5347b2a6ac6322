"""The processor's decoded states: reused for the value they came from, never for another."""

from __future__ import annotations

import orjson

from pipeline.latency.decoded import (
    Conversation,
    DecodedStates,
    decode_stored,
    encode_stored,
    stored_partition,
)
from pipeline.latency.processor import LatencyProcessor
from pipeline.latency.state import ConversationState
from schemas.latency import LatencySample
from tests.unit.test_latency_timers import POLICY, message, minutes


def stored_state(conversation: str, partition: int = 0) -> bytes:
    state = ConversationState(tenant="t", conversation_id=conversation)
    return encode_stored(Conversation(partition, state, {}))


def test_a_stored_conversation_round_trips_through_its_bytes() -> None:
    processor = LatencyProcessor(POLICY, store := {})
    processor.process(message("customer", minutes(0), "round"), 3, position=("raw/3", 7, 0))
    processor.commit()
    partition, state, applied = decode_stored(store["round"])
    assert (partition, applied) == (3, {"raw/3": [[7, 0]]})
    assert state.waits and encode_stored(Conversation(partition, state, applied)) == store["round"]
    assert stored_partition(store["round"]) == 3


def test_a_stored_value_is_decoded_once_and_a_new_value_again() -> None:
    decoded = DecodedStates()
    stored = stored_state("c")
    first = decoded.conversation("c", stored)
    assert decoded.conversation("c", stored) is first
    replaced = stored_state("c")  # equal content, but the store now holds another value
    assert replaced == stored and replaced is not stored
    assert decoded.conversation("c", replaced) is not first


def test_forget_drops_only_the_revoked_partition() -> None:
    decoded = DecodedStates()
    decoded.conversation("a", stored_state("a", partition=1))
    decoded.conversation("b", stored_state("b", partition=2))
    decoded.forget(1)
    assert len(decoded) == 1


def test_discard_drops_a_deleted_key() -> None:
    decoded = DecodedStates()
    decoded.conversation("a", stored_state("a", partition=1))
    decoded.conversation("b", stored_state("b", partition=1))
    decoded.discard("a")
    assert len(decoded) == 1


def test_the_oldest_entries_go_past_the_limit() -> None:
    decoded = DecodedStates(kept=2)
    values = {key: stored_state(key) for key in "abc"}
    states = {key: decoded.conversation(key, value) for key, value in values.items()}
    assert len(decoded) == 2
    assert decoded.conversation("c", values["c"]) is states["c"]
    assert decoded.conversation("a", values["a"]) is not states["a"]


def test_a_state_replaced_in_the_store_is_read_from_the_store() -> None:
    """A changelog recovery puts new values in the table: the processor must act on them."""
    store: dict[str, bytes] = {}
    processor = LatencyProcessor(POLICY, store)
    processor.process(message("customer", minutes(0), "moved-away"), 0)
    processor.commit()
    answered = orjson.loads(store["moved-away"])
    answered["s"]["waits"] = []  # another worker answered the wait meanwhile
    store["moved-away"] = orjson.dumps(answered)
    reply = processor.process(message("rep", minutes(10), "moved-away"), 0)
    assert not any(isinstance(output, LatencySample) for output in reply)


def test_a_committed_state_is_not_changed_by_later_events() -> None:
    store: dict[str, bytes] = {}
    processor = LatencyProcessor(POLICY, store)
    processor.process(message("customer", minutes(0), "kept"), 0)
    processor.commit()
    before = store["kept"]
    processor.process(message("rep", minutes(10), "kept"), 0)
    assert store["kept"] is before  # the reply waits for the next commit
    processor.commit()
    assert "kept" not in store or decode_stored(store["kept"]).state.waits == []
