"""Bytes on the pipeline's own topics: orjson of the pydantic models (faster than faust codecs)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel

from schemas.events import Rejection


def encode_model(model: BaseModel) -> bytes:
    """pydantic's own JSON: the same bytes as orjson of ``model_dump(mode="json")``, at less
    than half the cost (no intermediate dict)."""
    return model.__pydantic_serializer__.to_json(model)


def encode_tagged(kind: str, model: BaseModel) -> bytes:
    """Latency-topic records carry their type so the sink and alerts know what they hold."""
    return b'{"type":' + orjson.dumps(kind) + b',"data":' + encode_model(model) + b"}"


def encode_rejection(rejection: Rejection) -> bytes:
    """The raw bytes travel base64-encoded, so a replay gets exactly what arrived."""
    record: dict[str, Any] = rejection.model_dump(mode="json", exclude={"raw"})
    record["raw_b64"] = base64.b64encode(rejection.raw).decode("ascii")
    record["received_at"] = datetime.now(UTC).isoformat()
    return orjson.dumps(record)
