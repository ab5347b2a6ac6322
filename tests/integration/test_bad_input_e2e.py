"""Bad input through the real embedded path: files read by `read_records`, the Tansu broker, the
faust app, chDB. Good records and dead letters are counted exactly in ClickHouse, and a poison
record never blocks its partition (one partition per topic, so every bad record has good ones
after it in the same partition).

Each record below is written with the outcome it must have; the assertions compare ClickHouse
with those outcomes.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from agents.runner import RunSummary, run_embedded
from pipeline.clickhouse import ClickHouseBackend
from pipeline.identity import Directory
from pipeline.normalize import RAW_PREFIX_BYTES
from pipeline.readers import read_records
from pipeline.runtime import Runtime
from pipeline.settings import load_settings

FIXTURES = Path(__file__).parents[1] / "fixtures"
DIRECTORY = """
[[rep]]
rep_id = "r-li"
name = "李四"
wecom_userid = "lisi"

[[customer]]
customer_id = "c-badin"
tier = "B"
wecom_external_userids = ["wmBadIn01"]
owner = "r-li"
"""

START = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
FAR_FUTURE_MS = int(datetime(2200, 1, 1, tzinfo=UTC).timestamp() * 1000)
EVENT, DEAD, DUPLICATE = "event", "dead", "duplicate"


def _ms(minutes: int) -> int:
    return int((START + timedelta(minutes=minutes)).timestamp() * 1000)


def _wecom(msgid: str, minute: int, *, sender: str = "wmBadIn01", **changes: object) -> dict:
    receiver = "lisi" if sender.startswith("wm") else "wmBadIn01"
    doc = {
        "msgid": msgid,
        "action": "send",
        "from": sender,
        "tolist": [receiver],
        "roomid": "",
        "msgtime": _ms(minute),
        "msgtype": "text",
        "text": {"content": "你们的报价单什么时候能发过来？"},
    }
    doc.update(changes)
    return doc


def _dingtalk(msg_id: str, minute: int, **changes: object) -> dict:
    doc = {
        "conversationId": "cidBadInput==",
        "msgId": msg_id,
        "createAt": _ms(minute),
        "conversationType": "1",
        "senderId": "$:LWCP_v1:$badin",
        "senderNick": "陈杰",
        "senderCorpId": "dingcustomer01",
        "chatbotUserId": "$:LWCP_v1:$robot01",
        "isInAtList": True,
        "msgtype": "text",
        "text": {"content": "合同条款我们法务还在看"},
    }
    doc.update(changes)
    return doc


def _fixture(path: str, **changes: object) -> bytes:
    doc = orjson.loads((FIXTURES / path).read_bytes())
    doc.update(changes)
    return orjson.dumps(doc)


@dataclass
class InputFile:
    """The bytes of one user file, and what each record in it must become."""

    source: str
    name: str
    chunks: list[bytes] = field(default_factory=list)
    outcomes: list[list[tuple[str, str]]] = field(default_factory=list)  # per record

    def add(self, raw: bytes, *outcomes: tuple[str, str], line_end: bytes = b"\n") -> None:
        self.chunks.append(raw + line_end)
        self.outcomes.append(list(outcomes))

    def noise(self, text: bytes) -> None:
        """Lines that are not records at all (empty, whitespace): no outcome."""
        self.chunks.append(text)

    def write(self, root: Path) -> Path:
        path = root / self.name
        path.write_bytes(b"".join(self.chunks))
        return path


def _event(event_id: str) -> tuple[str, str]:
    return (EVENT, event_id)


def _dead(reason: str) -> tuple[str, str]:
    return (DEAD, reason)


def wecom_chat() -> InputFile:
    file = InputFile("wecom", "wecom_archive.jsonl")
    first = orjson.dumps(_wecom("w-01", 0))
    file.add(b"\xef\xbb\xbf" + first, _event("wecom:w-01"), line_end=b"\r\n")  # BOM, CRLF
    file.add(b'{"msgid": "w-02", "action": "send", "from": "wmBad', _dead("invalid_json"))
    with_nul = orjson.dumps(_wecom("w-03", 3, text={"content": "付款\u0000已安排"}))
    file.add(with_nul.replace(b'"msgid"', b'\x00"msgid"'), _event("wecom:w-03"))
    file.noise(b"\n   \r\n\t\n")
    file.add(orjson.dumps(_wecom("w-04", 4, **{"from": {"id": 1}})), _dead("wrong_type"))
    file.add(orjson.dumps(_wecom("", 5)), _dead("missing_field"))
    file.add(orjson.dumps(_wecom("w-06", 6, text=[1])), _dead("wrong_type"))
    in_seconds = _ms(7) // 1000
    file.add(orjson.dumps(_wecom("w-07", 7, msgtime=in_seconds)), _event("wecom:w-07"))
    file.add(orjson.dumps(_wecom("w-08", 8, msgtime=1)), _dead("implausible_timestamp"))
    file.add(orjson.dumps(_wecom("w-09", 9, msgtime=FAR_FUTURE_MS)), _dead("implausible_timestamp"))
    not_utf8 = orjson.dumps(_wecom("w-10", 10)).replace("报价单".encode(), b"\xc3\x28\xff")
    file.add(not_utf8, _dead("invalid_utf8"))
    deep = b'{"msgid": "w-11", "a": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    file.add(deep, _dead("too_deep"))
    huge = orjson.dumps(_wecom("w-12", 12)).replace(
        str(_ms(12)).encode(), b"123456789012345678901234567890"
    )
    file.add(huge, _dead("wrong_type"))
    five_mb = orjson.dumps(_wecom("w-13", 13, text={"content": "资料" * 900_000}))
    file.add(five_mb, _dead("too_large"))
    long_text = orjson.dumps(_wecom("w-14", 14, text={"content": "验收" * 15_000}))
    file.add(long_text, _event("wecom:w-14"))
    unknown = orjson.dumps(_wecom("w-15", 15, msgtype="sphfeed", sphfeed={"feed_type": 4}))
    file.add(unknown, _event("wecom:w-15"))
    file.add(first, (DUPLICATE, "wecom:w-01"))
    reply = _wecom("w-17", 17, sender="lisi", text={"content": "报价单已发您邮箱，请查收"})
    file.add(orjson.dumps(reply), _event("wecom:w-17"))
    return file


def wecom_callbacks() -> InputFile:
    file = InputFile("wecom", "wecom_callbacks.xml")
    file.add((FIXTURES / "wecom" / "add_external_contact.xml").read_bytes().strip(), (EVENT, ""))
    forbidden = (FIXTURES / "wecom" / "billion_laughs.xml").read_bytes().strip()
    file.add(forbidden, _dead("xml_forbidden"))
    file.add(b"<xml><Event>change_external_contact</Event><ChangeType>", _dead("invalid_xml"))
    file.add((FIXTURES / "wecom" / "change_external_tag.xml").read_bytes().strip(), (EVENT, ""))
    return file


def dingtalk() -> InputFile:
    file = InputFile("dingtalk", "dingtalk.jsonl")
    file.add(orjson.dumps(_dingtalk("d-01", 1)), _event("dingtalk:d-01"), line_end=b"\r\n")
    file.add(orjson.dumps(_dingtalk("d-02", 2, createAt=_ms(2) // 1000)), _event("dingtalk:d-02"))
    file.add(orjson.dumps(_dingtalk("d-03", 3, createAt="昨天下午")), _dead("bad_timestamp"))
    file.add(orjson.dumps(_dingtalk("", 4)), _dead("missing_field"))
    file.add(b'{"hello": "world"}', _dead("unknown_shape"))
    file.add(b"\x00\x00\x00", _dead("empty"))  # nothing left once NUL bytes are dropped
    track = (FIXTURES / "dingtalk" / "track_new.json").read_bytes().strip()
    file.add(track, _event("dingtalk:track:evt_5f6a7b8c9d:0"))
    return file


def crm() -> InputFile:
    file = InputFile("crm", "crm_oplog.jsonl")
    created = (FIXTURES / "crm" / "cn_lead_created.json").read_bytes().strip()
    file.add(created, _event("crm:OPL20261120000101"))
    file.add(_fixture("crm/cn_lead_created.json", logId=""), _dead("missing_field"))
    file.add(
        _fixture("crm/cn_lead_created.json", logId="OPL-X1", operationTime="下午三点"),
        _dead("bad_timestamp"),
    )
    file.add(b"[1, 2, 3]", _dead("unknown_shape"))
    file.add(b"not json at all", _dead("invalid_json"))
    file.add(created, (DUPLICATE, "crm:OPL20261120000101"))
    assigned = (FIXTURES / "crm" / "cn_lead_assigned.json").read_bytes().strip()
    file.add(assigned, _event("crm:OPL20261120000102"))
    return file


def email() -> InputFile:
    file = InputFile("email", "email_events.jsonl")
    batch = (FIXTURES / "email" / "sendgrid_mixed_bad.json").read_bytes().strip()
    file.add(
        batch,
        _event("email:sg_evt_bnc_0002"),
        _dead("bad_timestamp"),  # "timestamp": "昨天"
        _dead("wrong_type"),  # "not an event"
    )
    no_time = b'{"eventType": "Delivery", "mail": {"messageId": "0102-x"}}'
    file.add(no_time, _dead("bad_timestamp"))
    mailgun = (FIXTURES / "email" / "mailgun_delivered.json").read_bytes().strip()
    file.add(mailgun, _event("email:CPgfbmQMTCKtHW6uIWtuVe"))  # no signing key configured
    return file


FILES = [wecom_chat(), wecom_callbacks(), dingtalk(), crm(), email()]


@dataclass
class Run:
    backend: ClickHouseBackend
    summary: RunSummary
    records: dict[str, list[bytes]]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("bad-input")
    records: dict[str, list[bytes]] = {}
    for file in FILES:
        records.setdefault(file.source, []).extend(read_records(file.write(root), file.source))
    settings = load_settings(db_dir=root / "db", table_dir=root / "tables", topic_partitions=1)
    directory = Directory.from_toml(DIRECTORY, "bad-input-directory")
    _, backend, summary = run_embedded(
        settings, records, lambda s: Runtime.from_settings(s, directory=directory)
    )
    yield Run(backend, summary, records)
    backend.close()


def _outcomes(source: str | None = None) -> list[list[tuple[str, str]]]:
    """Per record, in the order records reach their source's raw topic."""
    return [o for f in FILES if source in (None, f.source) for o in f.outcomes]


