"""How the latency engine and its timers scale with open waits (prints numbers).

Run from the repository root: python -m tests.bench.bench_latency [--waits 100000]
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pipeline.latency import (
    BusinessCalendar,
    ConversationState,
    DeadlineIndex,
    SlaPolicy,
    apply_event,
    fire_due,
    next_due,
)
from pipeline.latency.decoded import Conversation, encode_stored
from pipeline.latency.processor import LatencyProcessor
from schemas.events import CanonicalEvent

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # Tue 09:00 in Shanghai


def _events(count: int, actor: str, offset: timedelta, prefix: str) -> list[CanonicalEvent]:
    return [
        CanonicalEvent(
            event_id=f"wecom:{prefix}{n}",
            source="wecom",
            source_format="bench",
            occurred_at=T0 + offset + timedelta(seconds=n % 3600),
            kind="message",
            actor=actor,
            rep_id=f"rep{n % 50}",
            customer_id=f"wo{n}",
            customer_tier="AB"[n % 2],
            conversation_id=f"conv{n}",
            text="报价单什么时候发? 这个价格超预算了" if actor == "customer" else "",
            signals=("objection_price", "quote") if actor == "customer" else (),
        )
        for n in range(count)
    ]


def _timed(label: str, count: int, action: Callable[[], object]) -> object:
    gc.collect()
    # The bench holds every result to keep it honest; a worker does not, so the cyclic GC
    # passes over 100k held outputs are not the engine's cost.
    gc.disable()
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    gc.enable()
    print(f"{label:<58} {elapsed:8.3f} s  {elapsed / count * 1e6:8.2f} us/op")
    return result


def _open_waits(
    starts: list[CanonicalEvent], policy: SlaPolicy
) -> tuple[dict[str, ConversationState], DeadlineIndex]:
    """One open wait per conversation, indexed for its timers: the worker's live objects."""
    states: dict[str, ConversationState] = {}
    index = DeadlineIndex()
    for item in starts:
        state = apply_event(None, item, policy).state
        assert state is not None
        states[item.conversation_id] = state
        index.schedule(item.conversation_id, next_due(state))
    return states, index


def _traced(build: Callable[[], object]) -> tuple[object, int]:
    """What ``build`` returns and the bytes it holds (traced allocations still alive)."""
    gc.collect()
    before, _ = tracemalloc.get_traced_memory()
    result = build()
    gc.collect()
    after, _ = tracemalloc.get_traced_memory()
    return result, after - before


def _rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4


def _stored(state: ConversationState) -> bytes:
    """A table value, as the processor writes it."""
    return encode_stored(Conversation(0, state, {"raw/0": [[0, 0]]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--waits", type=int, default=100_000)
    waits = parser.parse_args().waits
    wall_policy = SlaPolicy(calendar=BusinessCalendar.load())
    business_policy = SlaPolicy(calendar=wall_policy.calendar, basis="business")
    starts = _events(waits, "customer", timedelta(), "c")
    bursts = _events(waits, "customer", timedelta(minutes=5), "b")
    chatter = _events(waits, "rep", timedelta(minutes=-30), "x")
    replies = _events(waits, "rep", timedelta(hours=1), "r")
    print(f"open waits: {waits}")

    # Memory: RSS of one build, then tracemalloc of another (tracemalloc inflates RSS itself).
    gc.collect()
    rss_before = _rss_kib()
    states, index = _open_waits(starts, wall_policy)
    stored = {key: _stored(state) for key, state in states.items()}
    rss_after = _rss_kib()
    tracemalloc.start()
    _, objects_bytes = _traced(lambda: _open_waits(starts, wall_policy))
    _, stored_bytes = _traced(lambda: {k: _stored(s) for k, s in states.items()})
    tracemalloc.stop()
    print(f"RSS delta, states + index + stored bytes {(rss_after - rss_before) / 1024:8.1f} MiB")
    print(
        f"states + DeadlineIndex (tracemalloc)     {objects_bytes / 2**20:8.1f} MiB"
        f"  {objects_bytes / waits:6.0f} B/wait"
    )
    print(
        f"stored values (JSON bytes, the table's)  {stored_bytes / 2**20:8.1f} MiB"
        f"  {stored_bytes / waits:6.0f} B/wait"
    )
    serialized = next(iter(stored.values()))
    print(f"one stored state serialized as JSON      {len(serialized):8d} bytes")

    print("-- engine, per event")
    _timed(
        "apply_event: customer opens a wait (wall basis)",
        waits,
        lambda: [apply_event(None, e, wall_policy) for e in starts],
    )
    _timed(
        "apply_event: customer opens a wait (business basis)",
        waits,
        lambda: [apply_event(None, e, business_policy) for e in starts],
    )
    _timed(
        "apply_event: burst message joins the open wait",
        waits,
        lambda: [apply_event(states[e.conversation_id], e, wall_policy) for e in bursts],
    )
    _timed(
        "apply_event: rep chatter, nobody waiting (no write)",
        waits,
        lambda: [apply_event(None, e, wall_policy) for e in chatter],
    )
    _timed(
        "apply_event: rep reply closes the wait (sample out)",
        waits,
        lambda: [apply_event(states[e.conversation_id], e, wall_policy) for e in replies],
    )
    _timed(
        "to_dict + from_dict (table value round trip)",
        waits,
        lambda: [ConversationState.from_dict(s.to_dict()) for s in states.values()],
    )

    print("-- timers")
    breach_time = T0 + timedelta(hours=6)  # every deadline (A 2 h, B 4 h) has passed
    due = _timed("DeadlineIndex.pop_due: all waits due", waits, lambda: index.pop_due(breach_time))
    assert len(due) == waits  # type: ignore[arg-type]
    raised = _timed(
        "fire_due over the due ones (one breach each)",
        waits,
        lambda: [fire_due(states[k], breach_time, wall_policy) for k in due],
    )
    assert sum(len(t.outputs) for t in raised) == waits  # type: ignore[union-attr]
    _timed(
        "DeadlineIndex.schedule: re-index all waits",
        waits,
        lambda: [index.schedule(k, next_due(s)) for k, s in states.items()],
    )

    print("-- processor over a store (what the worker does)")
    processor = LatencyProcessor(wall_policy, dict(stored))
    _timed(
        "full scan: rebuild timers from the stored states",
        waits,
        lambda: processor.rebuild(0),
    )
    processor.clock.observe(0, breach_time)
    outputs = _timed(
        "processor.fire: reminders+breaches of all waits",
        waits,
        lambda: processor.fire(0, breach_time, caught_up=False),
    )
    print(f"outputs raised: {len(outputs)}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
