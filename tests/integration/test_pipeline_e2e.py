"""The pipeline end to end on a real broker with real worker processes.

The expected handoffs come from the pipeline's own pure functions over the same turns
(replay semantics), so these tests check the streaming machinery (decoding, tables, timers,
offsets, recovery) rather than detector quality, which the unit tests cover.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from warmhandoff.agents.client import BotClient

from .conftest import (
    Deployment,
    Outputs,
    expected_handoffs,
    first_seen_seqs,
    read_until,
    traffic,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def assert_invariants(outputs: Outputs, expected: dict[str, str]) -> None:
    """Exactly the expected handoffs, one conversation per handoff id, order per conversation."""
    owners: dict[str, set[str]] = defaultdict(set)
    for h in outputs.handoffs:
        owners[h["handoff_id"]].add(h["conversation_id"])
    assert all(len(c) == 1 for c in owners.values()), "a handoff_id belongs to two conversations"
    assert outputs.handoff_ids() == set(expected)
    for hid, conv in expected.items():
        assert owners[hid] == {conv}
    for conv, seqs in first_seen_seqs(outputs.decisions).items():
        assert seqs == sorted(seqs), f"decisions of {conv} out of order: {seqs}"


async def test_turns_in_handoffs_out(deployment: Deployment) -> None:
    turns = traffic(60, seed=21)
    expected = expected_handoffs(turns, deployment.policy)
    assert expected, "the generated traffic must contain escalations"
    worker = deployment.worker()
    async with BotClient(deployment.settings, topics=deployment.topics, bot_id="t") as client:
        await client.publish_many(turns)
        # A line that is not JSON: dead-lettered, and the partition keeps flowing.
        producer = client._require_producer()
        await producer.send_and_wait(
            deployment.topics.name("conversation.turns"),
            b"not json",
            key=turns[0].conversation_id.encode(),
        )
    n_turns = len({(t.conversation_id, t.seq) for t in turns})

    def done(o: Outputs) -> bool:
        return (
            o.handoff_ids() >= set(expected)
            and len({d["decision_id"] for d in o.decisions}) >= n_turns
            and len(o.deadletters) >= 1
        )

    outputs = await read_until(deployment, done, within=120)
    assert worker.alive(), deployment.logs()
    assert_invariants(outputs, expected)
    assert len({d["decision_id"] for d in outputs.decisions}) >= n_turns
    assert [d["reason"] for d in outputs.deadletters] == ["not_json"]
    # Every handoff came with a status directive that tells the customer the wait.
    statuses = {d["handoff_id"] for d in outputs.directives if d["type"] == "status"}
    assert statuses == set(expected)


async def test_kill_9_mid_stream_loses_nothing(deployment: Deployment) -> None:
    turns = traffic(120, seed=22)
    expected = expected_handoffs(turns, deployment.policy)
    first = deployment.worker()
    async with BotClient(deployment.settings, topics=deployment.topics, bot_id="t") as client:
        await client.publish_many(turns)
    # Let it get well into the stream, then kill it without a drain or commit.
    n_turns = len(turns)
    outputs = await read_until(
        deployment,
        lambda o: len(o.decisions) >= n_turns // 3,
        within=90,
    )
    assert len(outputs.decisions) >= n_turns // 3, deployment.logs()
    first.kill()
    second = deployment.worker()
    outputs = await read_until(
        deployment,
        lambda o: (
            o.handoff_ids() >= set(expected)
            and len({d["decision_id"] for d in o.decisions}) >= n_turns
        ),
        within=120,
    )
    assert second.alive(), deployment.logs()
    assert_invariants(outputs, expected)
