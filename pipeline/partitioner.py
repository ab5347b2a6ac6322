"""Kafka's default partitioner, with each key's hash remembered.

aiokafka hashes every produced key in pure Python (murmur2, about 20 us for a conversation
id), and a conversation's key is produced again and again: its events, its latency outputs,
its table changelog. The choice is the one aiokafka's ``DefaultPartitioner`` and the Java
client make, so records land where they always did.
"""

from __future__ import annotations

from functools import lru_cache

from aiokafka.partitioner import DefaultPartitioner, murmur2

#: Distinct keys whose hash is kept (about 150 bytes each).
KEYS_KEPT = 100_000


@lru_cache(maxsize=KEYS_KEPT)
def key_hash(key: bytes) -> int:
    """The non-negative murmur2 hash the default partitioner takes modulo the partition count."""
    return murmur2(key) & 0x7FFFFFFF


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for ``key`` among ``partitions``."""
    return key_hash(key) % partitions


class RememberingPartitioner:
    """A drop-in for aiokafka's ``DefaultPartitioner`` (faust's ``producer_partitioner``)."""

    def __init__(self) -> None:
        self._unkeyed = DefaultPartitioner()

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:  # spread at random, as the default does
            return int(self._unkeyed(key, all_partitions, available))
        return all_partitions[key_hash(key) % len(all_partitions)]
