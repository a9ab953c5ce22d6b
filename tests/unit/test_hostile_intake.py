"""Hostile requests to the HTTP intake (POST /v1/handoff-events), as a black box.

Random bodies (valid events and batches, broken ones, random bytes, oversize, deep nesting,
invalid UTF-8, streamed without a length) with random credentials and content types, sent
through aiohttp's test client to the real application. Every answer is 202 only for a valid
event from an authenticated caller, otherwise 400/401/413/415/429 with a reason; never a
500. Neither the secrets nor anything from the body reach the log.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator, Iterator
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError
from structlog.testing import capture_logs

from warmhandoff.streams.contract.models import HandoffEvent
from warmhandoff.streams.runtime.intake import (
    PATH,
    SIGNATURE_HEADER,
    Credentials,
    Intake,
    RateLimiter,
)
from warmhandoff.streams.runtime.ops import OpsServer

from .hostile_strategies import HOSTILE, MARKER, instants, json_values, mangled_bytes

TOKEN = "tok-hostile-9d2f"
SECRET = "hmac-hostile-51ce"
MAX_BODY = 4096
REFUSALS = {400, 401, 413, 415, 429}


class Desk:
    def __init__(self) -> None:
        self.published: list[HandoffEvent] = []

    async def publish(self, events: list[HandoffEvent]) -> None:
        self.published.extend(events)


class Intake_:
    """A running intake and the loop it runs on (hypothesis examples are synchronous)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: TestClient, desk: Desk) -> None:
        self.loop, self.client, self.desk = loop, client, desk


@pytest.fixture(scope="module")
def intake() -> Iterator[Intake_]:
    loop = asyncio.new_event_loop()
    desk = Desk()
    handler = Intake(
        Credentials(SecretStr(TOKEN), SecretStr(SECRET)),
        desk.publish,
        lambda: None,
        max_body_bytes=MAX_BODY,
        # A stopped clock and a deep bucket: rate limiting is tested on its own below.
        limiter=RateLimiter(rate=1.0, burst=1_000_000, clock=lambda: 0.0),
    )
    server = OpsServer("127.0.0.1", 0, lambda: None, intake=handler)

    async def start() -> TestClient:
        client = TestClient(TestServer(server.application()))
        await client.start_server()
        return client

    client = loop.run_until_complete(start())
    try:
        yield Intake_(loop, client, desk)
    finally:
        loop.run_until_complete(client.close())
        loop.close()


@st.composite
def event_dicts(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "event_id": draw(st.text(min_size=1, max_size=12)),
        "handoff_id": "h-1",
        "conversation_id": draw(st.text(min_size=1, max_size=12)),
        "type": draw(st.sampled_from(["delivered", "accepted", "resolved", "abandoned"])),
        "ts": draw(instants).isoformat(),
        "source": "desk",
        "reason": MARKER,
    }


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    valid = draw(event_dicts())
    kind = draw(
        st.sampled_from(
            ["event", "batch", "broken", "mangled", "json", "bytes", "huge", "deep", "empty_batch"]
        )
    )
    if kind == "event":
        return orjson.dumps(valid)
    if kind == "batch":
        return orjson.dumps([valid] * draw(st.integers(1, 5)))
    if kind == "broken":
        broken = dict(valid)
        key = draw(st.sampled_from([*sorted(valid), "extra", "schema_version"]))
        broken[key] = draw(st.sampled_from([[], {}, None, "", MARKER, 10**30]) | json_values)
        return orjson.dumps(broken)
    if kind == "mangled":
        return draw(mangled_bytes(orjson.dumps(valid)))
    if kind == "json":
        return orjson.dumps(draw(json_values))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "huge":
        return orjson.dumps({**valid, "reason": MARKER * draw(st.integers(400, 2_000))})
    if kind == "deep":
        depth = draw(st.integers(10, 3_000))
        return b"[" * depth + b"]" * depth
    return b"[]"


printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


