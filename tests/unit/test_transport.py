"""The worker's Faust transport: Faust's aiokafka driver with the fetch wait from settings."""

from __future__ import annotations

from pathlib import Path

from warmhandoff.streams import transport
from warmhandoff.streams.app import Pipeline
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.settings import Settings
from warmhandoff.streams.topics import load_topics


def test_the_worker_consumer_uses_the_configured_fetch_wait(tmp_path: Path) -> None:
    settings = Settings(
        store="memory://", data_dir=tmp_path, web_port=0, fetch_max_wait_ms=35,
        bootstrap_servers="127.0.0.1:1;127.0.0.2:2".replace(";", ","),
    )  # fmt: skip
    pipeline = Pipeline(settings, load_topics(prefix="tr."), load_policy())
    app = pipeline.app
    assert str(app.conf.broker[0]).startswith(f"{transport.SCHEME}://")
    assert len(app.conf.broker) == 2
    assert isinstance(app.transport, transport.Transport)
    thread = app.consumer._new_consumer_thread()
    assert isinstance(thread, transport.ConsumerThread)
    assert thread.fetch_max_wait_ms == 35


async def test_the_created_aiokafka_consumer_waits_that_long(tmp_path: Path) -> None:
    settings = Settings(store="memory://", data_dir=tmp_path, web_port=0, fetch_max_wait_ms=35)
    app = Pipeline(settings, load_topics(prefix="tr."), load_policy()).app
    consumer = app.consumer._new_consumer_thread()._create_worker_consumer(app.transport)
    assert consumer._fetch_max_wait_ms == 35
