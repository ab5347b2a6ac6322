"""The offset after a partition's last record, for a broker that reports less.

The embedded broker answers an end-offset request with the base offset of the partition's last
record batch plus one, not the offset after its last record: after a batch at offsets 1-5 it
reports 2 (tests/integration/test_embedded_broker_offsets.py pins it). faust's table recovery
reads a changelog partition up to that end, so a worker taking a partition over missed the last
batch's writes and resumed from a stale state. Reading from the reported end's last offset
returns that whole batch, and its last record gives the true end.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition

Partition = TypeVar("Partition", bound=Hashable)


async def last_record_ends(
    bootstrap_servers: str,
    reported: Mapping[Partition, int | None],
    timeout_s: float = 5.0,
) -> dict[Partition, int | None]:
    """``reported`` (partitions, each a (topic, partition) tuple, to the end offset the broker
    reported) with each end moved past the last record actually stored. A partition whose last
    batch cannot be read within ``timeout_s`` keeps its reported end."""
    ends = dict(reported)
    wanted = {
        TopicPartition(*partition): partition  # type: ignore[misc]
        for partition, end in reported.items()
        if end is not None and end > 0
    }
    if not wanted:
        return ends
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(wanted))
        for tp, partition in wanted.items():
            consumer.seek(tp, int(reported[partition]) - 1)  # type: ignore[arg-type]
        unread = set(wanted)
        deadline = time.monotonic() + timeout_s
        while unread and time.monotonic() < deadline:
            fetched = await consumer.getmany(*unread, timeout_ms=200)
            for tp, records in fetched.items():
                if records:
                    partition = wanted[tp]
                    ends[partition] = max(int(ends[partition] or 0), records[-1].offset + 1)
                    unread.discard(tp)
    finally:
        await consumer.stop()
    return ends