@st.composite
def auth_headers(draw: st.DrawFn, body: bytes) -> tuple[dict[str, str], bool]:
    """Headers, and whether they prove the caller (a valid token or the body's HMAC)."""
    good_sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    options: list[tuple[dict[str, str], bool]] = [
        ({}, False),
        ({"Authorization": f"Bearer {TOKEN}"}, True),
        ({"Authorization": f"bearer {TOKEN}"}, True),
        ({"Authorization": f"Bearer {TOKEN}x"}, False),
        ({"Authorization": f"Basic {TOKEN}"}, False),
        ({"Authorization": "Bearer " + draw(printable)}, False),
        ({SIGNATURE_HEADER: good_sig}, True),
        ({SIGNATURE_HEADER: good_sig.upper().replace("SHA256=", "sha256=")}, True),
        ({SIGNATURE_HEADER: good_sig[:-1] + ("0" if good_sig[-1] != "0" else "1")}, False),
        ({SIGNATURE_HEADER: draw(printable)}, False),
        ({"Authorization": draw(printable), SIGNATURE_HEADER: draw(printable)}, False),
    ]
    return draw(st.sampled_from(options))


content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", None, "application/x"]
)


def expected_events(body: bytes) -> list[HandoffEvent] | None:
    """The events a body holds when it is a valid single event or batch, else None."""
    try:
        data = orjson.loads(body)
        items = data if isinstance(data, list) else [data]
        if not 1 <= len(items) <= 100:
            return None
        return [HandoffEvent.model_validate(item) for item in items]
    except (orjson.JSONDecodeError, ValidationError):
        return None


async def stream(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 1_000):
        yield body[start : start + 1_000]


@HOSTILE
@given(st.data())
def test_every_request_is_accepted_only_when_valid_and_authenticated(
    intake: Intake_, data: st.DataObject
) -> None:
    body = data.draw(bodies(), label="body")
    headers, authenticated = data.draw(auth_headers(body), label="auth")
    content_type = data.draw(content_types, label="content_type")
    chunked = data.draw(st.booleans(), label="chunked")
    if content_type is not None:
        headers = {**headers, "Content-Type": content_type}

    async def send() -> tuple[int, dict[str, Any]]:
        payload: Any = stream(body) if chunked else body
        async with intake.client.post(PATH, data=payload, headers=headers) as response:
            return response.status, orjson.loads(await response.read())

    published = len(intake.desk.published)
    with capture_logs() as logs:
        status, answer = intake.loop.run_until_complete(send())
    events = expected_events(body)
    json_type = content_type is not None and content_type.startswith("application/json")
    if status == 202:
        assert authenticated and json_type and events is not None and len(body) <= MAX_BODY
        assert intake.desk.published[published:] == events
        assert answer["event_ids"] == [e.event_id for e in events]
    else:
        assert status in REFUSALS, (status, answer)
        assert answer["error"] and answer["detail"]
        assert len(intake.desk.published) == published
        if authenticated and json_type and events is not None and len(body) <= MAX_BODY:
            pytest.fail(f"a valid authenticated event was refused: {status} {answer}")
        if status == 401:
            assert not authenticated
    shown = repr(logs)
    assert TOKEN not in shown and SECRET not in shown and MARKER not in shown


def test_an_unhashable_schema_version_is_a_400_not_a_500(intake: Intake_) -> None:
    # Found by the property above: `[] in frozenset(...)` raised TypeError inside the handler.
    body = orjson.dumps({"schema_version": [], "event_id": "e"})

    async def send() -> int:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        async with intake.client.post(PATH, data=body, headers=headers) as response:
            return response.status

    assert intake.loop.run_until_complete(send()) == 400


async def test_a_flood_from_one_client_is_cut_at_its_burst() -> None:
    handler = Intake(
        Credentials(SecretStr(TOKEN)),
        Desk().publish,
        lambda: None,
        max_body_bytes=MAX_BODY,
        limiter=RateLimiter(rate=1.0, burst=10, clock=lambda: 0.0),
    )
    app = OpsServer("127.0.0.1", 0, lambda: None, intake=handler).application()
    async with TestClient(TestServer(app)) as client:
        statuses = []
        for _ in range(25):
            # Unauthenticated garbage counts against the bucket too: a flood is cut either way.
            async with client.post(PATH, data=b"\xff", headers={"Content-Type": "text/plain"}) as r:
                statuses.append(r.status)
                if r.status == 429:
                    assert int(r.headers["Retry-After"]) >= 1
    assert statuses[:10] == [415] * 10
    assert statuses[10:] == [429] * 15
