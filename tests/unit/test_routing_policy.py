"""The policy's routing fields: defaults, and every mistake named precisely."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from warmhandoff.streams.policy import PolicyError, load_policy, parse_policy

from .routing_helpers import SMALL_POLICY


def test_shipped_policy_routing_fields() -> None:
    policy = load_policy()
    assert policy.defaults.priority_points_per_minute == 1
    assert policy.queues["payments"].relax[0].drop_optional_skills
    assert policy.queues["vip"].relax[0].widen_to == "general"
    general = policy.queues["general"].right_channel
    assert general is not None and (general.after_seconds, general.offer) == (300, "callback")
    assert policy.queues["fraud"].relax == [] and policy.queues["fraud"].right_channel is None
    assert policy.queues["fraud"].ticket_response_seconds == 14_400


def problems(queues: dict[str, Any]) -> str:
    data = {**SMALL_POLICY, "queues": {**SMALL_POLICY["queues"], **queues}}
    with pytest.raises(PolicyError) as caught:
        parse_policy(yaml.safe_dump(data), "p.yaml")
    return str(caught.value)


@pytest.mark.parametrize(
    ("queues", "message"),
    [
        (
            {"x": {"skills": ["a"], "relax": [{"after_seconds": 5, "widen_to": "generl"}]}},
            "p.yaml: queues.x.relax[0].widen_to: unknown queue 'generl' (did you mean 'general'?)",
        ),
        (
            {"x": {"skills": ["a"], "relax": [{"after_seconds": 5, "widen_to": "x"}]}},
            "queues.x.relax[0].widen_to: a queue cannot widen to itself",
        ),
        (
            {
                "x": {
                    "skills": ["a"],
                    "verified": True,
                    "disclosure": "Recorded.",
                    "relax": [{"after_seconds": 5, "widen_to": "general"}],
                }
            },
            "queues.x.relax[0].widen_to: 'general' is not verified",
        ),
        (
            {"x": {"skills": ["a"], "relax": [{"after_seconds": 5}]}},
            "a relax step needs drop_optional_skills: true or widen_to",
        ),
        (
            {
                "x": {
                    "skills": ["a"],
                    "relax": [
                        {"after_seconds": 60, "drop_optional_skills": True},
                        {"after_seconds": 30, "widen_to": "general"},
                    ],
                }
            },
            "steps must be in order of after_seconds, got [60, 30]",
        ),
        (
            {"x": {"skills": ["a"], "right_channel": {"after_seconds": 60, "offer": "email"}}},
            "queues.x.right_channel.offer",
        ),
        (
            {"x": {"skills": ["a"], "ticket_response_seconds": 10}},
            "queues.x.ticket_response_seconds: must be between 60 and 604800, got 10",
        ),
    ],
)
def test_routing_mistakes_are_named(queues: dict[str, Any], message: str) -> None:
    assert message in problems(queues)


def test_priority_aging_rate_is_bounded() -> None:
    data = {**SMALL_POLICY, "defaults": {"queue": "general", "priority_points_per_minute": -1}}
    with pytest.raises(PolicyError, match=r"defaults\.priority_points_per_minute: must be between"):
        parse_policy(yaml.safe_dump(data), "p.yaml")
