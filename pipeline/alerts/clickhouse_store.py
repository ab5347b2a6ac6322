"""Alert dedup state backed by the `alerts` table, so it survives restarts and rebalances.

A key is "seen" once ClickHouse holds a final outcome (sent or dead) for that alert id. Keys
marked by this process are also kept in memory, which covers the second or so before the sink
has written the record.
"""

from __future__ import annotations

from pipeline.clickhouse import ClickHouseBackend

FINAL_STATUSES = ("sent", "dead")


class ClickHouseAlertStateStore:
    def __init__(self, backend: ClickHouseBackend) -> None:
        self._backend = backend
        self._marked: set[str] = set()

    def seen(self, alert_key: str) -> bool:
        if alert_key in self._marked:
            return True
        rows = self._backend.query_rows(
            "SELECT 1 AS hit FROM alerts WHERE alert_id = {k:String} "
            "AND has({final:Array(String)}, status) LIMIT 1",
            {"k": alert_key, "final": list(FINAL_STATUSES)},
        )
        if rows:
            self._marked.add(alert_key)
        return bool(rows)

    def mark(self, alert_key: str) -> None:
        self._marked.add(alert_key)
