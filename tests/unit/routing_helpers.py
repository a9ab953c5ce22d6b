"""Builders shared by the routing tests: a small policy, agents, handoff requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from warmhandoff.streams.contract.models import (
    AgentPresence,
    Bundle,
    HandoffRequest,
    Identity,
    PresenceState,
    Routing,
    Summary,
    WaitEstimate,
)
from warmhandoff.streams.policy import Policy, parse_policy

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday

SMALL_POLICY: dict[str, Any] = {
    "version": "test-routing",
    "defaults": {"queue": "general", "priority_points_per_minute": 1, "handle_time_seconds": 300},
    "queues": {
        "general": {
            "skills": ["care"],
            "languages": ["en", "es"],
            "sla": {"target": 0.8, "seconds": 20},
            "right_channel": {"after_seconds": 300, "offer": "callback"},
        },
        "billing": {
            "skills": ["billing"],
            "optional_skills": ["refunds"],
            "languages": ["en"],
            "sla": {"target": 0.8, "seconds": 30},
            "overflow": "general",
            "relax": [
                {"after_seconds": 60, "drop_optional_skills": True},
                {"after_seconds": 120, "widen_to": "general"},
            ],
        },
        "vip": {
            "skills": ["care", "vip"],
            "entitlement": ["gold"],
            "sla": {"target": 0.9, "seconds": 15},
            "relax": [{"after_seconds": 45, "widen_to": "general"}],
        },
        "sales": {
            "skills": ["sales"],
            "hours": "mon-fri 09:00-17:00 Europe/London",
            "ticket_response_seconds": 3600,
            "right_channel": {"after_seconds": 120, "offer": "ticket"},
        },
    },
}


def small_policy(**changes: Any) -> Policy:
    """SMALL_POLICY with top-level `changes`, validated like a file."""
    return parse_policy(yaml.safe_dump({**SMALL_POLICY, **changes}), "test.yaml")


def presence(agent_id: str, **fields: Any) -> AgentPresence:
    """An available English agent with the `care` skill, plus `fields`."""
    base: dict[str, Any] = {
        "agent_id": agent_id,
        "ts": T0,
        "state": PresenceState.available,
        "skills": {"care": 5},
        "languages": ["en"],
        "capacity": 1,
    }
    return AgentPresence(**{**base, **fields})


def request(
    handoff_id: str,
    *,
    queue: str = "general",
    skills: tuple[str, ...] = ("care",),
    language: str | None = "en",
    entitlement: str | None = None,
    priority: int = 3,
    sla_seconds: int = 20,
    created: datetime = T0,
    first_unmet: datetime | None = None,
) -> HandoffRequest:
    """A handoff request routed to `queue` (the bundle is empty: routing never reads it)."""
    started = first_unmet or created
    return HandoffRequest(
        handoff_id=handoff_id,
        conversation_id=f"c-{handoff_id}",
        escalation_number=1,
        decision_id=f"d-{handoff_id}",
        created_at=created,
        turn_ts=created,
        first_unmet_need_at=started,
        channel="chat",
        triggers=[],
        routing=Routing(
            queue=queue,
            skills=list(skills),
            language=language,
            entitlement=entitlement,
            channel="chat",
            priority=priority,
            sla_seconds=sla_seconds,
            sla_target=0.8,
            sla_deadline=started + timedelta(seconds=sla_seconds),
        ),
        wait=WaitEstimate(low_seconds=60, high_seconds=180, method="policy"),
        policy_version="test-routing",
        bundle=Bundle(
            transcript=[],
            entities={},
            identity=Identity(),
            steps_tried=[],
            summary=Summary(wants="help", tried="", why="asked", text="help"),
            next_steps=[],
        ),
    )
