"""Replaying the same input leaves every table and rollup unchanged.

The second run is a new broker and a new sink group, so insert dedup tokens differ: only the
sink's natural-key dedup (pipeline/sink/dedup.py) stands between a replay and double counts.
"""

from __future__ import annotations

from pathlib import Path

from agents.runner import run_embedded
from pipeline.identity import Directory
from pipeline.runtime import Runtime
from pipeline.settings import load_settings
from tests.integration.test_pipeline_e2e import DIRECTORY, RAW

COUNTS = {
    "events": "SELECT count() AS n FROM events",
    "signals": "SELECT count() AS n FROM signals",
    "heatmap": "SELECT sum(signal_count) AS n FROM signal_heatmap_agg",
    "latency_samples": "SELECT count() AS n FROM latency_samples",
    "latency_daily": "SELECT sum(samples) AS n FROM latency_daily_agg",
    "breaches": "SELECT count() AS n FROM breaches",
    "breach_daily": "SELECT uniqExactMerge(breach_ids) AS n FROM breach_daily_agg",
    "activity": "SELECT count() AS n FROM rep_activity_daily",
    "dead_letters": "SELECT count() AS n FROM dead_letters",
}


def _run_and_count(root: Path) -> dict[str, int]:
    settings = load_settings(db_dir=root / "db", table_dir=root / "tables")
    directory = Directory.from_toml(DIRECTORY, "replay-directory")
    _, backend, _ = run_embedded(
        settings, RAW, lambda s: Runtime.from_settings(s, directory=directory)
    )
    try:
        return {name: int(backend.query_rows(sql)[0]["n"] or 0) for name, sql in COUNTS.items()}
    finally:
        backend.close()


def test_the_same_input_twice_changes_no_table_and_no_rollup(tmp_path: Path) -> None:
    first = _run_and_count(tmp_path)
    assert first["events"] == 3 and first["dead_letters"] == 2 and first["breaches"] == 1
    assert first["heatmap"] == first["signals"] > 0
    second = _run_and_count(tmp_path)
    assert second == first
