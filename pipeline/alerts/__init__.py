"""Alerts to managers where they already work: WeCom and DingTalk, with a management hint."""

from schemas.alerts import AlertRecord, RepContact

from .config import AlertConfig, AlertConfigError, load_alert_config
from .service import AlertService, alert_id
from .store import AlertStateStore, InMemoryAlertStateStore, JsonFileAlertStateStore

__all__ = [
    "AlertConfig",
    "AlertConfigError",
    "AlertRecord",
    "AlertService",
    "AlertStateStore",
    "InMemoryAlertStateStore",
    "JsonFileAlertStateStore",
    "RepContact",
    "alert_id",
    "load_alert_config",
]
