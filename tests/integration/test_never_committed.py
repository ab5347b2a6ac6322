"""A partition with nothing committed is read again from its start after a seek to committed
offsets (agents/offsets.py, `reread_never_committed_partitions`).

faust drops records it fetched while a rebalance is under way and relies on the seek to
committed offsets that follows to read them again. aiokafka seeks only committed offsets
above 0, so a never-committed partition kept its position past the dropped records: the
hand-over fault test lost the first record of such a partition. Here the records are read,
nothing is committed, and faust's seek to committed offsets runs as after a rebalance: with
the correction every record comes again; without it (the second test pins the library
behaviour the correction exists for) none does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import faust
import pytest
from aiokafka import AIOKafkaProducer

from agents.offsets import reread_never_committed_partitions
from pipeline.embedded_broker import EmbeddedBroker, scratch_faust_app

pytestmark = pytest.mark.integration

TOPIC = "never-committed"
RECORDS = 3


async def _offsets_read_after_a_seek(
    broker: EmbeddedBroker, datadir: Path, *, corrected: bool
) -> list[int]:
    """Offsets an agent reads: the records once, then whatever a seek to committed brings."""
    # nothing is committed while the test runs
    app = scratch_faust_app("never-committed", broker.url, datadir, broker_commit_interval=3600)
    if corrected:
        reread_never_committed_partitions(app)
    read: list[int] = []

    @app.agent(app.topic(TOPIC, value_serializer="raw", partitions=1), name="read")
    async def reader(stream: faust.StreamT) -> None:
        async for event in stream.events():
            read.append(event.message.offset)

    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await producer.start()
    await app.start()
    try:
        for number in range(RECORDS):
            await producer.send_and_wait(TOPIC, b"r%d" % number, partition=0)
        await _until(lambda: len(read) >= RECORDS, "the first read")
        await app.consumer.perform_seek()  # what faust does when a rebalance completes
        await _until(lambda: len(read) >= 2 * RECORDS, "a second read", timeout_s=8.0, fail=False)
    finally:
        await producer.stop()
        await app.stop()
    return read


async def _until(
    condition: Callable[[], bool], what: str, timeout_s: float = 60.0, fail: bool = True
) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            if fail:
                raise TimeoutError(f"waited {timeout_s}s for {what}")
            return
        await asyncio.sleep(0.05)


def test_a_never_committed_partition_is_read_again_from_its_start(tmp_path: Path) -> None:
    with EmbeddedBroker(log_path=tmp_path / "broker.log") as broker:
        read = asyncio.run(_offsets_read_after_a_seek(broker, tmp_path, corrected=True))
    assert read == [0, 1, 2, 0, 1, 2]


def test_without_the_correction_a_seek_to_committed_leaves_the_position_past_them(
    tmp_path: Path,
) -> None:
    with EmbeddedBroker(log_path=tmp_path / "broker.log") as broker:
        read = asyncio.run(_offsets_read_after_a_seek(broker, tmp_path, corrected=False))
    assert read == [0, 1, 2]
