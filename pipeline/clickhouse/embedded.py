"""The embedded backend: chDB (ClickHouse in-process) on a persistent data directory."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from pipeline.clickhouse.decode import decoder_for
from pipeline.clickhouse.errors import ClickHouseError, ClickHouseUnavailable
from pipeline.clickhouse.rows import to_json_each_row
from pipeline.clickhouse.settings import dedup_settings, format_parameter, render_settings
from pipeline.clickhouse.sql_text import check_identifier

#: best_effort reads ISO strings with 'Z'; an unknown column is an error, never dropped silently.
_INSERT_SETTINGS = {"date_time_input_format": "best_effort", "input_format_skip_unknown_fields": 0}


class EmbeddedBackend:
    """chDB session on `path`; one lock because a chDB session is not re-entrant.

    chDB calls block the calling thread: async callers should run them in an executor.
    Only one process may open a given directory, and one directory per process at a time.
    """

    def __init__(self, path: Path) -> None:
        from chdb import session  # imported here so server-only deployments need no chDB

        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._session: Any = session.Session(str(self.path))
        except Exception as error:  # chDB raises plain RuntimeError when the dir is busy
            raise ClickHouseUnavailable(f"cannot open chDB at {self.path}: {error}") from error

    def _run(self, sql: str, fmt: str = "CSV", params: Mapping[str, Any] | None = None) -> Any:
        with self._lock:
            if self._session is None:
                raise ClickHouseUnavailable(f"chDB session at {self.path} is closed")
            try:
                if params:
                    text_params = {name: format_parameter(v) for name, v in params.items()}
                    return self._session.query(sql, fmt, params=text_params)
                return self._session.query(sql, fmt)
            except Exception as error:
                raise ClickHouseError(str(error).strip()) from error

    def command(self, sql: str, settings: Mapping[str, Any] | None = None) -> None:
        """Run DDL or any statement whose result is not needed."""
        if settings:
            sql = f"{sql.rstrip().rstrip(';')} SETTINGS {render_settings(dict(settings))}"
        self._run(sql)

    def query_rows(
        self, sql: str, parameters: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Rows as dicts; `{name:Type}` placeholders are bound from `parameters` server-side."""
        result = self._run(sql, "JSONCompactEachRowWithNamesAndTypes", parameters)
        lines = result.bytes().splitlines()
        if len(lines) < 2:
            return []
        names = orjson.loads(lines[0])
        decoders = [decoder_for(type_name) for type_name in orjson.loads(lines[1])]
        rows = []
        for line in lines[2:]:
            values = orjson.loads(line)
            rows.append(
                {
                    name: decode(value)
                    for name, decode, value in zip(names, decoders, values, strict=True)
                }
            )
        return rows

    def insert_rows(
        self,
        table: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        dedup_token: str | None = None,
    ) -> None:
        """Insert rows as JSONEachRow; omitted columns take their DEFAULT."""
        check_identifier(table)
        if not rows:
            return
        settings = {**_INSERT_SETTINGS, **dedup_settings(dedup_token)}
        try:
            body = to_json_each_row(rows)
        except TypeError as error:
            raise ClickHouseError(f"rows for {table} are not storable: {error}") from error
        header = f"INSERT INTO {table} SETTINGS {render_settings(settings)} FORMAT JSONEachRow\n"
        self._run(header + body.decode("utf-8"))

    def close(self) -> None:
        """Release the directory so another backend (or process) can open it."""
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None
