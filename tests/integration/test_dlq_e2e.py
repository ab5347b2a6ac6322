"""`salesradar dlq list | replay` on dead letters a real embedded run left in chDB.

Mailgun bodies signed with the right key arrive while the worker is configured with a wrong
one, so they are refused with reason `signature`; after the key is fixed, `dlq replay
--reason signature --embedded` turns them into events. Records no key can fix stay dead.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from agents.runner import run_embedded
from pipeline import cli
from pipeline.embedded_broker import EmbeddedBroker
from pipeline.settings import load_settings

RIGHT_KEY = "key-right-3f9a"
WRONG_KEY = "key-wrong-0000"
NOW_S = int(time.time()) - 3600


def _mailgun(event_id: str, token: str) -> bytes:
    timestamp = str(NOW_S)
    signature = hmac.new(
        RIGHT_KEY.encode(), (timestamp + token).encode(), hashlib.sha256
    ).hexdigest()
    return orjson.dumps(
        {
            "signature": {"timestamp": timestamp, "token": token, "signature": signature},
            "event-data": {
                "event": "delivered",
                "id": event_id,
                "timestamp": NOW_S + 0.5,
                "recipient": "li.na@beihai-logistics.cn",
                "message": {
                    "headers": {
                        "message-id": f"{event_id}@xinghe-soft.cn",
                        "from": "王芳 <wangfang@xinghe-soft.cn>",
                        "to": "li.na@beihai-logistics.cn",
                        "subject": "试用账号开通说明",
                    }
                },
            },
        }
    )


SIGNED = [_mailgun("mg-delivered-1", "a" * 50), _mailgun("mg-delivered-2", "b" * 50)]
NOT_JSON = b'{"signature": {"timestamp": "1"'
NOT_UTF8 = b'{"event-data": {"id": "\xff\xfe"}}'
RAW = {"email": [*SIGNED, NOT_JSON, NOT_UTF8]}


@pytest.fixture(scope="module")
def rejected_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One embedded run with the wrong signing key: four dead letters, no events."""
    root = tmp_path_factory.mktemp("dlq")
    settings = load_settings(
        db_dir=root / "db", table_dir=root / "tables", mailgun_signing_key=WRONG_KEY
    )
    _, backend, summary = run_embedded(settings, RAW)
    try:
        assert summary.progress.rejected == 4
        assert backend.query_rows("SELECT count() AS n FROM events")[0]["n"] == 0
    finally:
        backend.close()
    yield root / "db"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.setenv("SALESRADAR_TABLE_DIR", str(tmp_path / "tables"))
    monkeypatch.delenv("SALESRADAR_CONFIG", raising=False)
    monkeypatch.delenv("SALESRADAR_CLICKHOUSE_URL", raising=False)
    return monkeypatch


def _sql(db: Path, query: str, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    capsys.readouterr()
    assert cli.main(["sql", "--db", str(db), "--json", query]) == 0
    return [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_list_groups_by_reason_with_counts_and_samples(
    rejected_db: Path, capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch
) -> None:
    assert cli.main(["dlq", "list", "--db", str(rejected_db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "dead letters: 4"
    counts = {line.split()[0]: line.split()[1] for line in lines[1:] if not line.startswith(" ")}
    assert counts == {"signature": "2", "invalid_json": "1", "invalid_utf8": "1"}
    assert lines[1].split()[:3] == ["signature", "2", "(email=2)"]
    samples = [line for line in lines if line.startswith("    ")]
    assert len(samples) == 4
    assert sum("Mailgun signature does not verify" in sample for sample in samples) == 2


def test_list_filters_by_reason(
    rejected_db: Path, capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch
) -> None:
    assert cli.main(["dlq", "list", "--db", str(rejected_db), "--reason", "invalid_json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "dead letters: 1"
    assert lines[1].split()[:2] == ["invalid_json", "1"]


def test_list_without_a_target_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch
) -> None:
    env.delenv("SALESRADAR_DB_DIR", raising=False)
    assert cli.main(["dlq", "list"]) == 2
    assert "--db" in capsys.readouterr().err


async def _consume(bootstrap: str, topic: str, expected: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        deadline = time.monotonic() + 20
        while len(values) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            values += [record.value for records in batches.values() for record in records]
    finally:
        await consumer.stop()
    return values


def test_replay_sends_the_exact_bytes_to_the_configured_broker(
    rejected_db: Path, capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch
) -> None:
    with EmbeddedBroker() as broker:
        env.setenv("SALESRADAR_BROKER_URL", broker.url)
        assert cli.main(["dlq", "replay", "--db", str(rejected_db)]) == 0
        assert "4 record(s) sent to salesradar.raw.email" in capsys.readouterr().err
        received = asyncio.run(_consume(broker.bootstrap_servers, "salesradar.raw.email", 4))
    assert sorted(received) == sorted(RAW["email"])


def test_replay_after_the_key_is_fixed_turns_signature_rejects_into_events(
    rejected_db: Path, capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch
) -> None:
    env.setenv("SALESRADAR_MAILGUN_SIGNING_KEY", RIGHT_KEY)
    command = ["dlq", "replay", "--reason", "signature", "--embedded", "--db", str(rejected_db)]
    assert cli.main(command) == 0
    assert "dlq replay: 2 record(s) (email=2)" in capsys.readouterr().err
    events = _sql(rejected_db, "SELECT event_id, kind FROM events FINAL ORDER BY event_id", capsys)
    assert events == [
        {"event_id": "email:mg-delivered-1", "kind": "email_status"},
        {"event_id": "email:mg-delivered-2", "kind": "email_status"},
    ]
    dead = _sql(
        rejected_db,
        "SELECT reason, count() AS n FROM dead_letters GROUP BY reason ORDER BY reason",
        capsys,
    )
    # Nothing new was refused; what no configuration can fix is still there.
    assert dead == [
        {"reason": "invalid_json", "n": 1},
        {"reason": "invalid_utf8", "n": 1},
        {"reason": "signature", "n": 2},
    ]


def test_replay_embedded_needs_the_data_directory(
    capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch
) -> None:
    assert cli.main(["dlq", "replay", "--embedded"]) == 2
    assert "--db" in capsys.readouterr().err
