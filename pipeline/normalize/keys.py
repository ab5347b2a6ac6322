"""How a finite input (a file, a replay) is produced: keyed by conversation, in event-time order.

The latency clock needs a customer's message before the reply to it, and deadlines run on each
partition's event time: records of one conversation must share a raw partition (same key), and
a partition must not jump ahead in time, or a wait would breach before its reply is read.
Exports are rarely sorted, so a finite input is sorted by event time before it is produced.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from pipeline.normalize.context import NormalizeContext
from schemas.events import CanonicalEvent


def keyed_in_event_order(
    source: str, records: Iterable[bytes], ctx: NormalizeContext
) -> list[tuple[bytes, bytes]]:
    """(key, raw) pairs sorted by the first event's time; unreadable records keep their place
    relative to each other at the front (they become dead letters either way)."""
    from pipeline.normalize import normalize_record

    placed: list[tuple[datetime | None, int, bytes, bytes]] = []
    for position, raw in enumerate(records):
        first = next(
            (e for e in normalize_record(source, raw, ctx) if isinstance(e, CanonicalEvent)), None
        )
        if first is None:
            key = hashlib.blake2b(raw, digest_size=8).hexdigest().encode()
            placed.append((None, position, key, raw))
        else:
            placed.append((first.occurred_at, position, first.conversation_id.encode(), raw))
    placed.sort(key=lambda item: (item[0] is not None, item[0] or datetime.min, item[1]))
    return [(key, raw) for _, _, key, raw in placed]