def test_the_reader_yields_one_record_per_document_and_skips_only_blank_lines(
    finished: Run,
) -> None:
    for source in ("wecom", "dingtalk", "crm", "email"):
        assert len(finished.records[source]) == len(_outcomes(source)), source
    assert finished.summary.raw_records == len(_outcomes())


def test_exact_good_events_in_clickhouse(finished: Run) -> None:
    rows = finished.backend.query_rows("SELECT source, event_id FROM events FINAL")
    expected_ids = {i for o in _outcomes() for kind, i in o if kind == EVENT and i}
    assert expected_ids <= {row["event_id"] for row in rows}
    per_source = Counter(row["source"] for row in rows)
    expected = Counter(
        f.source for f in FILES for o in f.outcomes for kind, _ in o if kind == EVENT
    )
    assert per_source == expected
    stored = finished.backend.query_rows("SELECT count() AS n FROM events")[0]["n"]
    assert stored == len(rows)  # a record delivered twice is one row, not a merged duplicate


def test_exact_dead_letters_with_reasons_and_positions(finished: Run) -> None:
    rows = finished.backend.query_rows(
        "SELECT source, reason, message, topic, partition, offset FROM dead_letters"
    )
    expected = Counter(
        (f.source, reason) for f in FILES for o in f.outcomes for kind, reason in o if kind == DEAD
    )
    assert Counter((row["source"], row["reason"]) for row in rows) == expected
    assert all(row["message"] for row in rows)
    for source in ("wecom", "dingtalk", "crm", "email"):
        # Records are produced in event-time order, so a dead letter's offset is a position in
        # the raw topic, one per refused record (a batch's bad elements share their record's).
        offsets = {row["offset"] for row in rows if row["topic"] == f"salesradar.raw.{source}"}
        bad_records = sum(any(k == DEAD for k, _ in o) for o in _outcomes(source))
        assert len(offsets) == bad_records, source
        assert offsets <= set(range(len(_outcomes(source)))), source
        assert {row["partition"] for row in rows if row["source"] == source} == {0}


