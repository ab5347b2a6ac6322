"""Prometheus metrics of the alert service."""

from prometheus_client import Counter

ALERTS_TOTAL = Counter(
    "salesradar_alerts",
    "Alert attempt outcomes by channel and status (sent, failed, queued, deferred, dead).",
    ["channel", "status"],
)
