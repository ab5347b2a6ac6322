"""What the sink, the migration runner and the reports need from ClickHouse, whichever way in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class ClickHouseBackend(Protocol):
    def command(self, sql: str, settings: Mapping[str, Any] | None = None) -> None:
        """Run a statement whose result is not needed (DDL, INSERT ... SELECT)."""

    def query_rows(
        self, sql: str, parameters: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Rows as dicts; `{name:Type}` placeholders bound from `parameters`."""

    def insert_rows(
        self,
        table: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        dedup_token: str | None = None,
    ) -> None:
        """Insert JSON-able dicts (datetimes aware, or ISO strings with 'Z').

        With dedup_token, sets insert_deduplication_token and
        deduplicate_blocks_in_dependent_materialized_views=1 so a retried batch is a no-op.
        Raises ClickHouseUnavailable on connection errors (retryable), ClickHouseError otherwise.
        """

    def close(self) -> None:
        """Release the connection or the embedded data directory."""
