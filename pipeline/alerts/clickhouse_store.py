"""Alert dedup state backed by the `alerts` table, so it survives restarts and rebalances.

A key is "seen" once ClickHouse holds a final outcome (sent or dead) for that alert id. The
ids are read once when the store opens (one query, not one per alert: alerts arrive in bursts
of thousands on a backlog) and kept in memory with every id marked since. A worker that takes
over a partition mid-run re-reads them when it starts; alerts another worker finalises after
that are not seen here, which at worst repeats an alert after a rebalance, never loses one.
"""

from __future__ import annotations

from pipeline.clickhouse import ClickHouseBackend

FINAL_STATUSES = ("sent", "dead")
#: How far back dedup looks: escalations end within days, so older ids cannot come back.
LOOKBACK_DAYS = 30


class ClickHouseAlertStateStore:
    def __init__(self, backend: ClickHouseBackend) -> None:
        rows = backend.query_rows(
            "SELECT DISTINCT alert_id FROM alerts WHERE has({final:Array(String)}, status) "
            "AND created_at >= now() - toIntervalDay({days:UInt32})",
            {"final": list(FINAL_STATUSES), "days": LOOKBACK_DAYS},
        )
        self._keys: set[str] = {row["alert_id"] for row in rows}

    def seen(self, alert_key: str) -> bool:
        return alert_key in self._keys

    def mark(self, alert_key: str) -> None:
        self._keys.add(alert_key)
