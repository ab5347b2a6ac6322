"""ClickHouse storage: two backends (chDB embedded, clickhouse-connect server), one SQL."""

from __future__ import annotations

from pathlib import Path

from pipeline.clickhouse.directory import load_rep_directory
from pipeline.clickhouse.embedded import EmbeddedBackend
from pipeline.clickhouse.errors import ClickHouseError, ClickHouseUnavailable, MigrationError
from pipeline.clickhouse.migrations import DEFAULT_SETTINGS_VARS, DEFAULT_SQL_DIR, migrate
from pipeline.clickhouse.protocol import ClickHouseBackend
from pipeline.clickhouse.server import ServerBackend

__all__ = [
    "DEFAULT_SETTINGS_VARS",
    "DEFAULT_SQL_DIR",
    "ClickHouseBackend",
    "ClickHouseError",
    "ClickHouseUnavailable",
    "EmbeddedBackend",
    "MigrationError",
    "ServerBackend",
    "load_rep_directory",
    "migrate",
    "open_backend",
]


def open_backend(url_or_path: str) -> ClickHouseBackend:
    """`http(s)://user:pass@host:port/db` -> server; `chdb:///dir` or a plain path -> embedded."""
    if url_or_path.startswith(("http://", "https://")):
        return ServerBackend(url_or_path)
    if url_or_path.startswith("chdb://"):
        path = url_or_path.removeprefix("chdb://")
        if not path:
            raise ValueError("chdb:// needs a directory, e.g. chdb:///var/lib/salesradar")
        return EmbeddedBackend(Path(path))
    if "://" in url_or_path:
        raise ValueError(
            f"unsupported ClickHouse address {url_or_path!r}: use http(s):// or chdb://"
        )
    return EmbeddedBackend(Path(url_or_path))
