"""docker-compose.yml and the worker image, checked by parsing (no Docker engine here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
SETTINGS_ENV = (ROOT / "deploy" / "settings-env.txt").read_text(encoding="utf-8").split()
ENV_NAME = re.compile(r"\bSALESRADAR_[A-Z0-9_]+\b")
ONE_SHOT = {"kafka-topics", "migrate"}
DEFAULT_TOPICS = {
    "salesradar.raw.wecom",
    "salesradar.raw.dingtalk",
    "salesradar.raw.crm",
    "salesradar.raw.email",
    "salesradar.repartition",
    "salesradar.events",
    "salesradar.latency",
    "salesradar.alerts",
    "salesradar.dlq",
}


def _env(service: str) -> dict[str, str | None]:
    """Compose accepts a list (NAME=value or bare NAME passed through) or a mapping."""
    raw = SERVICES[service].get("environment", {})
    if isinstance(raw, dict):
        return {k: None if v is None else str(v) for k, v in raw.items()}
    return {item.partition("=")[0]: item.partition("=")[2] or None for item in raw}


def test_the_stack_has_every_service() -> None:
    assert set(SERVICES) >= {
        "kafka",
        "kafka-topics",
        "clickhouse",
        "migrate",
        "worker",
        "prometheus",
        "grafana",
    }


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_images_are_pinned(service: str) -> None:
    image = SERVICES[service]["image"]
    name, _, tag = image.rpartition(":")
    assert name and tag and tag != "latest", image
    assert re.search(r"\d", tag), f"{service}: tag {tag!r} is not a version"


def test_broker_is_apache_kafka_in_kraft_mode() -> None:
    kafka = SERVICES["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    roles = kafka["environment"]["KAFKA_PROCESS_ROLES"]
    assert set(roles.split(",")) == {"broker", "controller"}
    assert "zookeeper" not in (ROOT / "docker-compose.yml").read_text().lower()
    assert SERVICES["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:")


@pytest.mark.parametrize("service", sorted(set(SERVICES) - ONE_SHOT))
def test_long_running_services_have_healthchecks_and_restart(service: str) -> None:
    spec = SERVICES[service]
    test = spec["healthcheck"]["test"]
    assert test[0] in {"CMD", "CMD-SHELL"} and len(test) > 1
    assert spec["restart"] == "unless-stopped"


@pytest.mark.parametrize("service", sorted(ONE_SHOT))
def test_one_shot_jobs_do_not_restart(service: str) -> None:
    assert SERVICES[service]["restart"] == "no"


def test_workers_start_after_topics_and_migrations_and_can_scale() -> None:
    worker = SERVICES["worker"]
    assert worker["depends_on"]["kafka-topics"]["condition"] == "service_completed_successfully"
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert SERVICES["migrate"]["depends_on"]["clickhouse"]["condition"] == "service_healthy"
    assert worker["command"] == ["salesradar", "worker"]
    assert SERVICES["migrate"]["command"] == ["salesradar", "migrate"]
    assert "replicas" in worker["deploy"]
    # a fixed container name or host port would make `--scale worker=N` fail
    assert "container_name" not in worker and "ports" not in worker


def test_workers_get_every_setting_and_real_endpoints() -> None:
    env = _env("worker")
    assert set(env) == set(SETTINGS_ENV)
    assert env["SALESRADAR_BROKER_URL"] == "kafka://kafka:9092"
    assert env["SALESRADAR_CLICKHOUSE_URL"].startswith("http://default:")
    assert env["SALESRADAR_CLICKHOUSE_URL"].endswith("@clickhouse:8123/salesradar")
    assert _env("migrate") == env


def test_every_salesradar_env_name_in_deploy_files_is_a_setting() -> None:
    files = [ROOT / "docker-compose.yml"] + [p for p in (ROOT / "deploy").rglob("*") if p.is_file()]
    used = {
        (name, path.relative_to(ROOT).as_posix())
        for path in files
        for name in ENV_NAME.findall(path.read_text(encoding="utf-8"))
    }
    unknown = sorted(pair for pair in used if pair[0] not in SETTINGS_ENV)
    assert not unknown
    assert {name for name, _ in used} == set(SETTINGS_ENV)


def test_settings_env_list_is_clean() -> None:
    assert len(SETTINGS_ENV) == len(set(SETTINGS_ENV))
    assert all(ENV_NAME.fullmatch(name) for name in SETTINGS_ENV)


def test_named_volumes_are_declared_and_bind_mounts_exist() -> None:
    declared = set(COMPOSE["volumes"])
    for name, spec in SERVICES.items():
        for volume in spec.get("volumes", []):
            source, _, _target = volume.partition(":")
            if source.startswith("./"):
                if source != "./config":  # user's own configuration, may be empty
                    assert (ROOT / source).exists(), f"{name}: {source}"
            elif ":" in volume:
                assert source in declared, f"{name}: {source}"


def test_topic_job_creates_the_default_topics_with_partitions() -> None:
    script = (ROOT / "deploy" / "kafka" / "create-topics.sh").read_text(encoding="utf-8")
    specs = dict(re.findall(r"(salesradar\.[a-z.]+):(\d+)", script))
    assert set(specs) == DEFAULT_TOPICS
    assert int(specs["salesradar.events"]) >= 12
    assert int(specs["salesradar.latency"]) == int(specs["salesradar.events"])
    # co-partitioned with the conversation table: one count, the worker's setting
    inputs = {name: int(n) for name, n in specs.items() if ".raw." in name or "repartition" in name}
    assert set(inputs.values()) == {int(_env("worker")["SALESRADAR_TOPIC_PARTITIONS"])}
    assert "--if-not-exists" in script
    mount = SERVICES["kafka-topics"]["volumes"][0].split(":")
    assert Path(mount[0]).name == "create-topics.sh"
    assert SERVICES["kafka-topics"]["entrypoint"][-1] == mount[1]


def test_prometheus_scrapes_the_worker_web_port() -> None:
    port = int(_env("worker")["SALESRADAR_WEB_PORT"])
    assert str(port) in SERVICES["worker"]["expose"]
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    job = next(j for j in prometheus["scrape_configs"] if j["job_name"] == "salesradar-worker")
    assert job["dns_sd_configs"][0] == {
        "names": ["worker"],
        "type": "A",
        "port": port,
        "refresh_interval": "30s",
    }
    assert f"localhost:{port}/healthz" in " ".join(SERVICES["worker"]["healthcheck"]["test"])


def test_grafana_mounts_provisioning_and_installs_the_clickhouse_plugin() -> None:
    grafana = SERVICES["grafana"]
    assert "grafana-clickhouse-datasource" in grafana["environment"]["GF_PLUGINS_PREINSTALL_SYNC"]
    targets = {v.split(":")[1] for v in grafana["volumes"]}
    assert "/etc/grafana/provisioning" in targets
    provider = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/dashboards/salesradar.yml").read_text()
    )
    assert provider["providers"][0]["options"]["path"] in targets


def test_worker_image_is_python_311_slim_and_installs_the_project() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.MULTILINE)
    assert re.search(r"^RUN pip install \.", dockerfile, re.MULTILINE)
    assert "EXPOSE 6066" in dockerfile
    for copied in re.findall(r"^COPY (\S+)", dockerfile, re.MULTILINE):
        assert copied in {"pyproject.toml", "pipeline", "agents", "schemas"}
    build = SERVICES["worker"]["build"]
    assert (ROOT / build["context"] / build["dockerfile"]).resolve() == (
        ROOT / "deploy" / "Dockerfile"
    )


def _compose_value(value: str) -> str:
    """What compose substitutes when the variable is not set: `${NAME:-default}` -> default."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def test_settings_env_names_are_fields_of_the_settings_object() -> None:
    fields = {f"SALESRADAR_{name.upper()}" for name in Settings.model_fields}
    assert set(SETTINGS_ENV) <= fields, set(SETTINGS_ENV) - fields


def test_compose_worker_environment_is_accepted_by_the_settings_object() -> None:
    values = {
        name.removeprefix("SALESRADAR_").lower(): _compose_value(value)
        for name, value in _env("worker").items()
        if value is not None
    }
    settings = Settings(**values)
    assert settings.bootstrap_servers == "kafka:9092"
    assert settings.web_port == 6066
    assert settings.log_json is True
    assert str(settings.table_dir) == "/var/lib/salesradar"
    assert settings.taxonomy_file is None  # pass-through names stay unset unless given


def test_kubernetes_settings_are_accepted_by_the_settings_object() -> None:
    docs = [
        doc
        for path in (ROOT / "deploy" / "k8s").glob("*.yaml")
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc["kind"] in {"ConfigMap", "Secret"}
    ]
    values = {
        name.removeprefix("SALESRADAR_").lower(): value
        for doc in docs
        for name, value in (doc.get("data") or doc.get("stringData") or {}).items()
        if name.startswith("SALESRADAR_")
    }
    settings = Settings(**values)
    assert settings.bootstrap_servers.count(",") == 2  # three brokers
    assert str(settings.alerts_file) == "/etc/salesradar/alerts.toml"
