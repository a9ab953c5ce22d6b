"""The learned score in the pipeline: recorded in shadow mode, never overriding mandatory."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from warmhandoff.agents.scenarios import generate
from warmhandoff.streams.contract.models import Action, Signals, Turn
from warmhandoff.streams.core.conversation import ConversationState
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.lab.simulation.learning import active_copy
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.policy.model import Policy
from warmhandoff.streams.runtime.partitioning import partition_for

T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def turn(seq: int, text: str, **extra: Any) -> Turn:
    return Turn.model_validate(
        {
            "conversation_id": "c-1",
            "seq": seq,
            "ts": (T0 + timedelta(seconds=10 * seq)).isoformat(),
            "role": "customer",
            "text": text,
            "channel": "chat",
            **extra,
        }
    )


def constant(score: float) -> Any:
    def scorer(signals: Signals, state: ConversationState) -> float:
        return score

    return scorer


def test_shadow_scores_are_recorded_and_change_no_decision(policy: Policy) -> None:
    conversations = generate(40, seed=5, escalating_share=0.5, start=T0)
    for score in (0.0, 1.0):
        for conversation in conversations:
            plain, scored = new_state(conversation.id), new_state(conversation.id)
            for t in conversation.turns:
                a = process_turn(plain, t, policy, now=t.ts)
                b = process_turn(scored, t, policy, now=t.ts, scorer=constant(score))
                assert a is not None and b is not None
                assert a.decision is not None and b.decision is not None
                assert b.decision.learned_score == score and a.decision.learned_score is None
                assert b.decision.action == a.decision.action
                assert b.decision.triggers == a.decision.triggers


def test_an_active_learned_trigger_escalates_a_quiet_turn(policy: Policy) -> None:
    active = active_copy(policy, 0.7, 0.35)
    result = process_turn(
        new_state("c-1"), turn(0, "where is my order?"), active, now=T0, scorer=constant(0.9)
    )
    assert result is not None and result.decision is not None
    assert result.decision.action in (Action.escalate, Action.gather)
    assert "learned" in [hit.code for hit in result.decision.triggers]


def test_a_low_score_holds_back_soft_triggers_but_never_a_mandatory_one(policy: Policy) -> None:
    active = active_copy(policy, 0.7, 0.35)
    angry = "This is the worst service ever, I am furious and disgusted."
    held = process_turn(new_state("c-1"), turn(0, angry), active, now=T0, scorer=constant(0.1))
    assert held is not None and held.decision is not None
    assert held.decision.action is Action.none
    assert "negative_sentiment" in [hit.code for hit in held.decision.triggers]
    ask = "I want to talk to a real person please"
    kept = process_turn(new_state("c-2"), turn(0, ask), active, now=T0, scorer=constant(0.0))
    assert kept is not None and kept.decision is not None
    assert kept.decision.action in (Action.escalate, Action.gather)


async def test_the_worker_records_the_learned_score_of_a_loaded_model(tmp_path: Any) -> None:
    import orjson

    from warmhandoff.streams.config.worker import WorkerSettings
    from warmhandoff.streams.contract.models import LearnedModelSnapshot
    from warmhandoff.streams.contract.topics import load_topics
    from warmhandoff.streams.learning.model import LearnedModel
    from warmhandoff.streams.learning.scorer import LinearScorer
    from warmhandoff.streams.services.worker.app import Pipeline

    model = LearnedModel()
    for i in range(50):
        model.learn({"sentiment": -0.1 * (i % 10), "human_request": float(i % 2)}, i % 2 == 1)
    snapshot = model.snapshot(version="v1")
    LearnedModelSnapshot.model_validate(orjson.loads(snapshot))  # the topic's schema

    sent: list[tuple[str, bytes]] = []

    async def sender(topic: str, key: bytes | None, value: bytes) -> Any:
        sent.append((topic, value))
        acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        acked.set_result(None)
        return acked

    settings = WorkerSettings(store="memory://", data_dir=tmp_path, web_port=0, app_id="stage")
    topics = load_topics(prefix="st.", app_id="stage")
    pipeline = Pipeline(settings, topics, load_policy(), sender=sender)
    pipeline.app.finalize()
    pipeline.app.flow_control.resume()

    def decisions() -> list[dict[str, Any]]:
        return [orjson.loads(v) for t, v in sent if t.endswith("escalation.decisions")]

    async with pipeline.turns_agent.test_context() as agent:
        await agent.put(
            key=b"c-1",
            partition=partition_for(b"c-1", 8),
            value=turn(0, "where is my order?").model_dump_json().encode(),
        )
        assert decisions()[-1].get("learned_score") is None  # no model loaded yet
        pipeline.learned = LinearScorer.from_snapshot(snapshot)
        await agent.put(
            key=b"c-1",
            partition=partition_for(b"c-1", 8),
            value=turn(1, "it was due on Monday").model_dump_json().encode(),
        )
    score = decisions()[-1]["learned_score"]
    assert isinstance(score, float) and 0.0 <= score <= 1.0
