"""Which alerts went out already: one alert per breach per stage, also across restarts."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol

import orjson

log = logging.getLogger(__name__)


class AlertStateStore(Protocol):
    """Keys are AlertRecord.alert_id values; marked once an alert reached a final outcome."""

    def seen(self, alert_key: str) -> bool: ...

    def mark(self, alert_key: str) -> None: ...


class InMemoryAlertStateStore:
    """For tests and one-shot runs: forgets everything on exit."""

    def __init__(self) -> None:
        self._keys: set[str] = set()

    def seen(self, alert_key: str) -> bool:
        return alert_key in self._keys

    def mark(self, alert_key: str) -> None:
        self._keys.add(alert_key)


class JsonFileAlertStateStore:
    """An append-only file of JSON strings, one key a line, fsynced on every mark.

    Appending keeps a mark O(1); a line torn by a crash is skipped on load (the alert it
    stood for may then go out once more, which beats never going out).
    """

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._keys: set[str] = set()
        self._torn_tail = False
        if self._path.exists():
            self._load()
        else:
            self._path.parent.mkdir(parents=True, exist_ok=True)

    def _load(self) -> None:
        data = self._path.read_bytes()
        self._torn_tail = bool(data) and not data.endswith(b"\n")
        for number, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                key = orjson.loads(line)
            except orjson.JSONDecodeError:
                log.warning("%s:%d: unreadable alert key line skipped", self._path, number)
                continue
            if isinstance(key, str):
                self._keys.add(key)

    def seen(self, alert_key: str) -> bool:
        return alert_key in self._keys

    def mark(self, alert_key: str) -> None:
        if alert_key in self._keys:
            return
        with self._path.open("ab") as handle:
            if self._torn_tail:
                handle.write(b"\n")
                self._torn_tail = False
            handle.write(orjson.dumps(alert_key) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._keys.add(alert_key)
