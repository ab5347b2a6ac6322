"""Bytes on the pipeline's own topics: orjson of the pydantic models (faster than faust codecs)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel

from schemas.events import Rejection


def encode_model(model: BaseModel) -> bytes:
    return orjson.dumps(model.model_dump(mode="json"))


def encode_tagged(kind: str, model: BaseModel) -> bytes:
    """Latency-topic records carry their type so the sink and alerts know what they hold."""
    return orjson.dumps({"type": kind, "data": model.model_dump(mode="json")})


def encode_rejection(rejection: Rejection) -> bytes:
    """The raw bytes travel base64-encoded, so a replay gets exactly what arrived."""
    record: dict[str, Any] = rejection.model_dump(mode="json", exclude={"raw"})
    record["raw_b64"] = base64.b64encode(rejection.raw).decode("ascii")
    record["received_at"] = datetime.now(UTC).isoformat()
    return orjson.dumps(record)
