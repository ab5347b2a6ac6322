"""The server backend: clickhouse-connect over HTTP(S) to a ClickHouse server or cluster."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from pipeline.clickhouse.errors import ClickHouseError, ClickHouseUnavailable
from pipeline.clickhouse.settings import dedup_settings
from pipeline.clickhouse.sql_text import check_identifier


def _to_utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, list | tuple):
        return [_to_utc(item) for item in value]
    return value


def _parse_datetime(value: Any) -> Any:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _parse_date(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(value) if isinstance(value, str) else value


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="backslashreplace")
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    if isinstance(value, bool):
        return int(value)
    return value


def native_coercer(type_name: str) -> Callable[[Any], Any]:
    """Python value -> what clickhouse-connect's Native writer expects for `type_name`."""
    base = type_name.removeprefix("Nullable(").removeprefix("LowCardinality(")
    if base.startswith("DateTime"):
        return lambda value: None if value is None else _parse_datetime(value)
    if base.startswith("Date"):
        return lambda value: None if value is None else _parse_date(value)
    if base.startswith("Array(") and "DateTime" in base:
        return lambda value: [_parse_datetime(item) for item in value]
    return _plain


def _classify(error: Exception) -> ClickHouseError:
    from clickhouse_connect.driver.exceptions import OperationalError

    if isinstance(error, OperationalError | OSError | TimeoutError):
        return ClickHouseUnavailable(str(error).strip())
    return ClickHouseError(str(error).strip())


class ServerBackend:
    """clickhouse-connect client; thread-safe through one lock (a client is one HTTP session).

    `url`: http(s)://user:password@host:port/database. Async inserts are off: the sink batches,
    and an acknowledged insert must mean the rows are stored.
    """

    def __init__(
        self,
        url: str,
        *,
        compress: bool | str = True,
        connect_timeout: float = 10,
        send_receive_timeout: float = 300,
    ) -> None:
        import clickhouse_connect

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"ClickHouse URL must be http(s)://host[:port][/db], got {url!r}")
        secure = parts.scheme == "https"
        self._lock = threading.Lock()
        self._column_types: dict[str, dict[str, str]] = {}
        try:
            self._client = clickhouse_connect.get_client(
                host=parts.hostname,
                port=parts.port or (8443 if secure else 8123),
                username=unquote(parts.username or "default"),
                password=unquote(parts.password or ""),
                database=parts.path.strip("/") or "default",
                secure=secure,
                compress=compress,
                connect_timeout=connect_timeout,
                send_receive_timeout=send_receive_timeout,
                settings={"async_insert": 0},
            )
        except Exception as error:
            raise _classify(error) from error

    def command(self, sql: str, settings: Mapping[str, Any] | None = None) -> None:
        """Run DDL or any statement whose result is not needed."""
        with self._lock:
            try:
                self._client.command(sql, settings=dict(settings or {}))
            except Exception as error:
                raise _classify(error) from error

    def query_rows(
        self, sql: str, parameters: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Rows as dicts, datetimes aware in UTC; `{name:Type}` bound server-side."""
        with self._lock:
            try:
                result = self._client.query(sql, parameters=dict(parameters or {}))
                rows = list(result.named_results())
            except Exception as error:
                raise _classify(error) from error
        return [{name: _to_utc(value) for name, value in row.items()} for row in rows]

    def _types_of(self, table: str, columns: Sequence[str]) -> dict[str, str]:
        """Column types, cached; described again when a column is new (a migration added it)."""
        cached = self._column_types.get(table)
        if cached is None or any(name not in cached for name in columns):
            described = self._client.query(f"DESCRIBE TABLE {table}")
            self._column_types[table] = {
                row["name"]: row["type"] for row in described.named_results()
            }
        return self._column_types[table]

    def insert_rows(
        self,
        table: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        dedup_token: str | None = None,
    ) -> None:
        """Insert rows in Native format; every row of a batch must carry the same columns."""
        check_identifier(table)
        if not rows:
            return
        settings = dedup_settings(dedup_token)
        with self._lock:
            try:
                columns = list(rows[0])
                types = self._types_of(table, columns)
            except Exception as error:
                raise _classify(error) from error
            unknown = [name for name in columns if name not in types]
            if unknown:
                raise ClickHouseError(f"{table} has no columns {unknown}")
            coercers = [native_coercer(types[name]) for name in columns]
            data = []
            for number, row in enumerate(rows):
                if len(row) != len(columns) or any(name not in row for name in columns):
                    raise ClickHouseError(
                        f"row {number} for {table} has columns {sorted(row)}, expected {columns}"
                    )
                data.append(
                    [coerce(row[name]) for coerce, name in zip(coercers, columns, strict=True)]
                )
            try:
                self._client.insert(table, data, column_names=columns, settings=settings)
            except Exception as error:
                raise _classify(error) from error

    def close(self) -> None:
        """Close the HTTP connection pool."""
        with self._lock:
            self._client.close()
