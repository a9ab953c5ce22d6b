"""Shared fixtures: one Kafka broker for the whole session, and fresh topic names per test.

The broker is chosen once per run (tests/brokers.py: WARMHANDOFF_TEST_BROKER, else a broker
answering at WARMHANDOFF_BOOTSTRAP_SERVERS, else the default) and named in the pytest header.
Brokers the tests start listen on free ports, never on 9092, so test runs do not collide with
a developer's broker or with each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import pytest

from .brokers import BrokerUnusable, TestBroker, choose_broker

TEST_BROKER = pytest.StashKey[TestBroker]()


def pytest_configure(config: pytest.Config) -> None:
    try:
        config.stash[TEST_BROKER] = choose_broker()
    except BrokerUnusable as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_report_header(config: pytest.Config) -> str:
    return f"test broker: {config.stash[TEST_BROKER].describe()}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if terminalreporter.config.option.verbose < 0:  # -q shows no header: name the broker here
        choice = terminalreporter.config.stash[TEST_BROKER]
        terminalreporter.write_line(f"test broker: {choice.describe()}")


@pytest.fixture(scope="session")
def test_broker(pytestconfig: pytest.Config) -> TestBroker:
    """The broker kind chosen for this run."""
    return pytestconfig.stash[TEST_BROKER]


@pytest.fixture(scope="session")
def kafka_bootstrap(
    test_broker: TestBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The bootstrap address of a Kafka broker that lives for the whole test session."""
    with test_broker.started(tmp_path_factory.mktemp("broker")) as broker:
        yield broker.bootstrap


@pytest.fixture
def topic_prefix() -> str:
    """A prefix that gives this test its own topics (and Faust app id / consumer group)."""
    return f"t{uuid4().hex[:8]}."
