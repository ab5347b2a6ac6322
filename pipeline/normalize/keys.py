"""The Kafka key a raw record is produced with: its conversation, so order within it holds.

The latency clock needs a customer's message before the reply to it. Records of one
conversation share a raw partition (and so keep their order) when they share a key.
"""

from __future__ import annotations

import hashlib

from pipeline.normalize.context import NormalizeContext
from schemas.events import CanonicalEvent


def raw_partition_key(source: str, raw: bytes, ctx: NormalizeContext) -> bytes:
    """The first event's conversation id; a record that does not normalize keys on its bytes."""
    from pipeline.normalize import normalize_record

    for item in normalize_record(source, raw, ctx):
        if isinstance(item, CanonicalEvent):
            return item.conversation_id.encode()
    return hashlib.blake2b(raw, digest_size=8).hexdigest().encode()
