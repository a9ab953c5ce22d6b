"""The worker's processing guarantee: the setting, what Faust is given, the transactional id a
record's outputs join, and the bench's option."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import faust
import pytest
from faust.types.enums import ProcessingGuarantee

from warmhandoff.streams.cli import main
from warmhandoff.streams.config.connection import load_settings
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.errors import ConfigError
from warmhandoff.streams.contract.topics import load_topics
from warmhandoff.streams.runtime.faust_app import faust_config, transactional_id


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The developer's or CI's WARMHANDOFF_* variables must not leak into these tests.
    for name in list(os.environ):
        if name.upper().startswith("WARMHANDOFF_"):
            monkeypatch.delenv(name)


def test_at_least_once_is_the_default() -> None:
    assert WorkerSettings().processing_guarantee == "at_least_once"


def test_the_environment_chooses_exactly_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARMHANDOFF_PROCESSING_GUARANTEE", "exactly_once")
    assert load_settings(WorkerSettings).processing_guarantee == "exactly_once"


def test_an_unknown_guarantee_is_a_one_line_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARMHANDOFF_PROCESSING_GUARANTEE", "at_most_once")
    with pytest.raises(ConfigError) as refused:
        load_settings(WorkerSettings)
    message = str(refused.value)
    assert "WARMHANDOFF_PROCESSING_GUARANTEE" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("guarantee", "faust_value"),
    [
        ("at_least_once", ProcessingGuarantee.AT_LEAST_ONCE),
        ("exactly_once", ProcessingGuarantee.EXACTLY_ONCE),
    ],
)
def test_faust_is_given_the_guarantee(
    guarantee: str, faust_value: ProcessingGuarantee, tmp_path: Path
) -> None:
    settings = WorkerSettings(processing_guarantee=guarantee, data_dir=tmp_path, store="memory://")
    topics = load_topics(app_id="guarantee-test")
    app = faust.App(topics.faust_app_id, **faust_config(settings, topics))
    assert app.conf.processing_guarantee == faust_value


@dataclass
class Assignor:
    """Faust's assignor as far as naming a transaction goes: every topic in group 0."""

    groups: dict[str, int] = field(default_factory=lambda: {"turns": 0, "events": 0})

    def group_for_topic(self, topic: str) -> int:
        return self.groups[topic]


@dataclass
class Conf:
    id: str


@dataclass
class App:
    """What `transactional_id` reads of a Faust app."""

    in_transaction: bool
    conf: Conf = field(default_factory=lambda: Conf("wh"))
    assignor: Assignor = field(default_factory=Assignor)


def test_no_transaction_under_at_least_once() -> None:
    assert transactional_id(App(in_transaction=False), "turns", 3) is None


def test_a_records_outputs_join_its_input_partitions_transaction() -> None:
    app = App(in_transaction=True)
    # The id Faust's TransactionManager gives the producer that commits partition 3's offsets.
    assert transactional_id(app, "turns", 3) == "wh-0-3"
    # Turns, ticks and events of one partition number commit in the same transaction.
    assert transactional_id(app, "events", 3) == transactional_id(app, "turns", 3)


def test_the_bench_refuses_exactly_once_on_the_embedded_broker(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "--processing-guarantee", "exactly_once"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert "needs a broker with transactions" in err[0]
    assert "--broker kafka" in err[0]


def test_the_bench_refuses_an_unknown_guarantee(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--processing-guarantee", "at_most_once"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert "invalid choice" in err[0]
