"""Shared fixtures: one Kafka broker for the whole session, and fresh topic names per test.

`kafka_bootstrap` uses the broker named by WARMHANDOFF_BOOTSTRAP_SERVERS when one answers
there, and otherwise starts the embedded broker (Tansu) on a free port, never on 9092, so
test runs do not collide with a developer's broker or with each other.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from uuid import uuid4

import pytest

from warmhandoff.streams.runtime.broker import EmbeddedBroker, broker_answers


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The bootstrap address of a Kafka broker that lives for the whole test session."""
    external = os.environ.get("WARMHANDOFF_BOOTSTRAP_SERVERS")
    if external and broker_answers(external):
        yield external
        return
    with EmbeddedBroker(data_dir=tmp_path_factory.mktemp("broker")) as broker:
        yield broker.bootstrap


@pytest.fixture
def topic_prefix() -> str:
    """A prefix that gives this test its own topics (and Faust app id / consumer group)."""
    return f"t{uuid4().hex[:8]}."
