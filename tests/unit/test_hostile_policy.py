"""Hostile policy files: any text is a `Policy` or a `PolicyError` naming the problem.

Random text, random YAML and JSON documents, mutations of the shipped default policy (a key
dropped, renamed, or its value replaced by any value), tags that would build Python objects,
alias bombs and self-referencing aliases. Nothing but `PolicyError` may be raised, and every
problem line names the file.
"""

from __future__ import annotations

import copy
import time
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from warmhandoff.streams.policy import Policy, PolicyError, load_policy, parse_policy

from .hostile_strategies import HOSTILE, json_values

DEFAULT_TEXT = resources.files("warmhandoff.streams.policy").joinpath("default.yaml").read_text()
DEFAULT: dict[str, Any] = yaml.safe_load(DEFAULT_TEXT)


def outcome(text: str) -> Policy | PolicyError:
    try:
        return parse_policy(text, "p.yaml")
    except PolicyError as exc:
        assert exc.problems, "a PolicyError names at least one problem"
        assert all(line.startswith("p.yaml: ") for line in str(exc).splitlines())
        return exc


def paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every path to a value inside a YAML document."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(paths(child, (*prefix, index)))
    return found


DEFAULT_PATHS = paths(DEFAULT)


@st.composite
def mutated_default(draw: st.DrawFn) -> dict[str, Any]:
    """The default policy with one to three values dropped, renamed or replaced."""
    data = copy.deepcopy(DEFAULT)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(DEFAULT_PATHS))
        parent: Any = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            last = path[-1]
            parent[last]  # still there after an earlier mutation?
        except (KeyError, IndexError, TypeError):
            continue
        how = draw(st.sampled_from(["drop", "rename", "replace"]))
        if how == "drop":
            del parent[last]
        elif how == "rename" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = parent.pop(last)
        else:
            parent[last] = draw(json_values)
    return data


@HOSTILE
@given(st.text(max_size=300))
def test_random_text_is_a_policy_or_a_policy_error(text: str) -> None:
    assert isinstance(outcome(text), PolicyError)


@HOSTILE
@given(json_values)
def test_random_documents_are_policy_errors(value: object) -> None:
    assert isinstance(outcome(yaml.safe_dump(value)), PolicyError)
    assert isinstance(outcome(orjson.dumps(value).decode()), PolicyError)  # JSON is YAML too


@settings(HOSTILE, max_examples=50)  # each one dumps and validates the whole default policy
@given(mutated_default())
def test_mutations_of_the_default_policy_load_or_say_what_is_wrong(data: dict[str, Any]) -> None:
    result = outcome(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    assert isinstance(result, Policy | PolicyError)


@pytest.mark.parametrize(
    "text",
    [
        "version: !!python/object/apply:os.system ['echo pwned']",
        "!!python/name:builtins.print",
        "version: &a [*a]",  # an alias inside its own anchor: a cyclic value
        "version: 1\nversion: 2",
        "\ufeffversion: v\x00",
        "- a\n- b",
        "{" * 500,
        "version: '" + "x" * 200_000 + "'",
        # Found by the fuzzer: an impossible YAML date raised ValueError, an overflow that is
        # a list raised TypeError in the reference checks.
        "version: 2026-13-45",
        DEFAULT_TEXT.replace("defaults:", "x: 2026-02-30\ndefaults:", 1),
        DEFAULT_TEXT.replace("queues:", "queues:\n  loop:\n    overflow: [[a]]", 1),
    ],
)
def test_known_hostile_policies_are_policy_errors(text: str) -> None:
    assert isinstance(outcome(text), PolicyError)


def test_a_yaml_alias_bomb_is_refused_quickly() -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    lines.append("version: *a11")  # 9**12 values once expanded
    started = time.perf_counter()
    result = outcome("\n".join(lines))
    assert isinstance(result, PolicyError)
    assert "aliases are expanded" in str(result)
    assert time.perf_counter() - started < 2.0  # was minutes and gigabytes before the cap


def test_files_that_are_not_text_are_policy_errors(tmp_path: Path) -> None:
    for name, data in [("bin.yaml", b"\xff\xfe\x00version"), ("big.yaml", b"#" * 1_000_001)]:
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(PolicyError):
            load_policy(path)
    with pytest.raises(PolicyError):
        load_policy(tmp_path / "missing.yaml")
