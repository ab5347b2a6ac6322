"""Prometheus metrics of a salesradar worker, defined once so every stage counts the same way.

Every metric lives in the process-wide default registry under the `salesradar_` namespace, so
the worker's web port (`/metrics`) shows them all, and the alert rules and dashboards under
`deploy/` can name them. Alert-channel metrics (`salesradar_alerts_total{channel,status}`,
`salesradar_alerts_queued`) are defined next to the alert channels in `pipeline.alerts.metrics`.

Label values must come from small closed sets (topic, source, reason code, signal id, table):
never put a rep, customer or conversation id in a label, or the series count explodes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from functools import cache
from wsgiref.simple_server import WSGIServer

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

NAMESPACE = "salesradar"

# Buckets sized for what each step costs: tagging one text takes tens of microseconds to a few
# milliseconds; a ClickHouse insert of a batch takes milliseconds to seconds (retries included).
TAGGING_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1)
INSERT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_ROW_BUCKETS = (1, 10, 50, 100, 500, 1_000, 5_000, 10_000, 50_000, 100_000)

EVENTS_CONSUMED = Counter(
    "events_consumed",
    "Raw and canonical records consumed, by topic and source family.",
    ["topic", "source"],
    namespace=NAMESPACE,
)
NORMALIZE_REJECTS = Counter(
    "normalize_rejects",
    "Raw records that could not become a canonical event, by source and reason code.",
    ["source", "reason"],
    namespace=NAMESPACE,
)
TAGGING_SECONDS = Histogram(
    "tagging_seconds",
    "Time to tag one event's text with behaviour signals.",
    namespace=NAMESPACE,
    buckets=TAGGING_BUCKETS,
)
SIGNALS = Counter(
    "signals",
    "Behaviour signals found, by signal id.",
    ["signal"],
    namespace=NAMESPACE,
)
OPEN_WAITS = Gauge(
    "open_waits",
    "Customer messages awaiting a rep's reply in the partitions this worker owns.",
    namespace=NAMESPACE,
)
BREACHES = Counter(
    "breaches",
    "SLA breaches raised, by kind (reply SLA class, unassigned lead, ...).",
    ["kind"],
    namespace=NAMESPACE,
)
REMINDERS = Counter(
    "reminders",
    "Reminders raised before an SLA deadline.",
    namespace=NAMESPACE,
)
SINK_BATCH_ROWS = Histogram(
    "sink_batch_rows",
    "Rows per ClickHouse insert batch, by table.",
    ["table"],
    namespace=NAMESPACE,
    buckets=BATCH_ROW_BUCKETS,
)
SINK_INSERT_SECONDS = Histogram(
    "sink_insert_seconds",
    "Duration of one ClickHouse batch insert, by table.",
    ["table"],
    namespace=NAMESPACE,
    buckets=INSERT_BUCKETS,
)
SINK_INSERT_FAILURES = Counter(
    "sink_insert_failures",
    "Failed ClickHouse insert attempts (each retry counts), by table.",
    ["table"],
    namespace=NAMESPACE,
)
SINK_ROWS = Counter(
    "sink_rows",
    "Rows acknowledged by ClickHouse, by table.",
    ["table"],
    namespace=NAMESPACE,
)
CONSUMER_LAG = Gauge(
    "consumer_lag",
    "Messages between the committed offset and the end of the partition.",
    ["topic", "partition"],
    namespace=NAMESPACE,
)
BACKPRESSURE_SECONDS = Counter(
    "backpressure_seconds",
    "Time consumption was paused because ClickHouse could not take inserts.",
    namespace=NAMESPACE,
)
DEAD_LETTERS = Counter(
    "dead_letters",
    "Records sent to the dead-letter topic, by source and reason code.",
    ["source", "reason"],
    namespace=NAMESPACE,
)
DUPLICATES = Counter(
    "duplicate_events",
    "Events dropped because the same source id was seen moments before (re-delivery).",
    ["source"],
    namespace=NAMESPACE,
)
LAST_EVENT_TIMESTAMP = Gauge(
    "last_event_timestamp_seconds",
    "Wall-clock Unix time this worker last consumed a record from a source; "
    "drives the 'no events for N minutes' alert.",
    ["source"],
    namespace=NAMESPACE,
)


# labels() costs more than the increment it leads to; the per-record paths keep the series
# they touch (label sets are small closed sets, and these series are never removed).
@cache
def _consumed(topic: str, source: str) -> tuple[Counter, Gauge]:
    return EVENTS_CONSUMED.labels(topic=topic, source=source), LAST_EVENT_TIMESTAMP.labels(
        source=source
    )


@cache
def _signal(signal: str) -> Counter:
    return SIGNALS.labels(signal=signal)


def record_consumed(topic: str, source: str, count: int = 1) -> None:
    """Count consumed records and stamp the source as alive, so both move together."""
    consumed, last_seen = _consumed(topic, source)
    consumed.inc(count)
    last_seen.set(time.time())


def count_signals(signals: Iterable[str]) -> None:
    """One increment per signal an event was tagged with."""
    for signal in signals:
        _signal(signal).inc()


_lag_series: set[tuple[str, str]] = set()


def set_consumer_lag(lags: Mapping[tuple[str, int], int]) -> None:
    """Publish the lag of the partitions this worker owns now, (topic, partition) -> messages.

    A negative lag (end offset read before the position moved) counts as 0. Partitions revoked
    by a rebalance are removed, or their last lag would stay on this worker's /metrics forever
    and be counted twice next to the new owner's.
    """
    current = {(topic, str(partition)) for topic, partition in lags}
    for topic, partition in _lag_series - current:
        CONSUMER_LAG.remove(topic, partition)
    for (topic, partition), lag in lags.items():
        CONSUMER_LAG.labels(topic=topic, partition=str(partition)).set(max(lag, 0))
    _lag_series.clear()
    _lag_series.update(current)


def render_metrics() -> tuple[bytes, str]:
    """The exposition body and its content type, for any web framework's response."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


async def metrics_handler(request: web.Request) -> web.Response:
    """aiohttp handler for `/metrics` on the worker's web port (faust's web server or our own)."""
    body, content_type = render_metrics()
    return web.Response(body=body, headers={"Content-Type": content_type})


def start_metrics_server(port: int, addr: str = "0.0.0.0") -> WSGIServer:
    """Serve `/metrics` from a background thread, for processes without a web server.

    Returns the server so the caller can read the bound port (pass 0 for any free port) and
    call `shutdown()` on exit.
    """
    server, _thread = start_http_server(port, addr=addr, registry=REGISTRY)
    return server
