"""Retries: exponential backoff with full jitter, Retry-After, and the attempt budget."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from warmhandoff.streams.sinks.exceptions import PermanentDeliveryError, TransientDeliveryError
from warmhandoff.streams.sinks.retry import RetryPolicy, parse_retry_after, with_retries

POLICY = RetryPolicy(attempts=5, base_seconds=0.5, cap_seconds=4.0)


class Sleeps:
    """A sleep that records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Flaky:
    """Fails with the given errors, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def down(after: float | None = None) -> TransientDeliveryError:
    return TransientDeliveryError("HTTP 503", reason="unavailable", retry_after=after)


def test_the_wait_is_uniform_below_a_doubling_ceiling_that_stops_at_the_cap() -> None:
    rng = random.Random(1)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0), (9, 4.0)]:
        waits = [POLICY.delay(attempt, rng) for _ in range(2000)]
        assert min(waits) >= 0.0 and max(waits) <= ceiling
        assert max(waits) > 0.9 * ceiling  # the whole range is used (full jitter)
        assert abs(sum(waits) / len(waits) - ceiling / 2) < 0.05 * ceiling


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    rng = random.Random(2)
    assert POLICY.delay(1, rng, retry_after=3.0) == 3.0  # above the jitter ceiling of 0.5
    assert POLICY.delay(1, rng, retry_after=600.0) == 4.0


async def test_transient_errors_are_retried_with_the_seeded_schedule() -> None:
    sleeps, attempt = Sleeps(), Flaky(down(), down(), down())
    assert await with_retries(attempt, POLICY, rng=random.Random(7), sleep=sleeps) == "ok"
    assert attempt.calls == 4
    expected = random.Random(7)
    assert sleeps.waits == [POLICY.delay(n, expected) for n in (1, 2, 3)]


async def test_retry_after_from_the_error_sets_the_wait() -> None:
    sleeps = Sleeps()
    await with_retries(Flaky(down(after=2.5)), POLICY, rng=random.Random(3), sleep=sleeps)
    assert sleeps.waits == [2.5]


async def test_a_permanent_error_is_not_retried() -> None:
    sleeps, attempt = Sleeps(), Flaky(PermanentDeliveryError("HTTP 400", reason="rejected"))
    with pytest.raises(PermanentDeliveryError):
        await with_retries(attempt, POLICY, rng=random.Random(0), sleep=sleeps)
    assert attempt.calls == 1 and sleeps.waits == []


async def test_after_the_budget_the_last_transient_error_is_raised() -> None:
    sleeps, attempt = Sleeps(), Flaky(*(down() for _ in range(10)))
    retried: list[int] = []
    with pytest.raises(TransientDeliveryError, match="503"):
        await with_retries(
            attempt,
            POLICY,
            rng=random.Random(0),
            sleep=sleeps,
            on_retry=lambda n, error, wait: retried.append(n),
        )
    assert attempt.calls == POLICY.attempts
    assert len(sleeps.waits) == POLICY.attempts - 1
    assert retried == [1, 2, 3, 4]


def test_retry_after_header_values() -> None:
    now = datetime(2026, 11, 25, 16, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Wed, 25 Nov 2026 16:00:30 GMT", now) == 30.0
    assert parse_retry_after("Wed, 25 Nov 2026 15:00:00 GMT", now) == 0.0
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("soon", now) is None


def test_the_worst_case_bounds_a_delivery() -> None:
    assert POLICY.worst_case_seconds(10.0) == 5 * 10.0 + 4 * 4.0
