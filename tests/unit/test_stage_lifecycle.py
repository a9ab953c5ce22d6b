"""Stage tests of the lifecycle wiring: the `handoff_events` agent, deadline ticks and the
customer's cancel, with Faust's test context, in-memory tables and an injected sender.

The silent-failure cases are here end to end inside one worker: a sink that never delivers,
a desk where nobody accepts, a customer who leaves. Each must end with the customer told
(or, when they left, nothing said) and the bot owning the conversation again.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import timedelta
from itertools import count
from typing import Any

import orjson
import pytest

from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.models import HandoffEvent
from warmhandoff.streams.contract.topics import load_topics
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.runtime import metrics
from warmhandoff.streams.services.worker.app import Pipeline

from .test_stage_turns import T0, Clock, FakeProducer, turn_bytes

_ids = count()


@pytest.fixture
async def stage(tmp_path: Any) -> AsyncIterator[tuple[Pipeline, FakeProducer, Clock]]:
    settings = WorkerSettings(
        store="memory://",
        data_dir=tmp_path,
        web_port=0,
        app_id="stage",
        delivery_timeout_seconds=30,
        accept_timeout_seconds=120,
        max_delivery_attempts=2,
    )
    topics = load_topics(prefix="st.", app_id="stage")
    producer = FakeProducer()
    clock = Clock(T0)
    pipeline = Pipeline(settings, topics, load_policy(), clock=clock, sender=producer)
    pipeline.app.finalize()
    pipeline.app.flow_control.resume()
    yield pipeline, producer, clock


def event_bytes(handoff_id: str, kind: str, **extra: Any) -> bytes:
    return orjson.dumps(
        {
            "event_id": f"ev-{next(_ids)}",
            "handoff_id": handoff_id,
            "conversation_id": "c-9",
            "type": kind,
            "ts": T0.isoformat(),
            "source": "crm:test",
            **extra,
        }
    )


async def hand_off(pipeline: Pipeline, producer: FakeProducer) -> str:
    async with pipeline.turns_agent.test_context() as agent:
        await agent.put(key=b"c-9", value=turn_bytes(0, "I want to talk to a human agent"))
    (handoff,) = producer.on("handoff.requests")
    return str(handoff["handoff_id"])


async def put_events(pipeline: Pipeline, *values: bytes, key: bytes = b"c-9") -> None:
    async with pipeline.events_agent.test_context() as agent:
        for value in values:
            await agent.put(key=key, value=value)


async def tick(pipeline: Pipeline, producer: FakeProducer) -> None:
    """What the worker's timer and tick agent do once the clock passed a deadline."""
    before = len(producer.sent)
    await pipeline._tick_overdue()
    ticks = [k for t, k, _ in producer.sent[before:] if t == pipeline.out.timers]
    async with pipeline.timers_agent.test_context() as timers:
        for key in ticks:
            await timers.put(key=key, value=b"tick")


def directive_types(producer: FakeProducer) -> list[str]:
    return [d["type"] for d in producer.on("bot.directives")]


async def test_delivered_accepted_resolved_pauses_then_resumes_the_bot(stage: Any) -> None:
    pipeline, producer, _ = stage
    hid = await hand_off(pipeline, producer)
    accepted_before = (
        metrics.REGISTRY.get_sample_value("warmhandoff_handoff_events_total", {"type": "accepted"})
        or 0.0
    )
    await put_events(
        pipeline,
        event_bytes(hid, "delivered", source="sink:zendesk"),
        event_bytes(hid, "queued", queue="general"),
        event_bytes(hid, "accepted", agent_id="a-1"),
    )
    assert directive_types(producer) == ["status", "pause"]
    pause = producer.on("bot.directives")[-1]
    assert pause["handoff_id"] == hid and "specialist has joined" in pause["message"]
    assert pipeline.pending.get(b"c-9") is None  # accepted: no deadline left
    # While owned, the customer's demands escalate nothing.
    async with pipeline.turns_agent.test_context() as agent:
        await agent.put(key=b"c-9", value=turn_bytes(1, "I want a manager, this is useless"))
    assert len(producer.on("handoff.requests")) == 1
    await put_events(pipeline, event_bytes(hid, "resolved"), event_bytes(hid, "csat", csat=4))
    # Resolved: the bot takes over, then asks the one-question survey.
    assert directive_types(producer) == ["status", "pause", "resume", "survey"]
    assert producer.on("bot.directives")[-1]["handoff_id"] == hid
    state = orjson.loads(pipeline.conversations[b"c-9"])
    assert state["handoff_id"] is None and state["handoff_status"] == "resolved"
    assert state["frustration"] == 0.0 and state["escalations"] == 1
    after = metrics.REGISTRY.get_sample_value(
        "warmhandoff_handoff_events_total", {"type": "accepted"}
    )
    assert after == accepted_before + 1


