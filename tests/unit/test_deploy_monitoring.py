"""Prometheus rules and Grafana provisioning refer to metrics, tables and datasources that exist."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest
import yaml
from prometheus_client import REGISTRY

import pipeline.alerts.metrics  # noqa: F401  (registers the alert metrics)
import pipeline.metrics  # noqa: F401  (registers the worker metrics)
from pipeline.clickhouse import EmbeddedBackend, migrate
from pipeline.dead_letter_codes import REPARTITION_SOURCE, SINK_SOURCE, STATE_SOURCE
from schemas.alerts import AlertStatus

ROOT = Path(__file__).resolve().parents[2]
RULES = yaml.safe_load((ROOT / "deploy/prometheus/rules/salesradar.yml").read_text())
ALL_RULES = [rule for group in RULES["groups"] for rule in group["rules"]]
DASHBOARDS = sorted((ROOT / "deploy/grafana/dashboards").glob("*.json"))
DATASOURCES = yaml.safe_load(
    (ROOT / "deploy/grafana/provisioning/datasources/salesradar.yml").read_text()
)["datasources"]
OPERATIONS = (ROOT / "docs/operations.md").read_text(encoding="utf-8")
METRIC_NAME = re.compile(r"\bsalesradar_[a-z0-9_]+")

#: Agreed with the alert service (pipeline/alerts/metrics.py) but not registered by it yet.
AGREED_ALERT_SERIES = {"salesradar_alerts_queued"}
ALERT_STATUSES = set(get_args(AlertStatus))
#: The ClickHouse tables and views BI reads (created by the migrations in sql/).
BI_RELATIONS = {
    "signal_heatmap_agg",
    "latency_daily",
    "breaches_current",
    "phi_weekly_rep",
    "phi_weekly_team",
}


def _worker_series() -> set[str]:
    """Every series name the worker exposes, with the suffixes Prometheus adds per type."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    return {
        family.name + suffix
        for family in REGISTRY.collect()
        if family.name.startswith("salesradar_")
        for suffix in suffixes.get(family.type, ())
    }


KNOWN_SERIES = _worker_series() | AGREED_ALERT_SERIES


def _targets(dashboard: dict) -> list[dict]:
    return [target for panel in dashboard["panels"] for target in panel["targets"]]


def _headings_as_anchors(markdown: str) -> set[str]:
    return {
        re.sub(r"[^a-z0-9 _-]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in markdown.splitlines()
        if line.startswith("#")
    }


def test_worker_series_cover_every_metric_family() -> None:
    assert {
        "salesradar_events_consumed_total",
        "salesradar_sink_insert_seconds_bucket",
        "salesradar_open_waits",
    } <= KNOWN_SERIES


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r["alert"])
def test_rules_use_known_metrics_and_have_severity_summary_and_runbook(rule: dict) -> None:
    used = set(METRIC_NAME.findall(rule["expr"]))
    assert used or "up{" in rule["expr"]
    assert used <= KNOWN_SERIES, used - KNOWN_SERIES
    assert rule["labels"]["severity"] in {"warning", "critical"}
    assert rule["annotations"]["summary"]
    anchor = rule["annotations"]["runbook"].partition("#")[2]
    assert anchor in _headings_as_anchors(OPERATIONS), anchor


def test_alert_status_values_in_rules_and_dashboards_are_ones_the_service_records() -> None:
    texts = [rule["expr"] for rule in ALL_RULES] + [p.read_text() for p in DASHBOARDS]
    used = {value for text in texts for value in re.findall(r'status=\\?"(\w+)', text)}
    assert "dead" in used
    assert used <= ALERT_STATUSES


def test_required_alerts_exist() -> None:
    exprs = {rule["alert"]: rule["expr"] for rule in ALL_RULES}
    assert "salesradar_consumer_lag" in exprs["SalesradarConsumerLagGrowing"]
    assert "salesradar_dead_letters_total" in exprs["SalesradarDeadLetterRate"]
    assert "salesradar_sink_insert_failures_total" in exprs["SalesradarInsertFailures"]
    assert "salesradar_last_event_timestamp_seconds" in exprs["SalesradarNoEvents"]
    assert "salesradar_alerts_total" in exprs["SalesradarAlertsDeadLettered"]
    assert 'up{job="salesradar-worker"}' in exprs["SalesradarWorkerDown"]
    own = re.search(r'source=~"([^"]+)"', exprs["SalesradarPipelineDeadLetters"])
    assert own is not None
    assert set(own.group(1).split("|")) == {SINK_SOURCE, STATE_SOURCE, REPARTITION_SOURCE}


def test_prometheus_loads_the_rule_file_and_scrapes_the_job_the_rules_name() -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    mounted_at = "/etc/prometheus/"
    for pattern in config["rule_files"]:
        relative = pattern.removeprefix(mounted_at)
        assert list((ROOT / "deploy/prometheus").glob(relative)), pattern
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert "salesradar-worker" in jobs


