"""The worker's metrics exist under the names the alert rules and dashboards use."""

from __future__ import annotations

import asyncio
import time
import urllib.request

from prometheus_client import REGISTRY

from pipeline import metrics

EXPECTED = {
    "salesradar_events_consumed": ("counter", {"topic", "source"}),
    "salesradar_normalize_rejects": ("counter", {"source", "reason"}),
    "salesradar_tagging_seconds": ("histogram", set()),
    "salesradar_signals": ("counter", {"signal"}),
    "salesradar_open_waits": ("gauge", set()),
    "salesradar_breaches": ("counter", {"kind"}),
    "salesradar_reminders": ("counter", set()),
    "salesradar_sink_batch_rows": ("histogram", {"table"}),
    "salesradar_sink_insert_seconds": ("histogram", {"table"}),
    "salesradar_sink_insert_failures": ("counter", {"table"}),
    "salesradar_sink_rows": ("counter", {"table"}),
    "salesradar_consumer_lag": ("gauge", {"topic", "partition"}),
    "salesradar_backpressure_seconds": ("counter", set()),
    "salesradar_dead_letters": ("counter", {"source", "reason"}),
    "salesradar_last_event_timestamp_seconds": ("gauge", {"source"}),
}


def _families() -> dict[str, object]:
    return {family.name: family for family in REGISTRY.collect()}


def test_every_expected_metric_is_registered_with_its_type_and_labels() -> None:
    metrics.SINK_BATCH_ROWS.labels(table="events").observe(10)
    metrics.SINK_INSERT_SECONDS.labels(table="events").observe(0.01)
    metrics.CONSUMER_LAG.labels(topic="salesradar.events", partition="0").set(5)
    metrics.NORMALIZE_REJECTS.labels(source="wecom", reason="invalid_json").inc()
    metrics.DEAD_LETTERS.labels(source="wecom", reason="invalid_json").inc()
    metrics.SIGNALS.labels(signal="quote").inc()
    metrics.BREACHES.labels(kind="reply_a").inc()
    metrics.SINK_INSERT_FAILURES.labels(table="events").inc()
    metrics.SINK_ROWS.labels(table="events").inc(10)
    metrics.record_consumed("salesradar.raw.wecom", "wecom")
    families = _families()
    for name, (kind, labels) in EXPECTED.items():
        assert name in families, name
        family = families[name]
        assert family.type == kind, name
        assert family.documentation, name
        sample_labels = {k for s in family.samples for k in s.labels if k != "le"}
        assert sample_labels == labels, name


def test_record_consumed_counts_and_stamps_the_source() -> None:
    before = (
        REGISTRY.get_sample_value(
            "salesradar_events_consumed_total", {"topic": "salesradar.raw.crm", "source": "crm"}
        )
        or 0.0
    )
    start = time.time()
    metrics.record_consumed("salesradar.raw.crm", "crm", count=3)
    after = REGISTRY.get_sample_value(
        "salesradar_events_consumed_total", {"topic": "salesradar.raw.crm", "source": "crm"}
    )
    stamp = REGISTRY.get_sample_value("salesradar_last_event_timestamp_seconds", {"source": "crm"})
    assert after == before + 3
    assert start <= stamp <= time.time()


def test_count_signals_counts_each_signal_of_each_event() -> None:
    def count(signal: str) -> float:
        return REGISTRY.get_sample_value("salesradar_signals_total", {"signal": signal}) or 0.0

    before = count("demo"), count("contract")
    metrics.count_signals(("demo", "contract"))
    metrics.count_signals(("demo",))
    assert (count("demo"), count("contract")) == (before[0] + 2, before[1] + 1)


def test_metrics_handler_serves_the_exposition_format() -> None:
    metrics.BREACHES.labels(kind="lead_unassigned").inc()
    response = asyncio.run(metrics.metrics_handler(None))
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    assert b'salesradar_breaches_total{kind="lead_unassigned"}' in response.body


def test_start_metrics_server_serves_metrics_over_http() -> None:
    server = metrics.start_metrics_server(0, addr="127.0.0.1")
    try:
        port = server.server_port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            body = reply.read()
        assert b"salesradar_open_waits" in body
    finally:
        server.shutdown()
        server.server_close()


def test_consumer_lag_follows_the_assignment_and_drops_revoked_partitions() -> None:
    def lag(partition: int) -> float | None:
        return REGISTRY.get_sample_value(
            "salesradar_consumer_lag", {"topic": "lag.test", "partition": str(partition)}
        )

    metrics.set_consumer_lag({("lag.test", 0): 5, ("lag.test", 1): 7})
    assert (lag(0), lag(1)) == (5, 7)
    metrics.set_consumer_lag({("lag.test", 1): 3, ("lag.test", 2): -1})
    assert (lag(0), lag(1), lag(2)) == (None, 3, 0)
    metrics.set_consumer_lag({})
    assert (lag(1), lag(2)) == (None, None)
