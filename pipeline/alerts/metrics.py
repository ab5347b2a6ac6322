"""Prometheus metrics of the alert service."""

from prometheus_client import Counter, Gauge

ALERTS_TOTAL = Counter(
    "salesradar_alerts",
    "Alert attempt outcomes by channel and status (sent, failed, queued, deferred, dead).",
    ["channel", "status"],
)
ALERTS_QUEUED = Gauge(
    "salesradar_alerts_queued",
    "Alerts waiting for a rate-limit slot, a retry or the end of quiet hours.",
)
