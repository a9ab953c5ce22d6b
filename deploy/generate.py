"""Write the deploy/ files that are copies of another file, or check that they are current.

- k8s/prometheusrule.yaml: the Prometheus Operator's PrometheusRule carrying exactly the
  groups of prometheus/alerts.yml (the one source of the alert rules);
- k8s/policy.yaml: the policy the Kubernetes ConfigMap is generated from, a copy of the
  shipped default (streams/policy/default.yaml) with a header saying so.

    python deploy/generate.py          # rewrite both
    python deploy/generate.py --check  # exit 1 and name the stale files (tests/deploy runs this)

Needs only PyYAML (a project dependency); it imports nothing from the project.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
PROMETHEUS_RULE = DEPLOY / "k8s" / "prometheusrule.yaml"
DEFAULT_POLICY = ROOT / "streams" / "policy" / "default.yaml"
K8S_POLICY = DEPLOY / "k8s" / "policy.yaml"

RULE_HEADER = """\
# GENERATED from deploy/prometheus/alerts.yml by `python deploy/generate.py`: edit that file
# and regenerate; tests/deploy checks the two carry the same rules. Add the label your
# Prometheus's ruleSelector wants (kube-prometheus-stack: release: <its release name>).
"""

POLICY_HEADER = """\
# The escalation policy the workers and the router load (ConfigMap warmhandoff-policy,
# kustomization.yaml).
# GENERATED: a copy of streams/policy/default.yaml by `python deploy/generate.py`. To run
# your own policy, replace this file (check it first: warmhandoff policy check FILE).
"""


class _BlockDumper(yaml.SafeDumper):
    """A SafeDumper that writes multi-line strings (PromQL expressions) as literal blocks."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str_representer)


def prometheus_rule(alerts_text: str) -> str:
    """The PrometheusRule manifest (text) whose spec is the rule file's groups."""
    rules = yaml.safe_load(alerts_text)
    manifest: dict[str, Any] = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "warmhandoff",
            "labels": {"app.kubernetes.io/name": "warmhandoff"},
        },
        "spec": {"groups": rules["groups"]},
    }
    body = yaml.dump(manifest, Dumper=_BlockDumper, sort_keys=False, width=100)
    return RULE_HEADER + body


def policy_copy(default_text: str) -> str:
    """The Kubernetes policy file: the shipped default behind a header."""
    return POLICY_HEADER + default_text


def expected() -> dict[Path, str]:
    """Each generated file and the text it should have."""
    return {
        PROMETHEUS_RULE: prometheus_rule(ALERTS.read_text("utf-8")),
        K8S_POLICY: policy_copy(DEFAULT_POLICY.read_text("utf-8")),
    }


def stale() -> list[Path]:
    """The generated files whose text differs from what generate would write."""
    return [
        path
        for path, text in expected().items()
        if not path.exists() or path.read_text("utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale()
        for path in outdated:
            print(f"stale: {path.relative_to(ROOT)} (run: python deploy/generate.py)")  # noqa: T201
        return 1 if outdated else 0
    for path, text in expected().items():
        path.write_text(text, "utf-8")
        print(f"wrote {path.relative_to(ROOT)}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