async def test_illegal_duplicate_and_foreign_events_are_rejected_and_counted(stage: Any) -> None:
    pipeline, producer, _ = stage
    hid = await hand_off(pipeline, producer)

    def rejected(reason: str) -> float:
        value = metrics.REGISTRY.get_sample_value(
            "warmhandoff_handoff_events_rejected_total", {"reason": reason}
        )
        return value or 0.0

    before = {r: rejected(r) for r in ("illegal_transition", "duplicate", "not_current")}
    delivered = event_bytes(hid, "delivered")
    await put_events(
        pipeline,
        event_bytes(hid, "resolved"),  # nobody accepted it: illegal
        delivered,
        delivered,  # redelivered by Kafka or re-sent by the CRM
        event_bytes("h-from-last-week", "accepted"),
    )
    assert rejected("illegal_transition") == before["illegal_transition"] + 1
    assert rejected("duplicate") == before["duplicate"] + 1
    assert rejected("not_current") == before["not_current"] + 1
    assert directive_types(producer) == ["status"]  # nothing applied but the delivery
    assert orjson.loads(pipeline.conversations[b"c-9"])["handoff_status"] == "delivered"


async def test_bad_or_misrouted_events_go_to_the_dead_letter_topic(stage: Any) -> None:
    pipeline, producer, _ = stage
    hid = await hand_off(pipeline, producer)
    await put_events(pipeline, b"{not json", event_bytes(hid, "accepted", csat=9))
    await put_events(pipeline, event_bytes(hid, "delivered"), key=b"c-other")
    letters = producer.on("deadletter")
    assert [(d["reason"], d["stage"]) for d in letters] == [
        ("not_json", "lifecycle"),
        ("invalid", "lifecycle"),
        ("wrong_key", "lifecycle"),
    ]
    assert base64.b64decode(letters[0]["value_b64"]) == b"{not json"


async def test_sink_down_is_redelivered_then_failed_and_the_customer_is_told(stage: Any) -> None:
    pipeline, producer, clock = stage
    hid = await hand_off(pipeline, producer)
    assert pipeline.pending.get(b"c-9") == (T0 + timedelta(seconds=30)).isoformat().encode()
    clock.now = T0 + timedelta(seconds=31)
    await tick(pipeline, producer)
    requests = producer.on("handoff.requests")
    assert [r["handoff_id"] for r in requests] == [hid, hid]  # the same request, again
    assert requests[1] == requests[0]
    clock.now = T0 + timedelta(seconds=62)
    await tick(pipeline, producer)
    assert len(producer.on("handoff.requests")) == 2  # max_delivery_attempts=2: no third
    assert directive_types(producer) == ["status", "status", "resume"]
    told = producer.on("bot.directives")[1]["message"]
    assert "couldn't reach a specialist" in told
    events = producer.on("handoff.events")
    assert [(e["type"], e["reason"]) for e in events] == [("failed", "not_delivered")]
    assert pipeline.pending.get(b"c-9") is None
    # Its own failed event comes back on handoff.events: recognised, not re-applied.
    echo = [v for t, _, v in producer.sent if t == pipeline.out.events]
    await put_events(pipeline, *echo)
    assert directive_types(producer) == ["status", "status", "resume"]
    # ... and not counted as a rejection (it happens for every event the pipeline publishes).
    counted = metrics.REGISTRY.get_sample_value(
        "warmhandoff_handoff_events_rejected_total", {"reason": "echo"}
    )
    assert counted is None


