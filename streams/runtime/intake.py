"""HTTP intake of handoff lifecycle events for systems that can only call webhooks.

`POST /v1/handoff-events` on the worker's operations port (streams/runtime/ops.py) takes one
`HandoffEvent` as a JSON object, or up to `MAX_BATCH` of them as a JSON array, and publishes
them to `handoff.events` keyed by conversation_id, exactly as a Kafka producer would.

Checks, in order, each with a clear status and a one-line reason:
1. body larger than `intake_max_body_bytes` → 413 (declared length first, then as read);
2. more than the client's share (token bucket per client address) → 429 with Retry-After;
3. not `application/json` → 415;
4. neither a valid `Authorization: Bearer <token>` nor a valid
   `X-Warmhandoff-Signature: sha256=<hex HMAC-SHA256 of the body>` → 401 (both compared in
   constant time);
5. not JSON, not an event, an unknown field or a bad value → 400 with the field paths;
6. the worker not ready or the broker not acknowledging → 503 (retry later);
then 202 with the accepted event ids. With neither a token nor an HMAC secret configured the
route does not exist (404). Secrets and event bodies are never logged: only status codes,
reason codes, counts and event types.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson
import structlog
from aiohttp import web
from aiokafka.errors import KafkaError
from pydantic import SecretStr, ValidationError

from warmhandoff.streams.contract.models import HandoffEvent
from warmhandoff.streams.core.codec import (
    SUPPORTED_SCHEMA_VERSIONS,
    Rejected,
    check_ts,
    describe_errors,
)
from warmhandoff.streams.runtime import metrics

log = structlog.get_logger(__name__)

PATH = "/v1/handoff-events"
MAX_BATCH = 100
SIGNATURE_HEADER = "X-Warmhandoff-Signature"

Publish = Callable[[list[HandoffEvent]], Awaitable[None]]
"""Publishes events to `handoff.events` and returns once the broker acknowledged them."""
Readiness = Callable[[], str | None]
Clock = Callable[[], float]


class RateLimiter:
    """A token bucket per client: `burst` at once, then `rate` per second (bounded memory)."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Clock = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def wait(self, client: str) -> float:
        """0 when the request may go ahead (and is counted), else seconds until it may."""
        now = self.clock()
        tokens, last = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[client] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)  # the least recently seen client
        return 0.0 if allowed else (1.0 - tokens) / self.rate


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a caller must prove: a bearer token, an HMAC key, or either."""

    token: SecretStr | None = None
    hmac_secret: SecretStr | None = None

    @property
    def configured(self) -> bool:
        """False: the intake route is off."""
        return self.token is not None or self.hmac_secret is not None

    def verify(self, authorization: str | None, signature: str | None, body: bytes) -> bool:
        """True when the bearer token or the body's HMAC matches (constant-time compares)."""
        ok = False
        if self.token is not None and authorization:
            scheme, _, given = authorization.partition(" ")
            expected = self.token.get_secret_value().encode()
            ok |= scheme.lower() == "bearer" and hmac.compare_digest(
                given.strip().encode(), expected
            )
        if self.hmac_secret is not None and signature:
            key = self.hmac_secret.get_secret_value().encode()
            digest = hmac.new(key, body, hashlib.sha256).hexdigest()
            given_hex = signature.strip().removeprefix("sha256=").lower()
            ok |= hmac.compare_digest(given_hex.encode(), digest.encode())
        return ok


def sign(secret: str, body: bytes) -> str:
    """The `X-Warmhandoff-Signature` value for `body` (for callers and tests)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def parse_events(body: bytes) -> list[HandoffEvent]:
    """One event (a JSON object) or a batch (an array of them); `Rejected` with the reason."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Rejected("not_json", "the body is not valid JSON") from None
    items = data if isinstance(data, list) else [data]
    if not items or len(items) > MAX_BATCH:
        raise Rejected("invalid", f"expected 1 to {MAX_BATCH} events, got {len(items)}")
    events = []
    for index, item in enumerate(items):
        where = f"[{index}] " if isinstance(data, list) else ""
        if not isinstance(item, dict):
            raise Rejected("invalid", f"{where}expected a JSON object, got {type(item).__name__}")
        version = item.get("schema_version", 1)
        if version not in SUPPORTED_SCHEMA_VERSIONS:
            raise Rejected("unsupported_version", f"{where}schema_version {version!r}")
        try:
            event = HandoffEvent.model_validate(item)
        except ValidationError as exc:
            raise Rejected("invalid", where + describe_errors(exc)) from None
        check_ts(event, where)  # the worker would dead-letter it: refuse it here, with a 400
        events.append(event)
    return events


class Intake:
    """The aiohttp handler of `POST /v1/handoff-events`."""

    def __init__(
        self,
        credentials: Credentials,
        publish: Publish,
        readiness: Readiness,
        *,
        max_body_bytes: int,
        limiter: RateLimiter,
        publish_timeout: float = 10.0,
    ) -> None:
        self.credentials = credentials
        self.publish = publish
        self.readiness = readiness
        self.max_body_bytes = max_body_bytes
        self.limiter = limiter
        self.publish_timeout = publish_timeout

    async def handle(self, request: web.Request) -> web.Response:
        """Check, validate and publish; every refusal says why."""
        response = await self._handle(request)
        metrics.INTAKE_REQUESTS.labels(str(response.status)).inc()
        return response

    async def _handle(self, request: web.Request) -> web.Response:
        declared = request.content_length
        if declared is not None and declared > self.max_body_bytes:
            return _refuse(413, "too_large", f"the body exceeds {self.max_body_bytes} bytes")
        retry = self.limiter.wait(request.remote or "unknown")
        if retry > 0:
            response = _refuse(429, "rate_limited", "too many requests from this client")
            response.headers["Retry-After"] = str(max(1, round(retry + 0.5)))
            return response
        if request.content_type != "application/json":
            return _refuse(415, "unsupported_media_type", "send Content-Type: application/json")
        body = await _read(request, self.max_body_bytes)
        if body is None:
            return _refuse(413, "too_large", f"the body exceeds {self.max_body_bytes} bytes")
        headers = request.headers
        if not self.credentials.verify(
            headers.get("Authorization"), headers.get(SIGNATURE_HEADER), body
        ):
            response = _refuse(401, "unauthorized", "a valid bearer token or signature is needed")
            response.headers["WWW-Authenticate"] = 'Bearer realm="warmhandoff"'
            return response
        try:
            events = parse_events(body)
        except Rejected as rejected:
            return _refuse(400, rejected.reason, rejected.error)
        reason = self.readiness()
        if reason is not None:
            return _refuse(503, "not_ready", f"the worker is not ready: {reason}")
        try:
            await asyncio.wait_for(self.publish(events), self.publish_timeout)
        except (KafkaError, TimeoutError) as exc:
            log.warning("intake.publish_failed", error=type(exc).__name__, events=len(events))
            return _refuse(503, "unavailable", "the broker did not acknowledge; retry later")
        log.info(
            "intake.accepted", events=len(events), types=sorted({e.type.value for e in events})
        )
        return web.json_response(
            {"accepted": len(events), "event_ids": [e.event_id for e in events]}, status=202
        )


async def _read(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it is longer than `limit` (chunked bodies declare no length)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(16_384):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse(status: int, reason: str, detail: str) -> web.Response:
    log.info("intake.refused", status=status, reason=reason)
    return web.json_response({"error": reason, "detail": detail}, status=status)
