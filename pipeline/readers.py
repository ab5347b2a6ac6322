"""Split a user's file into raw records, one vendor document each, losing nothing.

* A file that is one JSON array: each element is one record (a SendGrid event on its own is
  accepted by normalize as a batch of one).
* JSON lines: each non-empty line is one record as it is (CRLF and a BOM are fine). A line
  that is itself an array is one SendGrid batch; a line that is not JSON is still yielded
  so it becomes a dead letter, never silently lost.
* XML: concatenated ``<xml>...</xml>`` callback documents; anything between them that is
  not whitespace is yielded too.
* email: a file that starts with mail headers is one RFC 822 message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import orjson

from pipeline.compact_json import dumps_kept

_BOM = b"\xef\xbb\xbf"
#: A callback document with its optional declaration and DOCTYPE (kept so normalize refuses it);
#: a document never spans another's start, so an unclosed one cannot swallow the next.
_XML_DOCUMENT = re.compile(
    rb"(?:<\?xml[^>]*\?>\s*)?(?:<!DOCTYPE\b(?:[^\[>]|\[.*?\])*>\s*)?"
    rb"<xml\b(?:(?!<xml\b).)*?</xml>",
    re.DOTALL,
)
_MAIL_HEADER = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*: ")


def _xml_records(data: bytes) -> Iterator[bytes]:
    position = 0
    for match in _XML_DOCUMENT.finditer(data):
        between = data[position : match.start()].strip()
        if between:
            yield between
        yield match.group(0)
        position = match.end()
    rest = data[position:].strip()
    if rest:
        yield rest


def _array_records(data: bytes) -> Iterator[bytes] | None:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, list):
        return None
    return (dumps_kept(element) for element in value)


def _line_records(data: bytes) -> Iterator[bytes]:
    for line in data.split(b"\n"):
        line = line.rstrip(b"\r")
        if line.startswith(_BOM):
            line = line[len(_BOM) :]
        if line.strip():
            yield line


def split_records(data: bytes, source: str) -> Iterator[bytes]:
    """The splitting rules of read_records, on bytes already in memory."""
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    head = data.lstrip()
    if head.startswith(b"<"):
        return _xml_records(data)
    if source == "email" and _MAIL_HEADER.match(head):
        return iter([head])
    if head.startswith(b"["):
        records = _array_records(data)
        if records is not None:
            return records
    return _line_records(data)


def read_records(path: Path, source: str) -> Iterator[bytes]:
    """Raw records of one source family from a JSON-lines, JSON-array or XML file."""
    yield from split_records(Path(path).read_bytes(), source)
