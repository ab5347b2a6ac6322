"""Sending a batch's outputs as Kafka record batches, one per topic-partition.

aiokafka's per-record ``send`` waits on metadata, calls the partitioner and creates a future
for every record. The process agent sends all of a batch's outputs and waits for all of
them anyway, so they are appended to record batches per topic-partition, and each record
batch is awaited once. Records keep their order within a partition (all Kafka orders) and
land on the partition the producer's partitioner picks for their key, as with ``send``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

#: topic, key, value, headers: every record the pipeline produces has a key.
Record = tuple[str, bytes, bytes, list[tuple[str, bytes]] | None]
Partitioner = Callable[[bytes, list[int], list[int]], int]


def by_partition(
    records: Sequence[Record], partitions: dict[str, list[int]], partitioner: Partitioner
) -> dict[tuple[str, int], list[Record]]:
    """The records grouped by the topic-partition their key goes to, each group in order."""
    grouped: dict[tuple[str, int], list[Record]] = {}
    for record in records:
        every = partitions[record[0]]
        grouped.setdefault((record[0], partitioner(record[1], every, every)), []).append(record)
    return grouped


async def send_all(producer: Any, partitioner: Partitioner, records: Sequence[Record]) -> None:
    """Send ``records`` through an aiokafka producer; returns once the broker has them all."""
    partitions = {
        topic: sorted(await producer.partitions_for(topic)) for topic in {r[0] for r in records}
    }
    sent = []
    for (topic, partition), group in by_partition(records, partitions, partitioner).items():
        batch = producer.create_batch()
        for _, key, value, headers in group:
            if batch.append(key=key, value=value, timestamp=None, headers=headers or []) is None:
                sent.append(await _submit(producer, batch, topic, partition))
                batch = producer.create_batch()  # full: a new batch always takes one record
                batch.append(key=key, value=value, timestamp=None, headers=headers or [])
        sent.append(await _submit(producer, batch, topic, partition))
    await asyncio.gather(*sent)


async def _submit(producer: Any, batch: Any, topic: str, partition: int) -> Any:
    """Closed first: an open batch would also take records other code sends to its partition."""
    batch.close()
    return await producer.send_batch(batch, topic, partition=partition)
