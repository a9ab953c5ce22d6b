"""The webhook sink against a real HTTPS receiver: headers, signature, retries, idempotency."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from warmhandoff.streams.core.codec import encode
from warmhandoff.streams.sinks.exceptions import (
    PermanentDeliveryError,
    SinkConfigError,
    TransientDeliveryError,
)
from warmhandoff.streams.sinks.retry import RetryPolicy, with_retries
from warmhandoff.streams.sinks.webhook import WebhookSink, check_url

from ..sinkdata import handoff_request
from ..webhook_receiver import Receiver, serve_receiver

pytestmark = pytest.mark.timeout(30)

SECRET = b"s3cret-shared-with-the-receiver"
POLICY = RetryPolicy(attempts=4, base_seconds=0.01, cap_seconds=0.05)


@pytest.fixture
async def receiver(tmp_path: Path) -> AsyncIterator[Receiver]:
    async with serve_receiver(SECRET, tmp_path) as r:
        yield r


@pytest.fixture
async def sink(receiver: Receiver) -> AsyncIterator[WebhookSink]:
    s = WebhookSink(receiver.url, SECRET, timeout_seconds=5, ca_file=receiver.ca_file)
    await s.start()
    yield s
    await s.close()


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


async def deliver(sink: WebhookSink, sleeps: Sleeps | None = None, **kw: object) -> object:
    request = handoff_request(**kw)  # type: ignore[arg-type]
    return await with_retries(
        lambda: sink.deliver(request), POLICY, rng=random.Random(5), sleep=sleeps or Sleeps()
    )


async def test_posts_the_handoff_json_signed_with_the_handoff_id_as_key(
    sink: WebhookSink, receiver: Receiver
) -> None:
    request = handoff_request()
    result = await sink.deliver(request)
    assert result.created is True
    (attempt,) = receiver.attempts
    assert attempt.body == encode(request)
    assert attempt.key == request.handoff_id
    assert attempt.signature_ok
    assert receiver.records == {request.handoff_id: encode(request)}


async def test_committed_then_dropped_answer_is_retried_without_a_second_record(
    sink: WebhookSink, receiver: Receiver
) -> None:
    receiver.drop_after_commit = 1
    sleeps = Sleeps()
    await deliver(sink, sleeps)
    assert len(receiver.records) == 1
    assert len(receiver.attempts) == 2 and len(sleeps.waits) == 1
    assert {a.key for a in receiver.attempts} == {handoff_request().handoff_id}
    assert all(a.signature_ok for a in receiver.attempts)


async def test_two_concurrent_deliveries_of_one_handoff_make_one_record(
    sink: WebhookSink, receiver: Receiver
) -> None:
    receiver.hold = asyncio.Event()
    first = asyncio.create_task(deliver(sink))
    await asyncio.wait_for(receiver.arrived.wait(), 5)
    receiver.arrived.clear()
    second = asyncio.create_task(deliver(sink))  # 409 while the first is in flight
    await asyncio.wait_for(receiver.arrived.wait(), 5)
    receiver.hold.set()
    await asyncio.wait_for(asyncio.gather(first, second), 10)
    assert len(receiver.records) == 1
    assert all(a.signature_ok and a.key == handoff_request().handoff_id for a in receiver.attempts)


async def test_retry_after_of_a_503_is_honoured(sink: WebhookSink, receiver: Receiver) -> None:
    receiver.scripted = [(503, {"Retry-After": "1"}), (429, {})]
    sleeps = Sleeps()
    await deliver(sink, sleeps)
    assert sleeps.waits[0] == POLICY.cap_seconds  # Retry-After 1 s, capped at the policy's cap
    assert len(receiver.attempts) == 3 and len(receiver.records) == 1


async def test_a_4xx_refusal_is_not_retried(sink: WebhookSink, receiver: Receiver) -> None:
    receiver.scripted = [(422, {})]
    with pytest.raises(PermanentDeliveryError, match="HTTP 422") as caught:
        await deliver(sink)
    assert caught.value.reason == "rejected"
    assert len(receiver.attempts) == 1 and not receiver.records


async def test_a_receiver_down_for_the_whole_budget_fails_transiently(
    sink: WebhookSink, receiver: Receiver
) -> None:
    receiver.scripted = [(500, {})] * POLICY.attempts
    with pytest.raises(TransientDeliveryError, match="HTTP 500"):
        await deliver(sink)
    assert len(receiver.attempts) == POLICY.attempts


async def test_a_slow_receiver_times_out(receiver: Receiver) -> None:
    receiver.hold = asyncio.Event()  # never set while the sink waits
    slow = WebhookSink(receiver.url, SECRET, timeout_seconds=0.3, ca_file=receiver.ca_file)
    await slow.start()
    try:
        with pytest.raises(TransientDeliveryError) as caught:
            await slow.deliver(handoff_request())
    finally:
        await slow.close()
    assert caught.value.reason == "timeout"


async def test_an_untrusted_certificate_is_not_accepted(receiver: Receiver) -> None:
    unverified = WebhookSink(receiver.url, SECRET, timeout_seconds=5)  # system CAs only
    await unverified.start()
    try:
        with pytest.raises(TransientDeliveryError, match=r"Certificate|SSL"):
            await unverified.deliver(handoff_request())
    finally:
        await unverified.close()
    assert receiver.attempts == []


def test_the_signature_is_an_hmac_sha256_of_the_exact_body() -> None:
    from warmhandoff.streams.sinks.webhook import signature

    body = b'{"handoff_id":"h"}'
    assert signature(b"k", body) == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()


def test_urls_must_be_https_except_to_loopback() -> None:
    assert check_url("https://crm.example.com/hook")
    assert check_url("http://127.0.0.1:8080/hook")
    assert check_url("http://localhost/hook")
    for bad in ("http://crm.example.com/hook", "ftp://x/y", "crm.example.com"):
        with pytest.raises(SinkConfigError):
            check_url(bad)
    with pytest.raises(SinkConfigError, match="secret"):
        WebhookSink("https://crm.example.com/hook", b"", timeout_seconds=1)
