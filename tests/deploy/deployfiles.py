"""Paths and readers for the files under deploy/, shared by the tests/deploy tests."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
ALERTS = PROMETHEUS / "alerts.yml"
ALERT_TESTS = PROMETHEUS / "alerts.test.yml"
PROMETHEUS_CONFIG = PROMETHEUS / "prometheus.yml"
COMPOSE = DEPLOY / "compose.yaml"
K8S = DEPLOY / "k8s"
DASHBOARD = DEPLOY / "grafana" / "warmhandoff.json"
GRAFANA_PROVISIONING = DEPLOY / "grafana" / "provisioning"
DOCKERFILE = DEPLOY / "Dockerfile"

METRIC_NAME = re.compile(r"\bwarmhandoff_[a-z_]+")
TIMEOUT = 60


def load_yaml(path: Path) -> Any:
    """One YAML document."""
    return yaml.safe_load(path.read_text("utf-8"))


def load_yaml_all(path: Path) -> list[Any]:
    """Every non-empty YAML document of a file."""
    return [doc for doc in yaml.safe_load_all(path.read_text("utf-8")) if doc is not None]


def alert_rules() -> list[dict[str, Any]]:
    """The alerting rules of deploy/prometheus/alerts.yml, in file order."""
    groups = load_yaml(ALERTS)["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def dashboard() -> dict[str, Any]:
    """The Grafana dashboard."""
    result: dict[str, Any] = json.loads(DASHBOARD.read_text("utf-8"))
    return result


def dashboard_panels() -> list[dict[str, Any]]:
    """Every panel of the dashboard, rows' nested panels included, rows excluded."""
    found: list[dict[str, Any]] = []
    for panel in dashboard()["panels"]:
        if panel["type"] == "row":
            found.extend(panel.get("panels", []))
        else:
            found.append(panel)
    return found


def k8s_objects() -> list[tuple[Path, dict[str, Any]]]:
    """(file, object) for every Kubernetes object under deploy/k8s, kustomize inputs excluded."""
    objects: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name in kustomize_inputs():
            continue
        objects.extend((path, doc) for doc in load_yaml_all(path))
    return objects


def kustomization() -> dict[str, Any]:
    """deploy/k8s/kustomization.yaml."""
    result: dict[str, Any] = load_yaml(K8S / "kustomization.yaml")
    return result


def kustomize_inputs() -> set[str]:
    """Files under deploy/k8s that are kustomize's own inputs rather than objects."""
    names = {"kustomization.yaml"}
    for generator in kustomization().get("configMapGenerator", []):
        for entry in generator.get("files", []):
            names.add(entry.split("=")[-1])
    return names


def k8s_object(kind: str, name: str) -> dict[str, Any]:
    """The one object of that kind and name under deploy/k8s."""
    matches = [
        obj for _, obj in k8s_objects() if obj["kind"] == kind and obj["metadata"]["name"] == name
    ]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def metric_names_in(expr: str) -> set[str]:
    """The warmhandoff_* metric names a PromQL expression mentions."""
    return set(METRIC_NAME.findall(expr))


def promtool() -> str:
    """The promtool binary, or skip the test with the reason."""
    binary = shutil.which("promtool")
    if binary is None:
        pytest.skip(
            "promtool is not installed (Debian package 'prometheus': "
            "apt-get install -y --no-install-recommends prometheus; .ci/run installs it)"
        )
    return binary


def run_promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run promtool and return the finished process (stdout and stderr as text)."""
    return subprocess.run(
        [promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT
    )


def generate_module() -> ModuleType:
    """deploy/generate.py, imported by path (deploy/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "warmhandoff_deploy_generate", DEPLOY / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
