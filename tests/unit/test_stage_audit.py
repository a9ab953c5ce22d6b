"""Stage tests of the audit record: every decision also goes to audit.decisions, keyed by its
decision_id, with the same bytes as on escalation.decisions; WARMHANDOFF_AUDIT_DECISIONS=false
turns it off."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from warmhandoff.streams.config.connection import load_settings
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.topics import load_topics
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.services.worker.app import Pipeline

from .test_stage_turns import T0, Clock, FakeProducer, turn_bytes


def stage(tmp_path: Path, *, audit: bool) -> tuple[Pipeline, FakeProducer, Clock]:
    settings = WorkerSettings(
        store="memory://", data_dir=tmp_path, web_port=0, app_id="stage", audit_decisions=audit
    )
    producer, clock = FakeProducer(), Clock(T0)
    topics = load_topics(prefix="st.", app_id="stage")
    pipeline = Pipeline(settings, topics, load_policy(), clock=clock, sender=producer)
    pipeline.app.finalize()
    pipeline.app.flow_control.resume()
    return pipeline, producer, clock


def sent_to(producer: FakeProducer, topic: str) -> list[tuple[bytes | None, bytes]]:
    return [(k, v) for t, k, v in producer.sent if t == topic]


async def test_every_decision_is_published_to_the_audit_topic_by_decision_id(
    tmp_path: Path,
) -> None:
    pipeline, producer, _ = stage(tmp_path, audit=True)
    assert pipeline.out.audit == "st.audit.decisions"
    async with pipeline.turns_agent.test_context() as agent:
        await agent.put(key=b"c-9", value=turn_bytes(0, "hello, I have a question about my bill"))
        await agent.put(key=b"c-9", value=turn_bytes(1, "I want to talk to a human agent"))
    decisions = sent_to(producer, "st.escalation.decisions")
    audited = sent_to(producer, "st.audit.decisions")
    assert len(decisions) == len(audited) == 2
    for (conversation_key, value), (audit_key, audit_value) in zip(decisions, audited, strict=True):
        assert conversation_key == b"c-9"
        assert audit_value == value  # the same bytes
        record = orjson.loads(audit_value)
        assert audit_key == record["decision_id"].encode()
        # The record carries what an audit needs: inputs, triggers, thresholds, policy version.
        assert {"signals", "triggers", "policy_version"} <= set(record)
    assert [orjson.loads(v)["action"] for _, v in audited] == ["none", "escalate"]
    assert len({k for k, _ in audited}) == 2


async def test_a_redelivered_turn_gets_the_same_audit_key(tmp_path: Path) -> None:
    # Two fresh pipelines (as after a crash before the offset commit) decide the same turn:
    # the audit key is the same, so compaction keeps one record for the decision.
    keys = []
    for run in ("a", "b"):
        pipeline, producer, _ = stage(tmp_path / run, audit=True)
        async with pipeline.turns_agent.test_context() as agent:
            await agent.put(key=b"c-9", value=turn_bytes(0, "I want to talk to a human agent"))
        [(key, _)] = sent_to(producer, "st.audit.decisions")
        keys.append(key)
    assert keys[0] == keys[1]


async def test_a_timer_decision_is_audited_too(tmp_path: Path) -> None:
    pipeline, producer, clock = stage(tmp_path, audit=True)
    async with pipeline.turns_agent.test_context() as agent:
        await agent.put(key=b"c-9", value=turn_bytes(0, "I was charged twice for one order"))
    clock.now = T0 + timedelta(hours=1)
    async with pipeline.timers_agent.test_context() as timers:
        await timers.put(key=b"c-9", value=b"tick")
    decisions = sent_to(producer, "st.escalation.decisions")
    audited = sent_to(producer, "st.audit.decisions")
    assert [v for _, v in audited] == [v for _, v in decisions]
    assert len(audited) == 2
    assert [k for k, _ in audited] == [orjson.loads(v)["decision_id"].encode() for _, v in audited]


async def test_the_setting_off_publishes_no_audit_record(tmp_path: Path) -> None:
    pipeline, producer, _ = stage(tmp_path, audit=False)
    assert pipeline.out.audit is None
    async with pipeline.turns_agent.test_context() as agent:
        await agent.put(key=b"c-9", value=turn_bytes(0, "I want to talk to a human agent"))
    assert len(sent_to(producer, "st.escalation.decisions")) == 1
    assert not [t for t, _, _ in producer.sent if "audit" in t]


def test_the_setting_reads_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WARMHANDOFF_AUDIT_DECISIONS", raising=False)
    assert load_settings(WorkerSettings).audit_decisions is True
    monkeypatch.setenv("WARMHANDOFF_AUDIT_DECISIONS", "false")
    assert load_settings(WorkerSettings).audit_decisions is False
