"""The series the alert rules compare are set by the code that owns them: the router exports,
per queue of the policy, the SLA seconds WarmhandoffOldestWaitPastSLA holds the oldest wait
to (the promtool unit tests show the rule comparing them queue by queue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warmhandoff.streams.policy.loader import load_policy
from warmhandoff.streams.routing.centre import Centre
from warmhandoff.streams.runtime.metrics import REGISTRY
from warmhandoff.streams.services.router.service import RouterCore, observe_health

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def gauge(name: str, queue: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"queue": queue})


def test_the_router_exports_each_queue_s_own_sla_seconds_from_the_policy() -> None:
    policy = load_policy()  # the shipped default
    slas = {name: queue.sla.seconds for name, queue in policy.queues.items()}
    assert len(set(slas.values())) > 1, "the check needs queues with different SLAs"
    router = RouterCore(Centre.from_policy(policy), health_every_seconds=30)
    health = router.tick(T0 + timedelta(seconds=1)).health
    assert {h.queue for h in health} == set(slas)
    observe_health(health)
    for queue, seconds in slas.items():
        assert gauge("warmhandoff_queue_sla_seconds", queue) == seconds, queue
        assert gauge("warmhandoff_queue_oldest_wait_seconds", queue) is not None, queue
