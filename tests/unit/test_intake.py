"""The HTTP intake of lifecycle events: auth, limits, validation, publishing, and no secrets
in logs. Served by the real aiohttp application through aiohttp's test server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiokafka.errors import KafkaConnectionError
from pydantic import SecretStr
from structlog.testing import capture_logs

from warmhandoff.streams.contract.models import HandoffEvent
from warmhandoff.streams.runtime.intake import (
    PATH,
    SIGNATURE_HEADER,
    Credentials,
    Intake,
    RateLimiter,
    sign,
)
from warmhandoff.streams.runtime.ops import OpsServer

TOKEN = "tok-3f9a-not-for-logs"
SECRET = "hmac-key-7c1e-not-for-logs"
MAX_BODY = 2048


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Desk:
    """The publish callback and readiness the worker would inject."""

    def __init__(self) -> None:
        self.published: list[HandoffEvent] = []
        self.not_ready: str | None = None
        self.broken = False

    async def publish(self, events: list[HandoffEvent]) -> None:
        if self.broken:
            raise KafkaConnectionError("broker gone")
        self.published.extend(events)

    def readiness(self) -> str | None:
        return self.not_ready


def event(**extra: Any) -> dict[str, Any]:
    return {
        "event_id": "ev-1",
        "handoff_id": "h-1",
        "conversation_id": "c-1",
        "type": "accepted",
        "ts": "2026-11-25T16:00:00Z",
        "source": "contact-centre",
        "agent_id": "a-1",
        **extra,
    }


@pytest.fixture
async def client() -> AsyncIterator[Any]:
    desk = Desk()
    intake = Intake(
        Credentials(SecretStr(TOKEN), SecretStr(SECRET)),
        desk.publish,
        desk.readiness,
        max_body_bytes=MAX_BODY,
        limiter=RateLimiter(rate=1.0, burst=5, clock=FakeClock()),
    )
    server = OpsServer("127.0.0.1", 0, lambda: None, intake=intake)
    async with TestClient(TestServer(server.application())) as c:
        c.desk = desk
        yield c


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


async def test_a_bearer_token_publishes_the_event(client: Any) -> None:
    resp = await client.post(PATH, data=orjson.dumps(event()), headers=bearer())
    assert resp.status == 202
    assert await resp.json() == {"accepted": 1, "event_ids": ["ev-1"]}
    assert [(e.handoff_id, e.type.value) for e in client.desk.published] == [("h-1", "accepted")]


async def test_a_crm_reports_the_first_reply_and_a_transfer(client: Any) -> None:
    body = orjson.dumps(
        [
            event(type="replied", reply="Hello, I can help with that.", macro_id="greeting"),
            event(event_id="ev-2", type="transferred", queue="billing"),
        ]
    )
    resp = await client.post(PATH, data=body, headers=bearer())
    assert resp.status == 202, await resp.text()
    replied, transferred = client.desk.published
    assert (replied.type.value, replied.reply, replied.macro_id) == (
        "replied",
        "Hello, I can help with that.",
        "greeting",
    )
    assert (transferred.type.value, transferred.queue) == ("transferred", "billing")


async def test_an_hmac_signature_of_the_body_publishes_a_batch(client: Any) -> None:
    body = orjson.dumps([event(), event(event_id="ev-2", type="csat", csat=5, agent_id=None)])
    headers = {SIGNATURE_HEADER: sign(SECRET, body), "Content-Type": "application/json"}
    resp = await client.post(PATH, data=body, headers=headers)
    assert resp.status == 202
    assert [e.type.value for e in client.desk.published] == ["accepted", "csat"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {SIGNATURE_HEADER: sign(SECRET, b"another body")},
        {SIGNATURE_HEADER: sign("wrong key", orjson.dumps(event()))},
    ],
    ids=["none", "wrong-token", "not-bearer", "signature-of-other-body", "wrong-key"],
)
async def test_without_valid_credentials_it_is_401(client: Any, headers: dict[str, str]) -> None:
    resp = await client.post(
        PATH, data=orjson.dumps(event()), headers={"Content-Type": "application/json", **headers}
    )
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await resp.json())["error"] == "unauthorized"
    assert client.desk.published == []


@pytest.mark.parametrize(
    ("body", "reason", "detail"),
    [
        (b"{not json", "not_json", "not valid JSON"),
        (orjson.dumps(event(type="teleported")), "invalid", "type"),
        (orjson.dumps(event(csat=9)), "invalid", "csat"),
        (orjson.dumps(event(customer_name="Ana")), "invalid", "customer_name"),
        (orjson.dumps({k: v for k, v in event().items() if k != "ts"}), "invalid", "ts"),
        (orjson.dumps(event(ts="2026-11-25T16:00:00")), "invalid", "ts"),
        (orjson.dumps(event(ts="9999-12-31T23:59:59Z")), "invalid", "ts: must be from"),
        (orjson.dumps(event(schema_version=7)), "unsupported_version", "7"),
        (b"[]", "invalid", "1 to 100"),
        (b"[1]", "invalid", "[0] expected a JSON object"),
    ],
    ids=[
        "json",
        "type",
        "csat",
        "unknown",
        "missing-ts",
        "naive-ts",
        "far-ts",
        "version",
        "empty",
        "item",
    ],
)
async def test_malformed_events_are_400_with_the_reason(
    client: Any, body: bytes, reason: str, detail: str
) -> None:
    resp = await client.post(PATH, data=body, headers=bearer())
    assert resp.status == 400
    answer = await resp.json()
    assert answer["error"] == reason and detail in answer["detail"]
    assert "Ana" not in answer["detail"]  # field paths, never the values
    assert client.desk.published == []


async def test_oversize_bodies_are_413_declared_or_streamed(client: Any) -> None:
    big = orjson.dumps(event(reason="x" * 150)) * 20
    assert len(big) > MAX_BODY
    declared = await client.post(PATH, data=big, headers=bearer())
    assert declared.status == 413

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 500

    streamed = await client.post(PATH, data=chunks(), headers=bearer())
    assert streamed.status == 413
    assert client.desk.published == []


async def test_other_media_types_are_415(client: Any) -> None:
    headers = {**bearer(), "Content-Type": "text/plain"}
    resp = await client.post(PATH, data=orjson.dumps(event()), headers=headers)
    assert resp.status == 415


async def test_a_client_over_its_rate_gets_429_with_retry_after(client: Any) -> None:
    codes = []
    for _ in range(7):
        resp = await client.post(PATH, data=orjson.dumps(event()), headers=bearer())
        codes.append(resp.status)
    assert codes == [202] * 5 + [429, 429]
    assert int(resp.headers["Retry-After"]) >= 1


async def test_not_ready_or_broker_down_is_503_so_the_caller_retries(client: Any) -> None:
    client.desk.not_ready = "rebalancing"
    resp = await client.post(PATH, data=orjson.dumps(event()), headers=bearer())
    assert resp.status == 503 and "rebalancing" in (await resp.json())["detail"]
    client.desk.not_ready = None
    client.desk.broken = True
    resp = await client.post(PATH, data=orjson.dumps(event()), headers=bearer())
    assert resp.status == 503 and (await resp.json())["error"] == "unavailable"


async def test_logs_carry_neither_secrets_nor_event_text(client: Any) -> None:
    body = orjson.dumps(event(reason="customer said: my card is 4111"))
    with capture_logs() as logs:
        await client.post(PATH, data=body, headers=bearer())
        await client.post(PATH, data=body, headers=bearer("Bearer-guess-" + TOKEN[:4]))
        await client.post(PATH, data=b"{", headers=bearer())
    text = repr(logs)
    assert logs and TOKEN not in text and SECRET not in text
    assert "4111" not in text and "my card" not in text


async def test_without_credentials_configured_the_route_does_not_exist() -> None:
    server = OpsServer("127.0.0.1", 0, lambda: None)
    async with TestClient(TestServer(server.application())) as c:
        resp = await c.post(PATH, data=orjson.dumps(event()), headers=bearer())
        assert resp.status == 404
    assert not Credentials().configured


def test_the_rate_limiter_refills_per_client_and_bounds_its_memory() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2.0, burst=2, clock=clock, max_clients=3)
    assert [limiter.wait("a") for _ in range(2)] == [0.0, 0.0]
    assert limiter.wait("a") == pytest.approx(0.5)
    assert limiter.wait("b") == 0.0  # another client has its own bucket
    clock.now += 0.5
    assert limiter.wait("a") == 0.0  # one token back after half a second
    for name in "cdef":
        limiter.wait(name)
    assert len(limiter._buckets) == 3
