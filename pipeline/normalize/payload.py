"""Decoding raw bytes and reading vendor fields with reasons instead of KeyErrors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from pipeline.normalize.errors import Reject

MAX_DEPTH = 64
_BOM = b"\xef\xbb\xbf"


def strip_raw(raw: bytes) -> bytes:
    """Drop a leading BOM, NUL bytes and surrounding whitespace before parsing."""
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    if b"\x00" in raw:
        raw = raw.replace(b"\x00", b"")
    return raw.strip()


def decode_utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Reject("invalid_utf8", f"byte {error.start}: {error.reason}") from None


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return False


def parse_json(raw: bytes) -> Any:
    """orjson with reason codes; depth is checked only when the bytes could be that deep."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        text = str(error)
        if "UTF-8" in text:
            decode_utf8(raw)  # names the offending byte
            raise Reject("invalid_utf8", text[:200]) from None
        reason = "too_deep" if "depth" in text or "recursion" in text else "invalid_json"
        raise Reject(reason, text[:200]) from None
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _depth_exceeds(value, MAX_DEPTH):
        raise Reject("too_deep", f"nesting deeper than {MAX_DEPTH}")
    return value


def clean_text(value: str) -> str:
    """NUL characters and BOMs carry no meaning and break downstream stores."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if "\ufeff" in value:
        value = value.replace("\ufeff", "")
    return value


def _where(key: str, path: str) -> str:
    return f"{path}.{key}" if path else key


def get_obj(data: Mapping[str, Any], key: str, path: str = "") -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        raise Reject("missing_field", f"{_where(key, path)} is missing")
    if not isinstance(value, dict):
        raise Reject("wrong_type", f"{_where(key, path)} must be an object")
    return value


def opt_obj(data: Mapping[str, Any], key: str, path: str = "") -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Reject("wrong_type", f"{_where(key, path)} must be an object")
    return value


def opt_str(data: Mapping[str, Any], key: str, path: str = "") -> str:
    """A string field; ints are ids some vendors send unquoted. Absent or null is ''."""
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise Reject("wrong_type", f"{_where(key, path)} must be a string, got {type(value).__name__}")


def get_str(data: Mapping[str, Any], key: str, path: str = "") -> str:
    value = opt_str(data, key, path)
    if not value.strip():
        raise Reject("missing_field", f"{_where(key, path)} is missing or empty")
    return value


def opt_str_list(data: Mapping[str, Any], key: str, path: str = "") -> list[str]:
    value = data.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Reject("wrong_type", f"{_where(key, path)} must be a list of strings")
    return [clean_text(item) for item in value if item]


def opt_any_str(data: Mapping[str, Any], key: str) -> str:
    """A free-form attribute: any scalar becomes text, structures are ignored."""
    value = data.get(key)
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return clean_text(str(value))
