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
import yaml

from warmhandoff.streams.policy.loader import load_policy

from .deployfiles import (
    K8S,
    PROMETHEUS_CONFIG,
    TIMEOUT,
    k8s_object,
    k8s_objects,
    kustomization,
    kustomize_inputs,
    load_yaml,
)


def container(pod_spec: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in pod_spec["containers"] if c["name"] == name]
    assert len(found) == 1, f"expected one container {name}"
    return found[0]


def env_of(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in spec.get("env", [])}


def worker_pod() -> dict[str, Any]:
    template = k8s_object("StatefulSet", "warmhandoff-worker")["spec"]["template"]
    spec: dict[str, Any] = template["spec"]
    return spec


#: (kind, name, container) of every long-running warmhandoff process.
PROCESSES = [
    ("StatefulSet", "warmhandoff-worker", "worker"),
    ("Deployment", "warmhandoff-router", "router"),
    ("Deployment", "warmhandoff-sink-webhook", "sink"),
    ("Deployment", "warmhandoff-learner", "learner"),
    ("Deployment", "warmhandoff-desk", "desk"),
]
#: ... and every workload, the one-shot topics Job included.
WORKLOADS = [*PROCESSES, ("Job", "warmhandoff-topics", "topics")]


def pod_of(kind: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = k8s_object(kind, name)["spec"]["template"]["spec"]
    return spec


def workloads() -> list[dict[str, Any]]:
    """Every object under deploy/k8s that runs pods."""
    kinds = {"StatefulSet", "Deployment", "DaemonSet", "Job", "CronJob"}
    return [obj for _, obj in k8s_objects() if obj["kind"] in kinds]


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
    # The workers, the router and a sink, each running the image's CLI.
    assert sorted((obj["kind"], obj["metadata"]["name"]) for obj in workloads()) == sorted(
        (kind, name) for kind, name, _ in WORKLOADS
    )
    for kind, name, container_name in WORKLOADS:
        assert container(pod_of(kind, name), container_name)["image"] == "warmhandoff"


def test_exactly_one_router_and_never_two_at_once() -> None:
    router = k8s_object("Deployment", "warmhandoff-router")
    assert router["spec"]["replicas"] == 1
    # RollingUpdate would start the new router before the old one stops.
    assert router["spec"]["strategy"] == {"type": "Recreate"}
    assert container(pod_of("Deployment", "warmhandoff-router"), "router")["args"] == ["router"]


def test_exactly_one_learner_and_never_two_at_once() -> None:
    learner = k8s_object("Deployment", "warmhandoff-learner")
    assert learner["spec"]["replicas"] == 1
    # Two learners would split the input partitions and overwrite each other's snapshots.
    assert learner["spec"]["strategy"] == {"type": "Recreate"}
    pod = pod_of("Deployment", "warmhandoff-learner")
    assert container(pod, "learner")["args"] == ["learner"]
    # SIGTERM publishes a snapshot and commits the offsets: time for it before the kill.
    assert pod["terminationGracePeriodSeconds"] >= 30
    # No autoscaler or disruption budget may select it.
    labels = learner["spec"]["template"]["metadata"]["labels"]
    for _, obj in k8s_objects():
        if obj["kind"] in {"HorizontalPodAutoscaler", "PodDisruptionBudget"}:
            selected = obj["spec"].get("selector", {}).get("matchLabels", {})
            assert not selected.items() <= labels.items(), obj["metadata"]["name"]


def test_the_sink_runs_the_webhook_kind_with_its_secret_by_reference() -> None:
    sink = container(pod_of("Deployment", "warmhandoff-sink-webhook"), "sink")
    assert sink["args"] == ["sink", "webhook"]
    env = env_of(sink)
    assert env["WARMHANDOFF_SINK_WEBHOOK_URL"]["value"].startswith("https://")
    ref = env["WARMHANDOFF_SINK_WEBHOOK_SECRET"]["valueFrom"]["secretKeyRef"]
    assert ref["name"] and ref["key"]
    assert "value" not in env["WARMHANDOFF_SINK_WEBHOOK_SECRET"]


def test_desk_replicas_sign_with_one_secret_by_reference_and_roll_without_a_gap() -> None:
    desk = k8s_object("Deployment", "warmhandoff-desk")
    # Any number may run: each reads every partition, sessions are signed, not stored.
    assert desk["spec"]["replicas"] >= 2
    assert desk["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    process = container(pod_of("Deployment", "warmhandoff-desk"), "desk")
    assert process["args"] == ["desk"]
    env = env_of(process)
    ref = env["WARMHANDOFF_DESK_SECRET"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "warmhandoff-desk", "key": "secret"}
    # Behind an Ingress with TLS: the browser may send the session cookie over HTTPS only.
    assert env["WARMHANDOFF_DESK_SECURE_COOKIE"]["value"] == "true"
    # A drain never takes every replica at once.
    budgets = [
        obj
        for _, obj in k8s_objects()
        if obj["kind"] == "PodDisruptionBudget"
        and obj["spec"]["selector"]["matchLabels"].items()
        <= desk["spec"]["template"]["metadata"]["labels"].items()
    ]
    assert [b["spec"]["maxUnavailable"] for b in budgets] == [1]


def test_the_desk_service_serves_the_page_on_6070_inside_the_cluster() -> None:
    template = k8s_object("Deployment", "warmhandoff-desk")["spec"]["template"]
    service = k8s_object("Service", "warmhandoff-desk")
    assert service["spec"]["type"] == "ClusterIP"
    selector = service["spec"]["selector"]
    assert selector.items() <= template["metadata"]["labels"].items()
    (port,) = service["spec"]["ports"]
    assert port["port"] == 6070
    ports = {p["name"] for p in container(template["spec"], "desk")["ports"]}
    assert port["targetPort"] in ports
    # Sessions verify on every replica: nothing pins a browser to one pod.
    assert service["spec"].get("sessionAffinity", "None") == "None"


def test_no_secret_setting_has_a_literal_value_anywhere() -> None:
    secret_words = ("SECRET", "PASSWORD", "TOKEN")
    for obj in workloads():
        for c in obj["spec"]["template"]["spec"]["containers"]:
            for item in c.get("env", []):
                if any(word in item["name"] for word in secret_words):
                    assert "value" not in item, f"{obj['metadata']['name']}: {item['name']}"
                    assert "secretKeyRef" in item["valueFrom"], item["name"]
    for _, obj in k8s_objects():
        if obj["kind"] == "ConfigMap":
            assert not any(word in key for key in obj["data"] for word in secret_words)


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


@pytest.mark.parametrize(
    ("kind", "name", "container_name"),
    [
        ("StatefulSet", "warmhandoff-worker", "worker"),
        ("Deployment", "warmhandoff-router", "router"),
        ("Deployment", "warmhandoff-desk", "desk"),
    ],
)
def test_workers_router_and_desk_mount_the_policy_config_map_where_the_setting_points(
    kind: str, name: str, container_name: str
) -> None:
    pod = pod_of(kind, name)
    worker = container(pod, container_name)
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


@pytest.mark.parametrize(("kind", "name", "container_name"), PROCESSES)
def test_probes_on_the_web_port(kind: str, name: str, container_name: str) -> None:
    process = container(pod_of(kind, name), container_name)
    port_names = {p["name"]: p["containerPort"] for p in process["ports"]}
    assert process["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert process["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert process[probe]["httpGet"]["port"] in port_names
    assert str(port_names["http"]) == env_of(process)["WARMHANDOFF_WEB_PORT"]["value"]


@pytest.mark.parametrize(("kind", "name", "container_name"), WORKLOADS)
def test_resources_and_a_locked_down_non_root_user(
    kind: str, name: str, container_name: str
) -> None:
    pod = pod_of(kind, name)
    process = container(pod, container_name)
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(process["resources"][bound])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    assert process["securityContext"]["allowPrivilegeEscalation"] is False
    assert process["securityContext"]["readOnlyRootFilesystem"] is True
    assert process["securityContext"]["capabilities"]["drop"] == ["ALL"]
    # A read-only root needs a writable /tmp.
    assert "/tmp" in {m["mountPath"] for m in process["volumeMounts"]}


def test_the_sasl_password_comes_from_a_secret_by_reference() -> None:
    for kind, name, container_name in WORKLOADS:
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


@pytest.mark.parametrize(("kind", "name", "container_name"), PROCESSES)
def test_exactly_one_pod_monitor_scrapes_each_process_under_its_alert_job(
    kind: str, name: str, container_name: str
) -> None:
    template = k8s_object(kind, name)["spec"]["template"]
    pod_labels = template["metadata"]["labels"]
    ports = {p["name"] for p in container(template["spec"], container_name)["ports"]}
    monitors = [
        obj
        for _, obj in k8s_objects()
        if obj["kind"] == "PodMonitor"
        and obj["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    ]
    assert len(monitors) == 1, f"{name}: {len(monitors)} PodMonitors select its pods"
    (monitor,) = monitors
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["path"] == "/metrics" and endpoint["port"] in ports
    expected_job = {
        "worker": "warmhandoff",
        "router": "warmhandoff-router",
        "sink": "warmhandoff-sink",
        "learner": "warmhandoff-learner",
        "desk": "warmhandoff-desk",
    }[container_name]
    assert pod_labels[monitor["spec"]["jobLabel"]] == expected_job


def test_every_pod_monitor_job_is_a_scrape_job_of_the_compose_prometheus() -> None:
    jobs = {job["job_name"] for job in load_yaml(PROMETHEUS_CONFIG)["scrape_configs"]}
    for _, obj in k8s_objects():
        if obj["kind"] == "PodMonitor":
            label = obj["spec"]["jobLabel"]
            assert obj["spec"]["selector"]["matchLabels"][label] in jobs, obj["metadata"]["name"]


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
    rendered = {
        (obj["kind"], obj["metadata"]["name"]): obj
        for obj in yaml.safe_load_all(render_kustomization())
    }
    (policy,) = [name for kind, name in rendered if name.startswith("warmhandoff-policy-")]
    # The generated policy ConfigMap's hashed name replaced the workers', router's and desk's
    # references.
    for kind, name in (
        ("StatefulSet", "warmhandoff-worker"),
        ("Deployment", "warmhandoff-router"),
        ("Deployment", "warmhandoff-desk"),
    ):
        obj = rendered[(kind, name)]
        assert obj["metadata"]["namespace"] == "warmhandoff"
        volumes = {v["name"]: v for v in obj["spec"]["template"]["spec"]["volumes"]}
        assert volumes["policy"]["configMap"]["name"] == policy
        assert obj["spec"]["template"]["spec"]["containers"][0]["image"].startswith(
            "registry.example.com/warmhandoff:"
        )
    # Every long-running process, the learner included, lands in the namespace on the image.
    for kind, name, container_name in PROCESSES:
        obj = rendered[(kind, name)]
        assert obj["metadata"]["namespace"] == "warmhandoff", name
        image = container(obj["spec"]["template"]["spec"], container_name)["image"]
        assert image.startswith("registry.example.com/warmhandoff:"), name


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
