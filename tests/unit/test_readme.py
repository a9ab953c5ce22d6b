"""The README stays true: generated tables match the code, Quick start matches .ci/run."""

from __future__ import annotations

import re
from pathlib import Path

from warmhandoff.streams.lab.reference_docs import render

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_generated_tables_are_current() -> None:
    assert render(README) == README, "run: python -m warmhandoff.streams.lab.reference_docs"


def test_every_setting_and_metric_is_documented() -> None:
    from warmhandoff.streams.config.reference import SECTIONS
    from warmhandoff.streams.runtime.metrics import REGISTRY

    for _, kind in SECTIONS:
        for name in kind.model_fields:
            assert f"`WARMHANDOFF_{name.upper()}`" in README
    for family in REGISTRY.collect():
        assert family.name in README


def test_quick_start_has_two_commands_and_ci_runs_the_second() -> None:
    block = re.search(r"## Quick start\n\n```\n(.*?)```", README, re.S)
    assert block is not None
    commands = [line for line in block.group(1).splitlines() if line.strip()]
    assert len(commands) == 2
    assert "warmhandoff demo" in commands[0] and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "sed -n 2p" in ci and 'bash -c "$test_cmd"' in ci