async def test_nobody_accepts_so_it_is_rerouted_then_the_customer_is_told(stage: Any) -> None:
    pipeline, producer, clock = stage
    hid = await hand_off(pipeline, producer)
    queue = producer.on("handoff.requests")[0]["routing"]["queue"]
    # The policy's overflow of that queue (the shipped policy sends it nowhere).
    pipeline.overflow[queue] = "billing"
    await put_events(pipeline, event_bytes(hid, "delivered"))
    clock.now = T0 + timedelta(seconds=121)
    await tick(pipeline, producer)
    rerouted = producer.on("handoff.requests")[-1]
    assert rerouted["handoff_id"] == hid and rerouted["routing"]["queue"] == "billing"
    assert producer.on("handoff.events")[-1]["reason"] == "rerouted_not_accepted"
    assert "billing team" in producer.on("bot.directives")[-1]["message"]
    # Billing has no overflow here: the next deadline tells the customer and keeps waiting.
    pipeline.overflow["billing"] = None
    clock.now = T0 + timedelta(seconds=242)
    await tick(pipeline, producer)
    last = producer.on("bot.directives")[-1]
    assert last["type"] == "status" and "still in line" in last["message"]
    assert len(producer.on("handoff.requests")) == 2
    assert orjson.loads(pipeline.conversations[b"c-9"])["handoff_id"] == hid  # still owned


async def test_the_customer_leaves_so_it_is_abandoned_and_nothing_is_said(stage: Any) -> None:
    pipeline, producer, _ = stage
    hid = await hand_off(pipeline, producer)
    await put_events(pipeline, event_bytes(hid, "queued"), event_bytes(hid, "abandoned"))
    resume = producer.on("bot.directives")[-1]
    assert resume["type"] == "resume" and resume["message"] == ""
    assert pipeline.pending.get(b"c-9") is None
    state = orjson.loads(pipeline.conversations[b"c-9"])
    assert state["handoff_status"] == "abandoned" and state["handoff_id"] is None


async def test_the_customer_cancels_and_the_sinks_are_told(stage: Any) -> None:
    pipeline, producer, _ = stage
    hid = await hand_off(pipeline, producer)
    async with pipeline.turns_agent.test_context() as agent:
        await agent.put(key=b"c-9", value=turn_bytes(1, "never mind, I don't need an agent"))
    (cancelled,) = producer.on("handoff.events")
    assert cancelled["type"] == "cancelled" and cancelled["handoff_id"] == hid
    assert [k for t, k, _ in producer.sent if t == pipeline.out.events] == [b"c-9"]
    assert directive_types(producer) == ["status", "resume"]
    assert pipeline.pending.get(b"c-9") is None


async def test_events_from_the_http_intake_are_published_keyed_by_conversation(
    stage: Any,
) -> None:
    pipeline, producer, _ = stage
    event = HandoffEvent.model_validate(orjson.loads(event_bytes("h-1", "accepted")))
    await pipeline.publish_events([event])
    assert [(t, k) for t, k, _ in producer.sent] == [(pipeline.out.events, b"c-9")]
    assert orjson.loads(producer.sent[0][2])["event_id"] == event.event_id


async def test_a_contained_survey_answer_is_neither_applied_nor_rejected(stage: Any) -> None:
    """The survey after a conversation the bot kept is answered with the conversation id as
    the handoff id (streams/learning/survey.py): the learner's; the worker leaves it alone."""
    pipeline, producer, _ = stage
    rejected = metrics.REGISTRY.get_sample_value(
        "warmhandoff_handoff_events_rejected_total", {"reason": "no_handoff"}
    )
    await put_events(pipeline, event_bytes("c-9", "csat", csat=1))
    assert producer.sent == []
    assert pipeline.conversations.get(b"c-9") is None
    after = metrics.REGISTRY.get_sample_value(
        "warmhandoff_handoff_events_rejected_total", {"reason": "no_handoff"}
    )
    assert after == rejected
