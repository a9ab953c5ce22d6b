"""The compose stack: structure and wiring checked from the file (no Docker engine runs the
tests), and the Compose Specification's JSON Schema when check-jsonschema is installed."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import PurePosixPath
from typing import Any

import pytest

from warmhandoff.streams.runtime.kafka_jars import KAFKA_VERSION

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
        "router",
        "sink",
        "sink-webhook",
        "learner",
        "desk",
        "prometheus",
        "grafana",
    }
    # A plain `up` runs all but the webhook sink, which needs a CRM endpoint.
    in_profiles = {name for name, service in services().items() if service.get("profiles")}
    assert in_profiles == {"sink-webhook"}


def test_kafka_is_apache_kafka_in_kraft_mode_without_auto_created_topics() -> None:
    kafka = services()["kafka"]
    # The version the test suite provisions and runs on, not one nobody tested.
    assert kafka["image"] == f"apache/kafka:{KAFKA_VERSION}"
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


def test_exactly_one_router_with_the_workers_policy_after_the_topics() -> None:
    router = services()["router"]
    assert router["command"] == ["router"]
    assert router["deploy"]["replicas"] == 1
    assert router["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    assert "/readyz" in " ".join(router["healthcheck"]["test"])
    env = router["environment"]
    worker_env = services()["worker-1"]["environment"]
    # The same topics (app id) and the same policy file as the workers.
    assert env["WARMHANDOFF_APP_ID"] == worker_env["WARMHANDOFF_APP_ID"]
    policy = [v for v in router["volumes"] if v.endswith(f":{env['WARMHANDOFF_POLICY_FILE']}:ro")]
    worker_policy = [v for v in services()["worker-1"]["volumes"] if v.endswith(":ro")]
    assert policy == worker_policy
    # A fixed host port: `--scale router=2` cannot start a second one.
    assert len(router["ports"]) == 1 and ":" in router["ports"][0]


def test_exactly_one_learner_after_the_topics_with_nothing_to_keep_on_disk() -> None:
    learner = services()["learner"]
    assert learner["command"] == ["learner"]
    assert learner["deploy"]["replicas"] == 1
    assert learner["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    assert learner["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "/readyz" in " ".join(learner["healthcheck"]["test"])
    # SIGTERM publishes a snapshot and commits: give it the same grace as the others.
    assert learner["stop_grace_period"] == services()["router"]["stop_grace_period"]
    env = learner["environment"]
    # The workers' topics (app id); the model lives on learning.model, not on a volume.
    assert env["WARMHANDOFF_APP_ID"] == services()["worker-1"]["environment"]["WARMHANDOFF_APP_ID"]
    assert "volumes" not in learner
    # A fixed host port: `--scale learner=2` cannot start a second one.
    assert len(learner["ports"]) == 1 and ":" in learner["ports"][0]


def test_the_default_sink_writes_handoffs_to_a_volume_the_image_user_owns() -> None:
    sink = services()["sink"]
    assert sink["command"] == ["sink", "file"]
    assert sink["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    path = PurePosixPath(sink["environment"]["WARMHANDOFF_SINK_FILE_PATH"])
    mounts = dict(volume.split(":")[::-1] for volume in sink["volumes"])
    assert mounts[str(path.parent)] in load_yaml(COMPOSE)["volumes"], "a named volume"
    # A new named volume copies the image directory's ownership: only the directory the
    # Dockerfile creates for uid 10001 (its VOLUME) is writable by the sink.
    dockerfile = (DEPLOY / "Dockerfile").read_text("utf-8")
    assert f'VOLUME ["{path.parent}"]' in dockerfile
    assert f"chown 10001:10001 {path.parent}" in dockerfile


def test_the_webhook_sink_waits_in_its_profile_for_an_endpoint_and_secret() -> None:
    sink = services()["sink-webhook"]
    assert sink["command"] == ["sink", "webhook"]
    assert sink["profiles"] == ["webhook"]
    env = sink["environment"]
    # From the host's environment at `up`, never written in the file.
    assert env["WARMHANDOFF_SINK_WEBHOOK_URL"] == "${WARMHANDOFF_SINK_WEBHOOK_URL:-}"
    assert env["WARMHANDOFF_SINK_WEBHOOK_SECRET"] == "${WARMHANDOFF_SINK_WEBHOOK_SECRET:-}"


def test_the_desk_serves_its_page_on_6070_to_this_host_only() -> None:
    desk = services()["desk"]
    assert desk["command"] == ["desk"]
    assert desk["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    assert desk["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "/readyz" in " ".join(desk["healthcheck"]["test"])
    env = desk["environment"]
    assert env["WARMHANDOFF_APP_ID"] == services()["worker-1"]["environment"]["WARMHANDOFF_APP_ID"]
    # The page, its API and the ops endpoints share one port; plain HTTP, so loopback only.
    (published,) = desk["ports"]
    assert published == f"127.0.0.1:6070:{env['WARMHANDOFF_WEB_PORT']}"
    assert str(env["WARMHANDOFF_WEB_PORT"]) in " ".join(desk["healthcheck"]["test"])
    # The router's policy, for the queues it shows.
    policy = [v for v in desk["volumes"] if v.endswith(f":{env['WARMHANDOFF_POLICY_FILE']}:ro")]
    router_policy = [v for v in services()["router"]["volumes"] if v.endswith(":ro")]
    assert policy == router_policy
    # The secret from the host's environment, over a placeholder that says so.
    secret = env["WARMHANDOFF_DESK_SECRET"]
    assert secret.startswith("${WARMHANDOFF_DESK_SECRET:-") and "placeholder" in secret
    assert env["WARMHANDOFF_DESK_SECURE_COOKIE"] == "${WARMHANDOFF_DESK_SECURE_COOKIE:-false}"


def scrape_targets() -> dict[str, set[str]]:
    """Scrape job name to its static targets, from prometheus/prometheus.yml."""
    config = load_yaml(PROMETHEUS_CONFIG)
    return {
        job["job_name"]: {t for sc in job["static_configs"] for t in sc["targets"]}
        for job in config["scrape_configs"]
    }


def test_prometheus_scrapes_the_router_sink_learner_and_desk_under_their_jobs() -> None:
    targets = scrape_targets()
    for job, service in (
        ("warmhandoff-router", "router"),
        ("warmhandoff-sink", "sink"),
        ("warmhandoff-learner", "learner"),
        ("warmhandoff-desk", "desk"),
    ):
        port = services()[service]["environment"]["WARMHANDOFF_WEB_PORT"]
        assert targets[job] == {f"{service}:{port}"}, job
        # Prometheus starts whether or not they are ready (it must alert when they are not).
        condition = services()["prometheus"]["depends_on"][service]["condition"]
        assert condition == "service_started"


def host_port(mapping: str) -> str:
    """The host side of a `[HOST_IP:]HOST_PORT:CONTAINER_PORT` mapping."""
    return mapping.split(":")[-2]


def test_every_process_has_its_own_host_port() -> None:
    published = [
        host_port(port) for service in services().values() for port in service.get("ports", [])
    ]
    assert len(published) == len(set(published)), published


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
        if name == "topics":  # one-shot
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
