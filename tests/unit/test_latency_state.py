"""Stored conversation state: JSON-safe, exact round trip, clear errors on a bad value."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.latency.state import RECENT_IDS_KEPT, ConversationState, Wait

instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
optional_instants = st.none() | instants
texts = st.text(max_size=30)
signals = st.lists(st.sampled_from(["quote", "demo", "objection_price"]), max_size=3).map(tuple)

waits = st.builds(
    Wait,
    kind=st.sampled_from(["first_reply", "lead_assignment", "lead_first_response"]),
    source=st.sampled_from(["wecom", "dingtalk", "crm", "email"]),
    start_event_id=texts,
    started_at=instants,
    customer_id=texts,
    customer_tier=st.sampled_from(["A", "B", "C", ""]),
    owner_rep_id=texts,
    sla_s=st.floats(min_value=0, max_value=1e7, allow_nan=False),
    deadline=optional_instants,
    reminder_at=optional_instants,
    start_signals=signals,
    last_customer_at=instants,
    last_customer_signals=signals,
    last_customer_text=texts,
    last_customer_event_id=texts,
    reminded=st.booleans(),
    breach_detected_at=optional_instants,
)

states = st.builds(
    ConversationState,
    tenant=texts,
    conversation_id=texts,
    waits=st.lists(waits, max_size=2),
    answered_until=optional_instants,
    recent_event_ids=st.lists(texts, max_size=RECENT_IDS_KEPT),
)

JSON_TYPES = (str, int, float, bool, list, dict)


def _only_json_types(value: object) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _only_json_types(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_only_json_types(v) for v in value)
    return isinstance(value, JSON_TYPES)


@given(states)
def test_round_trip_through_json_is_exact(state: ConversationState) -> None:
    stored = state.to_dict()
    assert _only_json_types(stored)
    assert ConversationState.from_dict(json.loads(json.dumps(stored))) == state


@given(states)
def test_copy_is_equal_and_independent(state: ConversationState) -> None:
    before = state.to_dict()
    clone = state.copy()
    assert clone == state
    for wait in clone.waits:
        wait.reminded = not wait.reminded
    clone.waits.clear()
    clone.recent_event_ids.append("new")
    assert state.to_dict() == before


def test_remember_keeps_the_newest_ids_without_repeats() -> None:
    state = ConversationState(tenant="t", conversation_id="c")
    for number in range(RECENT_IDS_KEPT + 3):
        state.remember(f"id{number}")
    state.remember("id4", "id5")
    assert state.recent_event_ids[-2:] == ["id4", "id5"]
    assert len(state.recent_event_ids) == RECENT_IDS_KEPT
    assert len(set(state.recent_event_ids)) == RECENT_IDS_KEPT


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"v": 99, "tenant": "t", "conversation_id": "c", "waits": [], "recent_event_ids": []},
        {"v": 1, "tenant": "t", "waits": [], "recent_event_ids": []},
        {
            "v": 1,
            "tenant": "t",
            "conversation_id": "c",
            "waits": [{"kind": "x"}],
            "recent_event_ids": [],
        },
        {"v": 1, "tenant": "t", "conversation_id": "c", "waits": None, "recent_event_ids": []},
    ],
)
def test_malformed_state_is_a_clear_value_error(bad: dict) -> None:
    with pytest.raises(ValueError, match="state"):
        ConversationState.from_dict(bad)


def test_state_stored_before_the_newest_message_id_was_kept_still_loads() -> None:
    wait = Wait(
        kind="first_reply",
        source="wecom",
        start_event_id="wecom:first",
        started_at=datetime(2026, 11, 24, 2, tzinfo=UTC),
        customer_id="wo1",
        customer_tier="A",
        owner_rep_id="r1",
        sla_s=7200.0,
        deadline=None,
        reminder_at=None,
        start_signals=(),
        last_customer_at=datetime(2026, 11, 24, 2, tzinfo=UTC),
        last_customer_signals=(),
        last_customer_text="",
        last_customer_event_id="wecom:first",
    )
    stored = ConversationState(tenant="t", conversation_id="c", waits=[wait]).to_dict()
    del stored["waits"][0]["last_customer_event_id"]
    assert ConversationState.from_dict(stored).waits == [wait]