def test_datasources_are_prometheus_and_clickhouse_with_stable_uids() -> None:
    by_type = {ds["type"]: ds for ds in DATASOURCES}
    assert set(by_type) == {"prometheus", "grafana-clickhouse-datasource"}
    clickhouse = by_type["grafana-clickhouse-datasource"]["jsonData"]
    assert (clickhouse["host"], clickhouse["port"], clickhouse["protocol"]) == (
        "clickhouse",
        8123,
        "http",
    )
    assert clickhouse["defaultDatabase"] == "salesradar"
    assert by_type["prometheus"]["url"] == "http://prometheus:9090"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboards_parse_and_reference_provisioned_datasources(path: Path) -> None:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    uids = {ds["uid"] for ds in DATASOURCES}
    panel_ids = [panel["id"] for panel in dashboard["panels"]]
    assert dashboard["uid"] and dashboard["title"]
    assert len(panel_ids) == len(set(panel_ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] in uids
        assert panel["targets"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] in uids


def test_dashboard_uids_are_unique() -> None:
    uids = [json.loads(p.read_text())["uid"] for p in DASHBOARDS]
    assert len(DASHBOARDS) == 2
    assert len(uids) == len(set(uids))


def test_pipeline_health_queries_only_known_metrics_and_shows_each_family() -> None:
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/pipeline-health.json").read_text())
    used = {name for t in _targets(dashboard) for name in METRIC_NAME.findall(t["expr"])}
    assert used <= KNOWN_SERIES, used - KNOWN_SERIES
    shown_families = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in used}
    all_families = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in KNOWN_SERIES}
    assert shown_families == all_families


def _as_plain_sql(grafana_sql: str, rep: str = "'__all__'", tenant: str = "default") -> str:
    """Replace Grafana variables and ClickHouse-plugin macros with literal SQL."""
    sql = re.sub(r"\$__timeFilter\((\w+)\)", r"\1 >= toDateTime(0)", grafana_sql)
    sql = sql.replace("$__fromTime", "toDateTime(0)").replace("$__toTime", "now()")
    sql = sql.replace("${tenant}", tenant).replace("${rep:singlequote}", rep)
    return sql.replace("${signal:singlequote}", "'quote', 'demo'")


def _panel_sql(title_start: str) -> str:
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/sales-process.json").read_text())
    panel = next(p for p in dashboard["panels"] if p["title"].startswith(title_start))
    return panel["targets"][0]["rawSql"]


@pytest.fixture(scope="module")
def migrated_clickhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBackend]:
    """The real schema from sql/, on chDB, so the dashboards' SQL meets real columns."""
    backend = EmbeddedBackend(tmp_path_factory.mktemp("chdb"))
    try:
        migrate(backend)
        yield backend
    finally:
        backend.close()


def test_sales_process_sql_runs_on_the_migrated_schema_and_reads_every_bi_relation(
    migrated_clickhouse: EmbeddedBackend,
) -> None:
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/sales-process.json").read_text())
    queries = [t["rawSql"] for t in _targets(dashboard)]
    queries += [v["query"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    read = set()
    for sql in queries:
        plain = _as_plain_sql(sql)
        assert "$" not in plain, plain
        assert isinstance(migrated_clickhouse.query_rows(plain), list)  # raises on a bad column
        read |= set(re.findall(r"\bFROM\s+(\w+)", plain))
    assert read == BI_RELATIONS


def test_heatmap_panel_counts_selected_signals_per_hour_and_weekday(
    migrated_clickhouse: EmbeddedBackend,
) -> None:
    rows = [  # (event, signal, rep, weekday, hour): 2026-11-02 is a Monday
        ("e1", "quote", "r1", "2026-11-02", 1, 9),
        ("e2", "demo", "r1", "2026-11-02", 1, 9),
        ("e3", "quote", "r2", "2026-11-03", 2, 9),
        ("e4", "payment", "r1", "2026-11-02", 1, 9),  # signal not selected
        ("e5", "quote", "r1", "2026-11-02", 1, 14),
    ]
    values = ", ".join(
        f"('heatmap', '{e}', '{sig}', '{rep}', '{day} 01:00:00', '{day}', {wd}, {hour})"
        for e, sig, rep, day, wd, hour in rows
    )
    migrated_clickhouse.command(
        "INSERT INTO signals (tenant, event_id, signal, rep_id, occurred_at, local_date, "
        f"local_weekday, local_hour) VALUES {values}"
    )
    heatmap = _panel_sql("Signal heatmap")
    every_rep = {
        r["hour"]: r
        for r in migrated_clickhouse.query_rows(_as_plain_sql(heatmap, tenant="heatmap"))
    }
    assert sorted(every_rep) == [9, 14]
    assert (every_rep[9]["Mon"], every_rep[9]["Tue"], every_rep[9]["Sun"]) == (2, 1, 0)
    assert every_rep[14]["Mon"] == 1
    only_r2 = migrated_clickhouse.query_rows(_as_plain_sql(heatmap, rep="'r2'", tenant="heatmap"))
    assert [(r["hour"], r["Mon"], r["Tue"]) for r in only_r2] == [(9, 0, 1)]
