"""Natural-key dedup of sink rows: what a crash-and-retry or a re-delivery must not double."""

from __future__ import annotations

from pipeline.sink.dedup import NATURAL_KEYS, fresh_rows


def _store(*keys: tuple) -> object:
    calls: list[tuple] = []

    def existing(table, key, lookups):
        calls.append((table, key.lookup, tuple(lookups)))
        return keys

    existing.calls = calls  # type: ignore[attr-defined]
    return existing


def test_rows_already_stored_or_repeated_in_the_batch_are_dropped() -> None:
    existing = _store(("e1",))
    rows = [{"event_id": "e1"}, {"event_id": "e2"}, {"event_id": "e2"}, {"event_id": "e3"}]
    assert fresh_rows("events", rows, existing) == [{"event_id": "e2"}, {"event_id": "e3"}]
    assert existing.calls == [("events", "event_id", ("e1", "e2", "e3"))]


def test_signals_are_keyed_by_event_and_signal() -> None:
    existing = _store(("e1", "quote"))
    rows = [{"event_id": "e1", "signal": "quote"}, {"event_id": "e1", "signal": "demo"}]
    assert fresh_rows("signals", rows, existing) == [{"event_id": "e1", "signal": "demo"}]


def test_an_open_and_a_closed_breach_row_are_different_facts() -> None:
    existing = _store(("b1", "open"))
    rows = [{"breach_id": "b1", "status": "open"}, {"breach_id": "b1", "status": "closed"}]
    assert fresh_rows("breaches", rows, existing) == [{"breach_id": "b1", "status": "closed"}]


def test_dead_letters_are_keyed_by_raw_position_reason_and_message() -> None:
    existing = _store(("raw.wecom", 0, 7, "invalid_json", "line 1"))
    rows = [
        {"topic": "raw.wecom", "partition": 0, "offset": 7, "reason": "invalid_json"},
        {"topic": "raw.wecom", "partition": 1, "offset": 7, "reason": "invalid_json"},
    ]
    rows = [{**row, "message": "line 1"} for row in rows]
    assert fresh_rows("dead_letters", rows, existing) == rows[1:]


def test_unreadable_states_of_one_changelog_partition_are_each_kept() -> None:
    """They have no offset (-1): only the conversation their message names tells them apart."""
    existing = _store()
    rows = [
        {
            "topic": "changelog",
            "partition": 2,
            "offset": -1,
            "reason": "state_unreadable",
            "message": f"conversation {name}: JSONDecodeError",
        }
        for name in ("c1", "c2", "c1")
    ]
    assert fresh_rows("dead_letters", rows, existing) == rows[:2]


def test_tables_without_a_natural_key_pass_through_untouched() -> None:
    def never(*_):
        raise AssertionError("no lookup for a table without a natural key")

    rows = [{"alert_id": "a1"}, {"alert_id": "a1"}]
    assert "alerts" not in NATURAL_KEYS
    assert fresh_rows("alerts", rows, never) == rows


def test_lookup_literals_are_escaped() -> None:
    from pipeline.clickhouse.sql_text import literal

    assert literal(7) == "7"
    assert literal("wecom:o'brien\\x") == "'wecom:o\\'brien\\\\x'"
