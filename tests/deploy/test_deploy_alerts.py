"""Alert rules: promtool checks and unit tests for real, their shape, and the copies of them
(the PrometheusRule, the alert table of deploy/README.md, the runbooks in docs/operations.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from .deployfiles import (
    ALERT_TESTS,
    ALERTS,
    DEPLOY,
    K8S,
    PROMETHEUS,
    PROMETHEUS_CONFIG,
    ROOT,
    alert_rules,
    generate_module,
    load_yaml,
    run_promtool,
)

EXPECTED_ALERTS = {
    "WarmhandoffServiceLevelBelowTarget",
    "WarmhandoffOldestWaitPastSLA",
    "WarmhandoffDeadLetterRate",
    "WarmhandoffSinkFailures",
    "WarmhandoffNoHandoffsAcknowledged",
    "WarmhandoffConsumerLagGrowing",
    "WarmhandoffWorkerDown",
    # What the lifecycle and the router process make possible.
    "WarmhandoffHandoffsFailing",
    "WarmhandoffRouterDown",
    # The learner process: one replica, the pipeline works on without it.
    "WarmhandoffLearnerDown",
    # Records skipped by a worker's consumer (an offset gap on an input topic).
    "WarmhandoffConsumerSkippedRecords",
    # Producers partitioning otherwise than the Java client (librdkafka's default).
    "WarmhandoffMispartitionedInput",
}


def test_promtool_check_rules_accepts_the_alerts() -> None:
    done = run_promtool("check", "rules", ALERTS.name, cwd=PROMETHEUS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in done.stdout


def test_promtool_unit_tests_of_the_alerts_pass() -> None:
    done = run_promtool("test", "rules", ALERT_TESTS.name, cwd=PROMETHEUS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_promtool_check_config_accepts_the_compose_prometheus_config(tmp_path: Path) -> None:
    # The config names the rule file by its path inside the Prometheus container.
    config = load_yaml(PROMETHEUS_CONFIG)
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    config["rule_files"] = [str(ALERTS)]
    local = tmp_path / "prometheus.yml"
    local.write_text(yaml.safe_dump(config), "utf-8")
    done = run_promtool("check", "config", str(local), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_issue_s_alerts_are_all_there() -> None:
    assert {rule["alert"] for rule in alert_rules()} == EXPECTED_ALERTS


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_each_alert_has_severity_annotations_and_a_runbook(rule: dict[str, object]) -> None:
    labels = rule["labels"]
    annotations = rule["annotations"]
    assert isinstance(labels, dict) and isinstance(annotations, dict)
    assert labels["severity"] in {"warning", "critical"}
    assert annotations["summary"] and annotations["description"]
    base = generate_module().RUNBOOK_BASE
    assert annotations["runbook_url"] == f"{base}#alert-{str(rule['alert']).lower()}"
    assert "runbook" not in annotations, "the runbook link is runbook_url (absolute)"
    assert "for" in rule, "every alert waits a while before firing"


def test_each_alert_is_unit_tested_firing_and_not_firing() -> None:
    fired: set[str] = set()
    quiet: set[str] = set()
    for case in load_yaml(ALERT_TESTS)["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert fired == EXPECTED_ALERTS, "alerts never shown firing: " + str(EXPECTED_ALERTS - fired)
    assert quiet == EXPECTED_ALERTS, "alerts never shown quiet: " + str(EXPECTED_ALERTS - quiet)


def test_the_prometheus_rule_carries_the_same_rules_as_alerts_yml() -> None:
    rule = load_yaml(K8S / "prometheusrule.yaml")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["kind"] == "PrometheusRule"
    assert rule["spec"]["groups"] == load_yaml(ALERTS)["groups"]


def test_generated_deploy_files_are_current() -> None:
    stale = generate_module().stale()
    assert not stale, (
        f"stale: {[str(p.relative_to(ROOT)) for p in stale]}; run: python deploy/generate.py"
    )


def test_promtool_accepts_the_prometheus_rule_s_groups(tmp_path: Path) -> None:
    groups = load_yaml(K8S / "prometheusrule.yaml")["spec"]
    rules = tmp_path / "prometheusrule-groups.yml"
    rules.write_text(yaml.safe_dump(groups), "utf-8")
    done = run_promtool("check", "rules", str(rules), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_deploy_readme_has_a_row_for_every_alert() -> None:
    text = (DEPLOY / "README.md").read_text("utf-8")
    table_rows = [line for line in text.splitlines() if line.startswith("|")]
    for alert in EXPECTED_ALERTS:
        assert any(f"`{alert}`" in row for row in table_rows), f"no Alerts row for {alert}"


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_runbook_anchors_exist_in_docs_operations() -> None:
    base = generate_module().RUNBOOK_BASE
    assert base.startswith("https://") and base.endswith("/docs/operations.md")
    text = (ROOT / "docs" / "operations.md").read_text("utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)  # no headings in code blocks
    anchors = {github_anchor(m) for m in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}
    anchors |= set(re.findall(r"<a (?:id|name)=\"([^\"]+)\"", text))
    for rule in alert_rules():
        anchor = rule["annotations"]["runbook_url"].split("#", 1)[1]
        assert anchor in anchors, f"docs/operations.md has no #{anchor} for {rule['alert']}"


def test_a_runbook_base_of_your_own_reaches_every_rule_and_its_copies() -> None:
    generate = generate_module()
    base = "https://wiki.example.com/ops/warmhandoff.md"
    files = generate.expected(base)
    rules = [
        rule
        for group in yaml.safe_load(files[generate.ALERTS])["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]
    assert len(rules) == len(EXPECTED_ALERTS)
    for rule in rules:
        assert rule["annotations"]["runbook_url"] == f"{base}#alert-{rule['alert'].lower()}"
    copy = yaml.safe_load(files[generate.PROMETHEUS_RULE])
    assert copy["spec"]["groups"] == yaml.safe_load(files[generate.ALERTS])["groups"]
    assert base in files[generate.ALERT_TESTS]
    assert generate.RUNBOOK_BASE not in files[generate.ALERT_TESTS]
    # The comments of the rule file survive: it is edited line by line, not re-dumped.
    assert files[generate.ALERTS].startswith(ALERTS.read_text("utf-8").split("groups:")[0])
    assert generate.stale(base), "another base makes the committed files stale"
