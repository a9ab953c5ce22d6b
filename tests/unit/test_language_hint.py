"""An unknown language with a hint: published in the signals, never a mismatch, routed as before."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from warmhandoff.streams.contract.models import Channel, Role, Signals, Turn
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.policy import DecisionContext, decide, load_policy
from warmhandoff.streams.policy.model import Policy

T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def first_turn(text: str, locale: str = "en-US") -> Turn:
    return Turn.model_validate(
        {
            "conversation_id": "c-1",
            "seq": 0,
            "ts": T0.isoformat(),
            "role": "customer",
            "channel": "chat",
            "locale": locale,
            "text": text,
        }
    )


def signals(**fields: Any) -> Signals:
    base: dict[str, Any] = {
        "conversation_id": "c-1",
        "seq": 0,
        "ts": T0,
        "role": Role.customer,
        "channel": Channel.chat,
        "human_request": True,  # escalates, so the verdict names a queue and a language
    }
    return Signals(**(base | fields))


@pytest.mark.parametrize("locale", ["en-US", "fr-FR", "hi-IN"])
def test_an_unknown_language_with_a_hint_never_fires_a_mismatch(
    policy: Policy, locale: str
) -> None:
    # One Hindi word among English ones: too little to tell, whatever the bot speaks.
    result = process_turn(
        new_state("c-1"), first_turn("bhai, refund status please", locale), policy, now=T0
    )
    assert result is not None and result.signals is not None
    s = result.signals
    assert (s.language, s.language_confidence, s.language_hint) == ("und", 0.0, "hi")
    assert s.language_mismatch is False
    fired = [hit.code for hit in result.decision.triggers] if result.decision else []
    assert "language_mismatch" not in fired


def test_a_decided_language_has_no_hint(policy: Policy) -> None:
    result = process_turn(new_state("c-1"), first_turn("where is my refund"), policy, now=T0)
    assert result is not None and result.signals is not None
    assert (result.signals.language, result.signals.language_hint) == ("en", None)


def test_hindi_in_latin_letters_is_a_mismatch_for_an_english_bot(policy: Policy) -> None:
    result = process_turn(new_state("c-1"), first_turn("mujhe refund chahiye abhi"), policy, now=T0)
    assert result is not None and result.signals is not None
    assert (result.signals.language, result.signals.language_mismatch) == ("hi", True)


@pytest.mark.parametrize("bot_language", [None, "en-US"])
def test_an_unknown_language_routes_in_the_bot_or_default_language(
    policy: Policy, bot_language: str | None
) -> None:
    s = signals(language="und", language_hint="hi", bot_language=bot_language)
    v = decide(policy, s, DecisionContext())
    assert "language_mismatch" not in v.trigger_codes
    assert v.language == "en" == policy.defaults.language


def test_a_language_no_queue_serves_falls_back_to_the_default_language(policy: Policy) -> None:
    assert "hi" not in policy.language_routing
    s = signals(
        language="hi", language_confidence=0.9, bot_language="en-US", language_mismatch=True
    )
    v = decide(policy, s, DecisionContext())
    assert "language_mismatch" in v.trigger_codes
    assert v.language == policy.defaults.language
    assert v.reason.endswith(f"; no hi queue, {v.queue} in {policy.defaults.language}")
