"""The demo week: deterministic raw vendor records that normalize with a small, real DLQ."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.demo_data import generate_week
from pipeline.identity import Directory
from pipeline.normalize import NormalizeContext, normalize_record
from schemas.events import Actor, CanonicalEvent, EventKind, Rejection

START = datetime(2026, 11, 16, tzinfo=UTC)


@pytest.fixture(scope="module")
def week():
    return generate_week(7, START)


@pytest.fixture(scope="module")
def normalized(week):
    ctx = NormalizeContext(week.directory, now=lambda: START + timedelta(days=8))
    return {
        source: [normalize_record(source, raw, ctx) for raw in raws]
        for source, raws in week.records.items()
    }


def test_same_seed_same_bytes_other_seed_other_bytes(week):
    assert generate_week(7, START).records == week.records
    assert generate_week(8, START).records != week.records


def test_every_source_present_and_size_of_a_real_week(week):
    assert set(week.records) == {"wecom", "dingtalk", "crm", "email"}
    total = sum(len(raws) for raws in week.records.values())
    assert 15_000 <= total <= 30_000
    assert all(len(raws) >= 100 for raws in week.records.values())


def test_rejections_are_few_but_present(normalized):
    results = [r for per_source in normalized.values() for rs in per_source for r in rs]
    rejected = [r for r in results if isinstance(r, Rejection)]
    records = sum(len(per_source) for per_source in normalized.values())
    assert 0 < len(rejected) < 0.02 * records
    assert {r.reason for r in rejected} <= {
        "invalid_json",
        "bad_timestamp",
        "invalid_utf8",
        "invalid_xml",
    }


def test_every_source_yields_its_shapes(normalized):
    formats = Counter(
        (r.source.value, r.source_format, r.kind.value)
        for per_source in normalized.values()
        for rs in per_source
        for r in rs
        if isinstance(r, CanonicalEvent)
    )
    wanted = [
        ("wecom", "wecom_archive", "message"),
        ("wecom", "wecom_archive", "file"),
        ("wecom", "wecom_callback", "contact_changed"),
        ("wecom", "wecom_archive", "recall"),
        ("dingtalk", "dingtalk_robot", "message"),
        ("crm", "cn_crm_oplog", "lead_created"),
        ("crm", "cn_crm_oplog", "lead_assigned"),
        ("crm", "cn_crm_oplog", "stage_changed"),
        ("crm", "cn_crm_oplog", "rating_changed"),
        ("email", "sendgrid", "email_status"),
        ("email", "mailbox", "email_sent"),
    ]
    assert all(formats[key] > 0 for key in wanted), [k for k in wanted if not formats[k]]


def test_chat_is_mapped_and_carries_signal_words(normalized):
    messages = [
        r
        for rs in normalized["wecom"]
        for r in rs
        if isinstance(r, CanonicalEvent) and r.kind is EventKind.MESSAGE
    ]
    assert not any("unmapped" in m.attrs for m in messages)
    assert {m.actor for m in messages} == {Actor.REP, Actor.CUSTOMER}
    text = "\n".join(m.text for m in messages)
    for word in ("报价", "太贵了", "演示", "合同", "付款", "上线", "兼容", "领导", "资料"):
        assert word in text, word


def test_some_leads_stay_unassigned_for_more_than_48_hours(normalized):
    crm = [r for rs in normalized["crm"] for r in rs if isinstance(r, CanonicalEvent)]
    assigned = {e.conversation_id for e in crm if e.kind is EventKind.LEAD_ASSIGNED}
    end = START + timedelta(days=7)
    stale = [
        e
        for e in crm
        if e.kind is EventKind.LEAD_CREATED
        and e.conversation_id not in assigned
        and end - e.occurred_at > timedelta(hours=48)
    ]
    assert stale
    assert all(e.rep_id == "" for e in stale)


def test_some_customers_wait_longer_than_their_sla(normalized):
    by_conversation: dict[str, list[CanonicalEvent]] = {}
    for rs in normalized["wecom"]:
        for event in rs:
            if isinstance(event, CanonicalEvent) and event.kind is EventKind.MESSAGE:
                by_conversation.setdefault(event.conversation_id, []).append(event)
    waits = []
    for events in by_conversation.values():
        events.sort(key=lambda e: e.occurred_at)
        waiting_since = None
        for event in events:
            if event.actor is Actor.CUSTOMER and waiting_since is None:
                waiting_since = event.occurred_at
            elif event.actor is Actor.REP and waiting_since is not None:
                waits.append((event.customer_tier, event.occurred_at - waiting_since))
                waiting_since = None
    assert any(t == "A" and w > timedelta(hours=2) for t, w in waits)
    assert any(t == "B" and w > timedelta(hours=4) for t, w in waits)
    assert any(w < timedelta(minutes=10) for _, w in waits)
    assert any(w > timedelta(days=1) for _, w in waits)


def test_directory_round_trips_through_toml(week, tmp_path):
    path = tmp_path / "directory.toml"
    week.write_directory(path)
    loaded = Directory.load(path)
    assert loaded.reps == week.directory.reps
    assert loaded.customers == week.directory.customers
