"""Kubernetes manifests parse and hang together: names, labels, probes, volumes, settings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
MANIFEST_FILES = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
DOCS = [doc for path in MANIFEST_FILES for doc in yaml.safe_load_all(path.read_text()) if doc]
#: ConfigMaps the operator creates from files (docs/operations.md, Kubernetes).
USER_CREATED = {"salesradar-files", "salesradar-kafka-scripts"}
SETTINGS_ENV = set((ROOT / "deploy" / "settings-env.txt").read_text().split())


def _one(kind: str, name: str) -> dict:
    matches = [d for d in DOCS if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, (kind, name)
    return matches[0]


def _pod_specs() -> list[tuple[str, dict]]:
    """(owner name, pod spec) of every workload."""
    return [
        (d["metadata"]["name"], d["spec"]["template"]["spec"])
        for d in DOCS
        if d["kind"] in {"StatefulSet", "Deployment", "Job"}
    ]


@pytest.mark.parametrize("path", MANIFEST_FILES, ids=lambda p: p.name)
def test_every_manifest_parses_and_names_its_kind(path: Path) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    assert docs
    for doc in docs:
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"]
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "salesradar"


def test_kustomization_lists_existing_files_and_never_the_example_secret() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (K8S / resource).is_file(), resource
    assert "secret.example.yaml" not in kustomization["resources"]
    assert kustomization["namespace"] == "salesradar"


def test_worker_statefulset_keeps_table_state_on_a_claim() -> None:
    sts = _one("StatefulSet", "salesradar-worker")
    claims = {c["metadata"]["name"] for c in sts["spec"]["volumeClaimTemplates"]}
    container = sts["spec"]["template"]["spec"]["containers"][0]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    config = _one("ConfigMap", "salesradar-config")["data"]
    assert "table-state" in claims
    assert mounts["table-state"] == config["SALESRADAR_TABLE_DIR"]
    assert _one("Service", sts["spec"]["serviceName"])["spec"]["clusterIP"] == "None"


def test_worker_probes_resources_and_port() -> None:
    sts = _one("StatefulSet", "salesradar-worker")
    container = sts["spec"]["template"]["spec"]["containers"][0]
    web_port = int(_one("ConfigMap", "salesradar-config")["data"]["SALESRADAR_WEB_PORT"])
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"web": web_port}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "web"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "web"}
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    annotations = sts["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(web_port)
    assert annotations["prometheus.io/path"] == "/metrics"


def test_workloads_reference_existing_config_and_secrets_only() -> None:
    available = {(d["kind"], d["metadata"]["name"]) for d in DOCS}
    for owner, spec in _pod_specs():
        for container in spec["containers"]:
            for source in container.get("envFrom", []):
                kind, ref = next(iter(source.items()))
                expected = "ConfigMap" if kind == "configMapRef" else "Secret"
                assert (expected, ref["name"]) in available, (owner, ref)
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                name = volume["configMap"]["name"]
                assert ("ConfigMap", name) in available or name in USER_CREATED, owner


def test_config_and_secret_keys_are_settings_and_the_password_is_secret() -> None:
    config = _one("ConfigMap", "salesradar-config")["data"]
    secret = _one("Secret", "salesradar-secrets")["stringData"]
    assert set(config) | set(secret) == SETTINGS_ENV
    assert not set(config) & set(secret)
    assert "SALESRADAR_CLICKHOUSE_URL" in secret
    assert "CHANGE_ME" in secret["SALESRADAR_CLICKHOUSE_URL"]
    sts = _one("StatefulSet", "salesradar-worker")
    mounts = {
        m["name"]: m["mountPath"]
        for m in sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    }
    files_volume = next(
        v for v in sts["spec"]["template"]["spec"]["volumes"] if v["name"] == "files"
    )
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    create_files = operations[operations.index("create configmap salesradar-files") :]
    for setting in (
        "SALESRADAR_TAXONOMY_FILE",
        "SALESRADAR_DIRECTORY_FILE",
        "SALESRADAR_ALERTS_FILE",
    ):
        path = Path(config[setting])
        assert str(path.parent) == mounts["files"]
        assert f"--from-file={path.name}=" in create_files
    assert files_volume["configMap"]["name"] == "salesradar-files"


def test_migration_job_runs_migrate() -> None:
    job = _one("Job", "salesradar-migrate")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["salesradar", "migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] in {"OnFailure", "Never"}


def test_services_and_pod_monitor_select_the_worker_pods() -> None:
    pod_labels = _one("StatefulSet", "salesradar-worker")["spec"]["template"]["metadata"]["labels"]
    for service in (d for d in DOCS if d["kind"] == "Service"):
        assert service["spec"]["selector"].items() <= pod_labels.items()
        assert all(p["targetPort"] == "web" for p in service["spec"]["ports"])
    monitor = _one("PodMonitor", "salesradar-worker")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    endpoint = monitor["spec"]["podMetricsEndpoints"][0]
    assert (endpoint["port"], endpoint["path"]) == ("web", "/metrics")
    assert endpoint["relabelings"][0]["replacement"] == "salesradar-worker"


def test_topic_job_uses_replication_factor_three() -> None:
    container = _one("Job", "salesradar-topics")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["REPLICATION_FACTOR"] == "3"
    assert container["image"].startswith("apache/kafka:")
