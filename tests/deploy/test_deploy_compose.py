"""The compose stack: structure and wiring checked from the file (no Docker engine runs the
tests), and the Compose Specification's JSON Schema when check-jsonschema is installed."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from typing import Any

import pytest

from .deployfiles import COMPOSE, DEPLOY, PROMETHEUS_CONFIG, TIMEOUT, load_yaml


def services() -> dict[str, Any]:
    result: dict[str, Any] = load_yaml(COMPOSE)["services"]
    return result


def test_the_stack_has_every_service_of_the_issue() -> None:
    assert set(services()) == {
        "kafka",
        "topics",
        "worker-1",
        "worker-2",
        "sink",
        "prometheus",
        "grafana",
    }


def test_kafka_is_apache_kafka_in_kraft_mode_without_auto_created_topics() -> None:
    kafka = services()["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{env['KAFKA_NODE_ID']}@kafka:")
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "healthcheck" in kafka
    # Containers reach the broker on its advertised internal listener.
    internal = [a for a in env["KAFKA_ADVERTISED_LISTENERS"].split(",") if "kafka:" in a]
    (address,) = internal
    bootstrap = services()["worker-1"]["environment"]["WARMHANDOFF_BOOTSTRAP_SERVERS"]
    assert address.endswith("//" + bootstrap)


def test_topics_are_applied_once_the_broker_is_healthy() -> None:
    topics = services()["topics"]
    assert topics["command"] == ["topics", "apply"]
    assert topics["restart"] == "no"
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert topics["build"]["dockerfile"] == "deploy/Dockerfile"


@pytest.mark.parametrize("name", ["worker-1", "worker-2"])
def test_workers_wait_for_topics_and_keep_their_own_state(name: str) -> None:
    worker = services()[name]
    assert worker["command"] == ["worker"]
    assert worker["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    assert worker["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "/readyz" in " ".join(worker["healthcheck"]["test"])
    env = worker["environment"]
    state = f"{name}-state:{env['WARMHANDOFF_DATA_DIR']}"
    assert state in worker["volumes"]
    policy_mounts = [
        v for v in worker["volumes"] if v.endswith(f":{env['WARMHANDOFF_POLICY_FILE']}:ro")
    ]
    assert policy_mounts, "the policy file is mounted where WARMHANDOFF_POLICY_FILE points"
    assert env["WARMHANDOFF_APP_ID"] == services()["worker-1"]["environment"]["WARMHANDOFF_APP_ID"]
    assert f"{name}-state" in load_yaml(COMPOSE)["volumes"]


def test_the_sink_placeholder_stays_out_of_a_plain_up() -> None:
    sink = services()["sink"]
    assert sink["command"] == ["sink", "webhook"]
    assert sink["profiles"] == ["sink"]


def test_prometheus_scrapes_both_workers_and_loads_the_mounted_rules() -> None:
    prometheus = services()["prometheus"]
    assert "./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in prometheus["volumes"]
    assert "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in prometheus["volumes"]
    config = load_yaml(PROMETHEUS_CONFIG)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = {t for sc in jobs["warmhandoff"]["static_configs"] for t in sc["targets"]}
    ports = {
        name: services()[name]["environment"]["WARMHANDOFF_WEB_PORT"]
        for name in ("worker-1", "worker-2")
    }
    assert targets == {f"{name}:{port}" for name, port in ports.items()}
    assert "healthcheck" in prometheus
    assert services()["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"


def test_every_bind_mount_source_exists() -> None:
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).resolve().exists(), f"{name}: {source} does not exist"


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in services().items():
        if name in {"topics", "sink"}:  # one-shot, and a placeholder
            continue
        assert "healthcheck" in service and "test" in service["healthcheck"], name


@pytest.mark.skipif(
    importlib.util.find_spec("check_jsonschema") is None,
    reason="check-jsonschema is not installed (pip install check-jsonschema): "
    "the Compose Specification schema check needs it",
)
def test_the_compose_file_matches_the_compose_specification_schema() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