def test_a_poison_record_never_blocks_its_partition(finished: Run) -> None:
    """Good records after every bad one in the same partition arrived, latency included."""
    progress = finished.summary.progress
    assert progress.raw_consumed == len(_outcomes())
    assert progress.rejected == sum(kind == DEAD for o in _outcomes() for kind, _ in o)
    for source in ("wecom", "dingtalk", "crm", "email"):
        last_good = max(
            offset
            for offset, outcome in enumerate(_outcomes(source))
            if any(kind == EVENT for kind, _ in outcome)
        )
        first_bad = min(
            offset
            for offset, outcome in enumerate(_outcomes(source))
            if any(kind == DEAD for kind, _ in outcome)
        )
        assert first_bad < last_good, source  # the input really puts poison before good records
    samples = finished.backend.query_rows(
        "SELECT start_event_id, reply_event_id, latency_s FROM latency_samples "
        "ORDER BY start_event_id"
    )
    assert samples == [  # the lead was assigned an hour after it was created (fixtures)
        {
            "start_event_id": "crm:OPL20261120000101",
            "reply_event_id": "crm:OPL20261120000102",
            "latency_s": 3600.0,
        },
        {"start_event_id": "wecom:w-01", "reply_event_id": "wecom:w-17", "latency_s": 17 * 60.0},
    ]


