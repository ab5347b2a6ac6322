"""Record batches per topic-partition: every record once, in order, on its key's partition."""

from __future__ import annotations

import asyncio

from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatch

from agents.delivery import Record, by_partition, send_all
from pipeline.partitioner import RememberingPartitioner, partition_for

PARTITIONS = 4


class FakeProducer:
    """aiokafka's batch calls, with small real record batches; remembers what was sent."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.sent: list[tuple[str, int, list[tuple[bytes, bytes, list]]]] = []

    async def partitions_for(self, topic: str) -> set[int]:
        return set(range(PARTITIONS))

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(self.batch_size, 0)

    async def send_batch(self, batch: BatchBuilder, topic: str, *, partition: int) -> object:
        assert batch.append(key=b"late", value=b"", timestamp=None) is None  # closed
        records = [
            (r.key, r.value, [(k, v) for k, v in r.headers])
            for r in DefaultRecordBatch(bytes(batch._build()))
        ]
        self.sent.append((topic, partition, records))
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def records(count: int) -> list[Record]:
    out: list[Record] = []
    for n in range(count):
        topic = ("events", "latency")[n % 2]
        headers = [("salesradar-input", b"raw/1")] if n % 3 == 0 else None
        out.append((topic, f"conv-{n % 7}".encode(), f"value-{n}".encode() * 5, headers))
    return out


def test_records_are_grouped_on_their_keys_partition_in_order() -> None:
    every = list(range(PARTITIONS))
    grouped = by_partition(
        records(40), {"events": every, "latency": every}, RememberingPartitioner()
    )
    assert sum(len(group) for group in grouped.values()) == 40
    for (topic, partition), group in grouped.items():
        assert all(r[0] == topic and partition_for(r[1], PARTITIONS) == partition for r in group)
        assert group == [r for r in records(40) if r in group]


def test_send_all_sends_every_record_once_splitting_full_batches() -> None:
    producer = FakeProducer(batch_size=300)  # a few records per batch
    wanted = records(60)
    asyncio.run(send_all(producer, RememberingPartitioner(), wanted))
    assert len(producer.sent) > len({(topic, p) for topic, p, _ in producer.sent})  # split
    received: dict[tuple[str, int], list[tuple[bytes, bytes, list]]] = {}
    for topic, partition, batch in producer.sent:
        received.setdefault((topic, partition), []).extend(batch)
    expected: dict[tuple[str, int], list[tuple[bytes, bytes, list]]] = {}
    for topic, key, value, headers in wanted:
        where = (topic, partition_for(key, PARTITIONS))
        expected.setdefault(where, []).append((key, value, headers or []))
    assert received == expected
