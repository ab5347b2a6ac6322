"""Which ClickHouse a command talks to: flags first, then the environment."""

from __future__ import annotations

import os

URL_ENV = "SALESRADAR_CLICKHOUSE_URL"
DB_DIR_ENV = "SALESRADAR_DB_DIR"


def resolve_target(db_dir: str | None = None, clickhouse_url: str | None = None) -> str:
    """A value for open_backend(): --db / --clickhouse-url, else the environment.

    Refuses both at once rather than silently preferring one.
    """
    if db_dir and clickhouse_url:
        raise ValueError("give either --db or --clickhouse-url, not both")
    if db_dir or clickhouse_url:
        return db_dir or clickhouse_url or ""
    url = os.environ.get(URL_ENV, "").strip()
    path = os.environ.get(DB_DIR_ENV, "").strip()
    if url:
        return url
    if path:
        return path
    raise ValueError(
        "no ClickHouse given: use --db DIR or --clickhouse-url URL, "
        f"or set {URL_ENV} or {DB_DIR_ENV}"
    )