def test_oversized_record_keeps_an_exact_prefix_and_long_text_is_flagged(finished: Run) -> None:
    [big] = finished.backend.query_rows(
        "SELECT raw_b64, raw_truncated FROM dead_letters WHERE reason = 'too_large'"
    )
    original = next(r for r in finished.records["wecom"] if b'"w-13"' in r)
    assert len(original) > 4_000_000
    assert big["raw_truncated"] == 1
    assert base64.b64decode(big["raw_b64"]) == original[:RAW_PREFIX_BYTES]
    [long_text] = finished.backend.query_rows(
        "SELECT lengthUTF8(text) AS chars, text_truncated FROM events FINAL "
        "WHERE event_id = 'wecom:w-14'"
    )
    assert long_text == {"chars": 20000, "text_truncated": 1}


def test_dead_letters_keep_the_exact_bytes(finished: Run) -> None:
    rows = finished.backend.query_rows(
        "SELECT reason, raw_b64 FROM dead_letters WHERE source = 'wecom' AND raw_truncated = 0"
    )
    stored = Counter(base64.b64decode(row["raw_b64"]) for row in rows)
    bad = Counter(
        raw
        for raw, outcome in zip(finished.records["wecom"], _outcomes("wecom"), strict=True)
        if any(kind == DEAD for kind, _ in outcome) and b'"w-13"' not in raw
    )
    assert stored == bad
    assert any(b"\xc3\x28\xff" in raw for raw in stored)  # invalid UTF-8 survives byte for byte


def test_tolerated_oddities_become_clean_events(finished: Run) -> None:
    rows = finished.backend.query_rows(
        "SELECT event_id, occurred_at, text, kind FROM events FINAL "
        "WHERE event_id IN ('wecom:w-01', 'wecom:w-03', 'wecom:w-07', 'wecom:w-15')"
    )
    by_id = {row["event_id"]: row for row in rows}
    assert by_id["wecom:w-03"]["text"] == "付款已安排"  # NUL bytes removed
    occurred = by_id["wecom:w-07"]["occurred_at"]
    occurred = occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC)
    assert occurred == START + timedelta(minutes=7)  # seconds where ms were expected
    assert by_id["wecom:w-15"]["kind"] == "other"  # unknown msgtype passes through
    assert by_id["wecom:w-01"]["text"].startswith("你们的报价单")  # BOM and CRLF gone
