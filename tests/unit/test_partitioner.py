"""The remembering partitioner picks what aiokafka's default partitioner picks."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner

from pipeline.partitioner import RememberingPartitioner, partition_for

KEYS = [b"", b"a", b"wecom:wmAbc|zhangsan", "wecom:群聊-报价".encode(), bytes(range(256))]


def test_every_key_lands_where_the_default_partitioner_puts_it() -> None:
    default, remembering = DefaultPartitioner(), RememberingPartitioner()
    for partitions in (1, 4, 12, 7):
        every = list(range(partitions))
        for key in KEYS * 2:  # the second round is served from the remembered hashes
            expected = default(key, every, every)
            assert remembering(key, every, every) == expected
            assert partition_for(key, partitions) == expected


def test_an_unkeyed_record_goes_to_an_available_partition() -> None:
    assert RememberingPartitioner()(None, [0, 1, 2, 3], [2]) == 2
