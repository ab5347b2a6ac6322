"""Drop rows ClickHouse already holds, by each table's natural key, before a batch is inserted.

Insert dedup tokens cover a batch retried with the same offsets. They cannot cover the same
fact arriving at another offset: a raw record normalized twice around a worker crash (its
offset not yet committed), a DLQ record for it written twice, a latency output re-emitted.
Every raw table has a natural key (event_id, sample_id, ...); a row whose key is stored
already is dropped here, so neither the table nor any rollup fed by its materialized views
counts it twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Row = Mapping[str, Any]


@dataclass(frozen=True)
class NaturalKey:
    """``lookup`` is an indexed column to narrow the search; ``columns`` make the key."""

    lookup: str
    columns: tuple[str, ...]

    def of(self, row: Row) -> tuple[Any, ...]:
        return tuple(row[column] for column in self.columns)


NATURAL_KEYS: dict[str, NaturalKey] = {
    "events": NaturalKey("event_id", ("event_id",)),
    "signals": NaturalKey("event_id", ("event_id", "signal")),
    "latency_samples": NaturalKey("sample_id", ("sample_id",)),
    "breaches": NaturalKey("breach_id", ("breach_id", "status")),
    # the message too: dead letters that are not raw records share a position (an unreadable
    # stored state has none, offset -1) and differ by what they name
    "dead_letters": NaturalKey("offset", ("topic", "partition", "offset", "reason", "message")),
}

#: Looks up which keys a table already holds: (table, key, lookup values) -> stored key rows.
ExistingKeys = Callable[[str, NaturalKey, Sequence[Any]], Iterable[tuple[Any, ...]]]


def fresh_rows(table: str, rows: Sequence[Row], existing: ExistingKeys) -> list[Row]:
    """The rows of ``table`` whose natural key is neither stored nor repeated in ``rows``."""
    key = NATURAL_KEYS.get(table)
    if key is None or not rows:
        return list(rows)
    lookups = sorted({row[key.lookup] for row in rows})
    seen = set(existing(table, key, lookups))
    kept = []
    for row in rows:
        identity = key.of(row)
        if identity not in seen:
            seen.add(identity)
            kept.append(row)
    return kept
