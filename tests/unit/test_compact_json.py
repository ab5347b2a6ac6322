"""dumps_kept: the same bytes as orjson, in an object of their own."""

from __future__ import annotations

import orjson

from pipeline.compact_json import dumps_kept


def test_the_bytes_are_orjsons() -> None:
    value = {"p": 3, "s": {"text": "价格超预算了 😅", "at": 1_795_993_728_359_000}, "a": [[1, 0]]}
    kept = dumps_kept(value)
    assert type(kept) is bytes
    assert kept == orjson.dumps(value)
    assert orjson.loads(kept) == value
