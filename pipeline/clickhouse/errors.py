"""Errors the storage layer raises, split by what the caller should do about them."""

from __future__ import annotations


class ClickHouseError(Exception):
    """ClickHouse refused the statement (bad SQL, rows or schema): retrying will not help."""


class ClickHouseUnavailable(ClickHouseError):
    """ClickHouse could not be reached or timed out: the caller should retry with backoff."""


class MigrationError(ClickHouseError):
    """The migration history and the files in sql/ disagree, or a migration failed."""
