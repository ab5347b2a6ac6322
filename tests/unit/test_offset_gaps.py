"""The worker never commits past offsets it did not process (agents/offsets.py).

faust treats a jump in delivered offsets as a gap to fill (as if acked). Across a rebalance such
a jump only means records were dropped and will be read again; filling it committed past them.
"""

from __future__ import annotations

import asyncio

import faust
from faust.types import TP

from agents.offsets import keep_offset_gaps_uncommitted

RAW = TP("salesradar.raw.wecom", 0)


def offset_to_commit(patched: bool) -> int | None:
    """Committed up to 10; 11 and 12 skipped by the fetch; 13 and 14 processed and acked."""

    async def main() -> int | None:
        app = faust.App("gap-test", broker="kafka://127.0.0.1:1", web_enabled=False)
        if patched:
            keep_offset_gaps_uncommitted(app)
        consumer = app.consumer
        consumer._committed_offset[RAW] = 10
        await consumer._add_gap(RAW, 11, 12)
        consumer._acked[RAW].extend([13, 14])
        return consumer._new_offset(RAW)

    return asyncio.run(main())


def test_faust_alone_would_commit_past_the_skipped_offsets() -> None:
    """What the patch is for; fails if faust stops filling gaps (then drop the patch)."""
    assert offset_to_commit(patched=False) == 15


def test_skipped_offsets_hold_the_commit_back() -> None:
    assert offset_to_commit(patched=True) is None
