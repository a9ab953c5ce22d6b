"""Bounded retries with exponential backoff and full jitter, on tenacity.

Attempt n (1-based) that fails with a `TransientDeliveryError` waits a uniformly random time
in [0, min(cap, base * 2^(n-1))] ("full jitter": retries from many sinks spread out instead
of arriving together). A receiver's Retry-After is honoured, up to the cap, so one slow
receiver cannot stall the partition for longer than the cap per attempt. The random number
generator and the sleep are parameters: tests run the whole schedule without waiting.
Permanent errors are not retried. After `attempts` attempts the last error is raised.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from warmhandoff.streams.sinks.exceptions import TransientDeliveryError

T = TypeVar("T")

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts a delivery gets and how long to wait between them."""

    attempts: int
    base_seconds: float
    cap_seconds: float

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1))
        wait = rng.uniform(0.0, ceiling)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.cap_seconds))
        return wait

    def worst_case_seconds(self, attempt_seconds: float) -> float:
        """The longest one delivery can take: every attempt timing out, every wait at the cap."""
        return self.attempts * attempt_seconds + (self.attempts - 1) * self.cap_seconds


async def with_retries(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    rng: random.Random,
    sleep: Sleep,
    on_retry: Callable[[int, TransientDeliveryError, float], None] | None = None,
) -> T:
    """Run `attempt` until it succeeds, fails permanently or the attempts run out."""

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        after = error.retry_after if isinstance(error, TransientDeliveryError) else None
        return policy.delay(state.attempt_number, rng, after)

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        if on_retry is not None and isinstance(error, TransientDeliveryError):
            seconds = state.next_action.sleep if state.next_action else 0.0
            on_retry(state.attempt_number, error, seconds)

    retrying = AsyncRetrying(
        sleep=sleep,
        stop=stop_after_attempt(policy.attempts),
        wait=wait,
        retry=retry_if_exception_type(TransientDeliveryError),
        before_sleep=before_sleep,
        reraise=True,
    )

    async def once() -> T:
        # tenacity awaits only what it sees as a coroutine function; `attempt` may be a
        # lambda returning a coroutine.
        return await attempt()

    return await retrying(once)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        return None
    return max(0.0, (when - now).total_seconds())
