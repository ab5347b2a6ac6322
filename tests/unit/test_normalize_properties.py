"""Property tests: nothing escapes normalize_record, and nothing is lost.

Every input becomes canonical events, or exactly one Rejection; a batch may mix events with
one Rejection per bad element. The one documented exception: the Text row of a Salesforce
owner change, which is the duplicate of its EntityId row.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.identity import Directory
from pipeline.normalize import REASONS, NormalizeContext, normalize_record
from schemas.events import CanonicalEvent, Rejection

FIXTURES = Path(__file__).parents[1] / "fixtures"
NOW = datetime(2026, 11, 29, tzinfo=UTC)
CTX = NormalizeContext(Directory.load(FIXTURES / "directory.toml"), now=lambda: NOW)
SOURCES = ["wecom", "dingtalk", "crm", "email"]
FILES = [path for source in SOURCES for path in sorted((FIXTURES / source).iterdir())]
#: Fixtures that are meant to be refused, whole or in part.
REFUSED = {"billion_laughs.xml", "sendgrid_mixed_bad.json"}
DUPLICATE_OWNER_ROW = "sf_history_owner_text.json"
VALID = [
    (path.parent.name, path.read_bytes()) for path in FILES if path.name != DUPLICATE_OWNER_ROW
]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_accounted_for(source: str, raw: bytes) -> None:
    results = normalize_record(source, raw, CTX, topic="t", partition=0, offset=1)
    if not results:  # only the duplicate Text row of a Salesforce owner change yields nothing
        assert b'"DataType":"Text"' in raw and b'"Field":"Owner"' in raw, raw[:200]
        return
    events = [r for r in results if isinstance(r, CanonicalEvent)]
    rejections = [r for r in results if isinstance(r, Rejection)]
    assert len(events) + len(rejections) == len(results)
    assert all(r.reason in REASONS and r.offset == 1 for r in rejections)
    if not events:
        assert len(rejections) == 1
        assert rejections[0].raw == raw
    for event in events:
        assert event.occurred_at.utcoffset() is not None
        assert event.event_id.startswith(source + ":")


@SETTINGS
@given(source=st.sampled_from(SOURCES), raw=st.binary(max_size=400))
def test_arbitrary_bytes(source, raw):
    assert_accounted_for(source, raw)


@st.composite
def mutated(draw):
    source, raw = draw(st.sampled_from(VALID))
    source = draw(st.sampled_from([source, source, *SOURCES]))  # also another family's payload
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 4))):
        operation = draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if operation == "flip" and data:
            data[position] = draw(st.integers(0, 255))
        elif operation == "delete" and data:
            del data[position : position + draw(st.integers(1, 20))]
        elif operation == "insert":
            data[position:position] = draw(
                st.sampled_from(
                    [
                        b"\x00",
                        b"\xef\xbb\xbf",
                        b"\r\n",
                        b"[",
                        b"{}",
                        b'"',
                        b"null",
                        b"99999999999999999999999",
                        b"-1",
                        b"\xe6\x8a",
                        b"<!DOCTYPE x>",
                    ]
                )
            )
        else:
            del data[position:]
    return source, bytes(data)


@SETTINGS
@given(case=mutated())
def test_mutated_valid_payloads(case):
    assert_accounted_for(*case)


@st.composite
def retyped(draw):
    """Valid JSON documents with one top-level field replaced by a value of another type."""
    source, raw = draw(st.sampled_from([v for v in VALID if v[1].lstrip()[:1] == b"{"]))
    doc = json.loads(raw)
    key = draw(st.sampled_from(sorted(doc)))
    doc[key] = draw(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(),
            st.text(max_size=20),
            st.lists(st.integers(), max_size=3),
            st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
        )
    )
    return source, json.dumps(doc, ensure_ascii=False).encode()  # big ints and NaN included


@SETTINGS
@given(case=retyped())
def test_retyped_fields(case):
    assert_accounted_for(*case)


def test_valid_fixtures_all_become_events():
    for path in FILES:
        if path.name in REFUSED or path.name == DUPLICATE_OWNER_ROW:
            continue
        results = normalize_record(path.parent.name, path.read_bytes(), CTX)
        assert results and all(isinstance(r, CanonicalEvent) for r in results), (path, results)
