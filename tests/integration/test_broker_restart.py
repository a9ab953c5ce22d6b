"""A worker whose embedded broker restarted (memory only: every topic gone) does not skip a
conversation it remembers from before: the stale state is discarded, and one log line says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from warmhandoff.agents import BotClient
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.topics import load_topics
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.runtime.broker import EmbeddedBroker
from warmhandoff.streams.runtime.topic_admin import apply_topics

from .conftest import DEFAULT_POLICY, Deployment, read_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def test_the_same_conversation_is_decided_again_after_a_broker_restart(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"  # one worker data dir across both brokers, as on a laptop
    logs: list[str] = []
    for start in (1, 2):
        with EmbeddedBroker(data_dir=tmp_path / f"broker-{start}") as broker:
            settings = WorkerSettings(
                bootstrap_servers=broker.bootstrap,
                app_id="wh",
                data_dir=state,
                policy_file=DEFAULT_POLICY,
                web_port=0,
            )
            topics = load_topics(app_id="wh")
            assert (await apply_topics(topics, settings)).ok
            dep = Deployment(settings, topics, load_policy(DEFAULT_POLICY), tmp_path / f"{start}")
            dep.tmp.mkdir()
            worker = dep.worker()
            try:
                async with BotClient(settings, topics=topics, listen=False) as bot:
                    await bot.publish(
                        conversation_id="c-1", seq=1, role="customer", text="hello there"
                    )
                outputs = await read_until(dep, lambda o: o.decisions, within=90)
            finally:
                worker.stop()
            logs.append(worker.log_path.read_text(errors="replace"))
            assert [(d["conversation_id"], d["seq"]) for d in outputs.decisions] == [("c-1", 1)], (
                logs[-1][-2000:]
            )
    assert "worker.state_discarded" not in logs[0]
    assert "worker.state_discarded" in logs[1]
