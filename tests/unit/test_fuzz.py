"""The decoder fuzzer: a run of a few hundred rounds finds no unexpected exception, and runs
reproduce. Rounds, not seconds: a loaded machine must not make the test see fewer inputs."""

from __future__ import annotations

import random

import orjson
import pytest

from warmhandoff.streams.lab import fuzz


class Steps:
    """A clock that advances one second per reading: a run of N seconds is N rounds."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_a_run_ends_every_input_in_a_model_or_a_reason() -> None:
    report = fuzz.run(120.0, seed=3, clock=Steps())
    assert report.unexpected == [], report.unexpected[:3]
    assert report.inputs > 50
    for name, outcomes in report.outcomes.items():
        assert outcomes, name
        assert set(outcomes) <= {
            "accepted", "invalid", "not_json", "not_utf8", "too_large", "unsupported_version",
            "policy_error",
        }  # fmt: skip
    turn = report.outcomes["turn"]
    # The mutations reach past the JSON parser into validation, and some stay valid.
    assert turn["invalid"] and turn["not_json"] and turn["accepted"]
    assert report.outcomes["policy"]["policy_error"]


def test_the_same_seed_gives_the_same_inputs_and_outcomes() -> None:
    first = fuzz.run(30, seed=11, clock=Steps()).as_json()
    again = fuzz.run(30, seed=11, clock=Steps()).as_json()
    other = fuzz.run(30, seed=12, clock=Steps()).as_json()
    # 29 rounds of the four decoders, and the policy loader in rounds 0, 10 and 20.
    assert first["inputs"] == again["inputs"] == 4 * 29 + 3
    assert first["outcomes"] == again["outcomes"]
    assert first["outcomes"] != other["outcomes"]


def test_an_unexpected_exception_is_counted_and_fails_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(raw: bytes) -> object:
        raise KeyError("a decoder bug")

    monkeypatch.setitem(fuzz.DECODERS, "turn", ("turn", broken))
    _, outcome = fuzz.fuzz_one(random.Random(0), "turn")
    assert outcome == "unexpected:KeyError"
    assert fuzz.main(["--seconds", "0.05"]) == 1
    printed = orjson.loads(capsys.readouterr().out)
    assert printed["unexpected"] > 0
    assert printed["unexpected_examples"][0]["error"] == "unexpected:KeyError"
