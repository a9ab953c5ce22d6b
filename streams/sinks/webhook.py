"""The webhook sink: POST each handoff's JSON to a receiver the integrator runs.

Headers on every attempt of a handoff: `Idempotency-Key: <handoff_id>` and
`X-Warmhandoff-Signature: sha256=<hex HMAC-SHA256 of the exact body with the shared secret>`.
Every record is POSTed, re-published ones (late delivery, re-routing) included, with the same
key: receivers upsert on it (the latest body wins) or drop repeats. Answers: 2xx delivered;
408, 409 (the same key still in flight), 429 and 5xx, timeouts and connection errors are
retried (Retry-After honoured); any other status is a refusal, not retried.

The body's `case` (when the customer is known) names the customer's case: a receiver that keeps
cases upserts the case on `case.key` and adds the handoff to it. It is read from the signed
body rather than a header of its own, which the signature would not cover.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from warmhandoff.streams.contract.models import HandoffRequest
from warmhandoff.streams.core.codec import encode
from warmhandoff.streams.sinks.base import DeliveryResult
from warmhandoff.streams.sinks.exceptions import (
    PermanentDeliveryError,
    SinkConfigError,
    TransientDeliveryError,
)
from warmhandoff.streams.sinks.retry import parse_retry_after

SIGNATURE_HEADER = "X-Warmhandoff-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRIED_STATUSES = frozenset({408, 409, 429})
USER_AGENT = "warmhandoff-sink/1"


def signature(secret: bytes, body: bytes) -> str:
    """The signature header's value for `body`: `sha256=<hex digest>`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def check_url(url: str) -> str:
    """The URL, if it is HTTPS (or plain HTTP to a loopback address, for local testing)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SinkConfigError(f"webhook URL must be https://host/...: got {parts.scheme or url!r}")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise SinkConfigError(
            "webhook URL must use https (plain http is allowed to localhost only): "
            "handoffs carry customer data"
        )
    return url


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookSink:
    """POSTs handoffs to one URL, signed, with the handoff_id as idempotency key."""

    kind = "webhook"

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        timeout_seconds: float,
        ca_file: Path | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not secret:
            raise SinkConfigError("the webhook sink needs a signing secret (--secret)")
        self.url = check_url(url)
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._ca_file = ca_file
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the HTTP session (TLS verified against the CA bundle, or the system's)."""
        try:
            context = ssl.create_default_context(cafile=self._ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise SinkConfigError(f"cannot load the webhook CA bundle: {exc}") from None
        self._session = aiohttp.ClientSession(
            timeout=self._timeout,
            connector=aiohttp.TCPConnector(ssl=context),
            headers={"User-Agent": USER_AGENT},
        )

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver(self, request: HandoffRequest) -> DeliveryResult:
        """POST the handoff once; raise a `DeliveryError` unless the receiver answered 2xx."""
        if self._session is None:
            raise RuntimeError("WebhookSink.start() was not called")
        body = encode(request)
        headers = {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: request.handoff_id,
            SIGNATURE_HEADER: signature(self._secret, body),
        }
        try:
            async with self._session.post(self.url, data=body, headers=headers) as response:
                status = response.status
                retry_after = response.headers.get("Retry-After")
                await response.read()
        except TimeoutError:
            raise TransientDeliveryError(
                f"webhook: no answer within {self._timeout.total} s", reason="timeout"
            ) from None
        except aiohttp.ClientError as exc:
            raise TransientDeliveryError(
                f"webhook: {type(exc).__name__}", reason="unavailable"
            ) from None
        if 200 <= status < 300:
            return DeliveryResult(reference=request.handoff_id, created=status == 201)
        message = f"webhook: HTTP {status}"
        if status in RETRIED_STATUSES or status >= 500:
            reason = "throttled" if status == 429 else "unavailable"
            after = parse_retry_after(retry_after, self._clock())
            raise TransientDeliveryError(message, reason=reason, retry_after=after)
        reason = "unauthorized" if status in (401, 403) else "rejected"
        raise PermanentDeliveryError(message, reason=reason)
