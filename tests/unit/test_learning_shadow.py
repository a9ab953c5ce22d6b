"""A shadow policy on the live decisions: disagreements, and each policy scored on labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from warmhandoff.agents.scenarios import generate
from warmhandoff.streams.contract.models import Decision
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.learning.learner import Learner
from warmhandoff.streams.learning.model import LearnedModel
from warmhandoff.streams.learning.shadow import ShadowPolicy
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.policy.model import Policy

DEFAULT = Path(__file__).resolve().parents[2] / "streams" / "policy" / "default.yaml"
T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


def lenient(tmp_path: Path) -> Policy:
    text = DEFAULT.read_text().replace(
        "  negative_sentiment:\n", "  negative_sentiment:\n    enabled: false\n", 1
    )
    path = tmp_path / "lenient.yaml"
    path.write_text(text)
    return load_policy(path)


def decisions(policy: Policy) -> list[Decision]:
    out = []
    for conversation in generate(80, seed=2, escalating_share=0.5, start=T0):
        state = new_state(conversation.id)
        for t in conversation.turns:
            result = process_turn(state, t, policy, now=t.ts)
            assert result is not None and result.decision is not None
            out.append(result.decision)
    return out


def test_the_same_policy_never_disagrees() -> None:
    policy = load_policy()
    shadow = ShadowPolicy(policy)
    learner = Learner(LearnedModel(), shadow=shadow)
    for d in decisions(policy):
        learner.on_decision(d, d.ts)
    assert shadow.stats.turns > 0 and not shadow.stats.disagreements


def test_a_lenient_shadow_disagrees_where_sentiment_escalated_and_is_scored(
    tmp_path: Path,
) -> None:
    policy = load_policy()
    shadow = ShadowPolicy(lenient(tmp_path))
    learner = Learner(LearnedModel(), shadow=shadow)
    found = decisions(policy)
    for d in found:
        learner.on_decision(d, d.ts)
    by_sentiment = [
        d for d in found if d.action.value == "escalate" and
        [h.code for h in d.triggers] == ["negative_sentiment"]
    ]  # fmt: skip
    assert by_sentiment
    assert shadow.stats.disagreements[("escalate", "none")] >= len(by_sentiment)
    # Contained conversations settle after the return window: both policies contained them.
    learner.expire(T0 + timedelta(days=3))
    quality = shadow.stats.quality()
    assert shadow.stats.counts["active_fp"] == 0 and shadow.stats.counts["shadow_fp"] == 0
    assert quality["active_precision"] is None  # no labelled escalation yet
    shadow.record(needed=True, active=True, shadow=False)
    shadow.record(needed=False, active=True, shadow=False)
    q = shadow.stats.quality()
    assert q["active_precision"] == 0.5 and q["active_recall"] == 1.0
    assert q["shadow_precision"] is None and q["shadow_recall"] == 0.0
