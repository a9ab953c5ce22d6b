"""Kubernetes manifests: every file parses and is listed by the kustomization, the objects have
what the issue asks for and reference each other consistently. With kubectl, the kustomization
is rendered for real; with kubernetes-validate, the rendered objects are checked strictly
against the Kubernetes API schemas."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from warmhandoff.streams.policy.loader import load_policy

from .deployfiles import K8S, TIMEOUT, k8s_object, k8s_objects, kustomization, kustomize_inputs


def container(pod_spec: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [c for c in pod_spec["containers"] if c["name"] == name]
    return found


def env_of(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in spec.get("env", [])}


def worker_pod() -> dict[str, Any]:
    template = k8s_object("StatefulSet", "warmhandoff-worker")["spec"]["template"]
    spec: dict[str, Any] = template["spec"]
    return spec


def test_every_object_has_api_version_kind_and_name() -> None:
    objects = k8s_objects()
    assert objects
    for path, obj in objects:
        assert obj.get("apiVersion"), path.name
        assert obj.get("kind"), path.name
        assert obj.get("metadata", {}).get("name"), path.name


def test_the_kustomization_lists_every_file_and_every_listed_file_exists() -> None:
    listed = set(kustomization()["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - kustomize_inputs()
    assert listed == on_disk
    for name in kustomize_inputs():
        assert (K8S / name).is_file(), name


def test_the_objects_the_issue_asks_for_are_there() -> None:
    kinds = {obj["kind"] for _, obj in k8s_objects()}
    assert {"StatefulSet", "Service", "Job", "ConfigMap", "PodMonitor", "PrometheusRule"} <= kinds
    assert "Secret" not in kinds, "secrets are referenced, never shipped"


def test_the_statefulset_keeps_rocksdb_state_on_a_volume_claim_template() -> None:
    statefulset = k8s_object("StatefulSet", "warmhandoff-worker")
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    worker = container(worker_pod(), "worker")
    data_dir = env_of(worker)["WARMHANDOFF_DATA_DIR"]["value"]
    mounts = {m["name"]: m for m in worker["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]]["mountPath"] == data_dir
    assert worker["args"] == ["worker"]
    assert statefulset["spec"]["serviceName"] == "warmhandoff-worker"


def test_the_statefulset_mounts_the_policy_config_map_where_the_setting_points() -> None:
    pod = worker_pod()
    worker = container(pod, "worker")
    policy_file = Path(env_of(worker)["WARMHANDOFF_POLICY_FILE"]["value"])
    volumes = {v["name"]: v for v in pod["volumes"]}
    (mount,) = [m for m in worker["volumeMounts"] if m["mountPath"] == str(policy_file.parent)]
    assert mount.get("readOnly") is True
    config_map = volumes[mount["name"]]["configMap"]["name"]
    (generator,) = [g for g in kustomization()["configMapGenerator"] if g["name"] == config_map]
    assert generator["files"] == [policy_file.name]


def test_the_policy_config_map_is_a_valid_policy() -> None:
    (generator,) = kustomization()["configMapGenerator"]
    policy = load_policy(K8S / generator["files"][0])
    assert policy.version


def test_probes_resources_and_a_non_root_user() -> None:
    pod = worker_pod()
    worker = container(pod, "worker")
    port_names = {p["name"]: p["containerPort"] for p in worker["ports"]}
    assert worker["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert worker["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert worker[probe]["httpGet"]["port"] in port_names
    assert str(port_names["http"]) == env_of(worker)["WARMHANDOFF_WEB_PORT"]["value"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(worker["resources"][kind])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert worker["securityContext"]["allowPrivilegeEscalation"] is False


def test_the_sasl_password_comes_from_a_secret_by_reference() -> None:
    for kind, name, container_name in (
        ("StatefulSet", "warmhandoff-worker", "worker"),
        ("Job", "warmhandoff-topics", "topics"),
    ):
        pod = k8s_object(kind, name)["spec"]["template"]["spec"]
        env = env_of(container(pod, container_name))
        ref = env["WARMHANDOFF_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert ref["name"] and ref["key"]
        assert "value" not in env["WARMHANDOFF_SASL_PASSWORD"]
    shared = k8s_object("ConfigMap", "warmhandoff-env")["data"]
    assert not any("PASSWORD" in key for key in shared)
    # SASL needs a SASL protocol, or the settings refuse to load.
    assert shared["WARMHANDOFF_SECURITY_PROTOCOL"].startswith("SASL_")


def test_the_topics_job_applies_topics_with_the_workers_settings() -> None:
    job = k8s_object("Job", "warmhandoff-topics")
    pod = job["spec"]["template"]["spec"]
    topics = container(pod, "topics")
    assert topics["args"] == ["topics", "apply"]
    assert pod["restartPolicy"] in {"OnFailure", "Never"}
    worker = container(worker_pod(), "worker")
    assert topics["envFrom"] == worker["envFrom"]
    assert topics["image"] == worker["image"]


def test_the_headless_service_and_pod_monitor_select_the_worker_pods() -> None:
    template = k8s_object("StatefulSet", "warmhandoff-worker")["spec"]["template"]
    pod_labels = template["metadata"]["labels"]
    service = k8s_object("Service", "warmhandoff-worker")
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["selector"].items() <= pod_labels.items()
    monitor = k8s_object("PodMonitor", "warmhandoff-worker")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["port"] in {p["name"] for p in container(worker_pod(), "worker")["ports"]}
    # The alert rules select job="warmhandoff": the job name comes from this pod label.
    assert pod_labels[monitor["spec"]["jobLabel"]] == "warmhandoff"


def render_kustomization() -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: `kubectl kustomize deploy/k8s` not run")
    done = subprocess.run(
        [kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_kubectl_kustomize_renders_the_manifests() -> None:
    rendered = render_kustomization()
    assert "kind: StatefulSet" in rendered
    # The generated policy ConfigMap's hashed name replaced the StatefulSet's reference.
    assert "name: warmhandoff-policy-" in rendered


@pytest.mark.skipif(
    importlib.util.find_spec("kubernetes_validate") is None,
    reason="kubernetes-validate is not installed (pip install kubernetes-validate): "
    "the strict Kubernetes API schema check needs it",
)
def test_rendered_objects_match_the_kubernetes_api_schemas(tmp_path: Path) -> None:
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(render_kustomization(), "utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kubernetes_validate",
            "--strict",
            "--no-warn",
            "-k",
            "1.30.0",
            str(rendered),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    # Prometheus Operator kinds have no schema there (warnings, hidden); the rest must pass.
    assert done.returncode == 0, done.stdout + done.stderr
