"""The operations endpoints and the metrics a turn records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from warmhandoff.streams.contract.models import Turn
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.runtime import metrics
from warmhandoff.streams.runtime.ops import OpsServer

T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


class Ready:
    def __init__(self) -> None:
        self.reason: str | None = "joining the consumer group"

    def __call__(self) -> str | None:
        return self.reason


@pytest.fixture
async def client() -> Any:
    ready = Ready()
    server = OpsServer("127.0.0.1", 0, ready)
    async with TestClient(TestServer(server.application())) as c:
        c.ready = ready
        yield c


async def test_liveness_answers_and_readiness_follows_the_worker(client: Any) -> None:
    assert (await client.get("/livez")).status == 200
    not_ready = await client.get("/readyz")
    assert not_ready.status == 503
    assert "joining the consumer group" in await not_ready.text()
    client.ready.reason = None
    assert (await client.get("/readyz")).status == 200


async def test_metrics_follow_prometheus_conventions_and_count_a_handoff(client: Any) -> None:
    state = new_state("c-m")
    turn = Turn.model_validate(
        {"conversation_id": "c-m", "seq": 0, "ts": T0.isoformat(), "role": "customer",
         "text": "let me talk to a human", "locale": "en-US"}
    )  # fmt: skip
    result = process_turn(state, turn, load_policy(), now=T0)
    assert result is not None and result.handoff is not None
    before = (
        metrics.REGISTRY.get_sample_value(
            "warmhandoff_escalations_total",
            {"trigger": "human_request", "queue": "general", "priority": "3"},
        )
        or 0.0
    )
    metrics.observe_step(result, T0 + timedelta(milliseconds=40))
    after = metrics.REGISTRY.get_sample_value(
        "warmhandoff_escalations_total",
        {"trigger": "human_request", "queue": "general", "priority": "3"},
    )
    assert after == before + 1
    body = await (await client.get("/metrics")).text()
    assert "warmhandoff_decision_latency_seconds_bucket" in body
    names = {
        line.split("{")[0].split(" ")[0]
        for line in body.splitlines()
        if line and not line.startswith("#")
    }
    assert names and all(n.startswith("warmhandoff_") for n in names)
    for family in metrics.REGISTRY.collect():
        assert family.name.startswith("warmhandoff_")
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples)
        for sample in family.samples:
            # Never an id of a conversation, customer or agent as a label.
            assert not {"conversation_id", "customer_id", "agent_id", "handoff_id"} & set(
                sample.labels
            )
    assert "c-m" not in body


async def test_metrics_need_the_bearer_token_when_one_is_set() -> None:
    from pydantic import SecretStr

    server = OpsServer("127.0.0.1", 0, Ready(), metrics_token=SecretStr("s3cret-token"))
    async with TestClient(TestServer(server.application())) as c:
        assert (await c.get("/metrics")).status == 401
        wrong = await c.get("/metrics", headers={"Authorization": "Bearer s3cret-tokex"})
        assert wrong.status == 401 and "s3cret" not in await wrong.text()
        right = await c.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert right.status == 200 and "warmhandoff_" in await right.text()
        # Probes stay open: the kubelet sends no token and they reveal no data.
        assert (await c.get("/livez")).status == 200
