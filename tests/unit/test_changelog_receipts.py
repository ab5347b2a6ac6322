"""A batch is acked only once its table writes are on the broker (agents/process.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agents.process import ChangelogReceipts


class Table:
    """Stands in for a faust table: each changelog send returns the future of its delivery."""

    def __init__(self) -> None:
        self.sent: list[asyncio.Future[Any]] = []

    def send_changelog(self, partition: int | None, key: bytes, value: Any) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.sent.append(future)
        return future


def test_waits_for_every_write_sent_since_the_last_wait() -> None:
    async def main() -> None:
        table = Table()
        receipts = ChangelogReceipts(table)
        table.send_changelog(None, b"c1", {"s": 1})
        table.send_changelog(None, b"c2", {"s": 2})
        waiting = asyncio.ensure_future(receipts.wait())
        table.sent[0].set_result("ack")
        await asyncio.sleep(0)
        assert not waiting.done()  # c2 is still only in the producer's buffer
        table.sent[1].set_result("ack")
        await asyncio.wait_for(waiting, 1)
        await asyncio.wait_for(receipts.wait(), 1)  # nothing new: returns at once

    asyncio.run(main())


def test_a_failed_write_fails_the_batch() -> None:
    async def main() -> None:
        table = Table()
        receipts = ChangelogReceipts(table)
        table.send_changelog(None, b"c1", {"s": 1})
        table.sent[0].set_exception(ConnectionError("broker gone"))
        await receipts.wait()

    with pytest.raises(ConnectionError):  # a lost state write must not let the batch be acked
        asyncio.run(main())
