"""Rep -> team mapping for the team-level PHI views, filled from the identity directory."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pipeline.clickhouse.protocol import ClickHouseBackend

_COLUMNS = ("tenant", "rep_id", "name", "team", "manager")


def load_rep_directory(backend: ClickHouseBackend, rows: Iterable[Mapping[str, Any]]) -> int:
    """Upsert reps into `rep_directory` (latest load wins per tenant and rep); returns the count.

    Each row needs `rep_id`; `tenant` defaults to 'default', name/team/manager to ''.
    """
    prepared = []
    for number, row in enumerate(rows, start=1):
        rep_id = str(row.get("rep_id") or "").strip()
        if not rep_id:
            raise ValueError(f"rep directory row {number} has no rep_id")
        unknown = set(row) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"rep directory row {number} has unknown fields {sorted(unknown)}")
        prepared.append(
            {
                "tenant": str(row.get("tenant") or "default"),
                "rep_id": rep_id,
                "name": str(row.get("name") or ""),
                "team": str(row.get("team") or ""),
                "manager": str(row.get("manager") or ""),
            }
        )
    backend.insert_rows("rep_directory", prepared)
    return len(prepared)
