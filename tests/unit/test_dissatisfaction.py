"""Dissatisfaction over the whole conversation: sustained or sharp, never one mild turn.

The conversations here are written for these tests; none comes from a data set.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import orjson
import pytest

from warmhandoff.streams.contract.models import Turn
from warmhandoff.streams.core import dissatisfaction as D
from warmhandoff.streams.core.conversation import ConversationState
from warmhandoff.streams.core.pipeline import StepResult, new_state, process_turn
from warmhandoff.streams.policy import load_policy, parse_policy
from warmhandoff.streams.policy.model import Policy

T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def run(
    policy: Policy, said: list[tuple[str, str]], extra: dict[int, dict[str, Any]] | None = None
) -> list[StepResult]:
    """Each (role, text) as the next turn of one chat (plus `extra` fields by seq)."""
    extra = extra or {}
    state = new_state("c-1")
    results = []
    for seq, (role, text) in enumerate(said):
        turn = Turn.model_validate(
            {"conversation_id": "c-1", "seq": seq, "ts": T0 + timedelta(seconds=15 * seq),
             "role": role, "text": text, "locale": "en-GB", "channel": "chat",
             **extra.get(seq, {})}
        )  # fmt: skip
        result = process_turn(state, turn, policy, now=turn.ts)
        assert result is not None and result.decision is not None and result.signals is not None
        results.append(result)
    return results


def actions(results: list[StepResult]) -> list[str]:
    return [r.decision.action.value for r in results if r.decision is not None]


def codes(result: StepResult) -> list[str]:
    assert result.decision is not None
    return [hit.code for hit in result.decision.triggers]


# --- the estimate on its own --------------------------------------------------------------


def after(*turns: dict[str, Any]) -> float:
    level, trend = 0.0, 0.0
    for turn in turns:
        trend += 0.4 * (turn["sentiment"] - trend)
        defaults = {"cue": False, "repeat": False}
        level = D.update_dissatisfaction(level, trend, **(defaults | turn))
    return level


def test_one_unhappy_turn_however_negative_stays_below_half() -> None:
    assert after({"sentiment": -0.6}) < 0.3
    assert after({"sentiment": -1.0, "cue": True, "repeat": True}) == D.TURN_CAP


def test_several_unhappy_turns_add_up() -> None:
    unhappy = {"sentiment": -0.8}
    assert after(unhappy, unhappy) < 0.7 <= after(unhappy, unhappy, unhappy)


def test_a_falling_mood_with_a_repeat_or_a_fallback_adds_up_faster() -> None:
    assert after({"sentiment": -0.8}, {"sentiment": -0.5, "repeat": True}) >= 0.7
    assert after({"sentiment": -0.8}, {"sentiment": -0.5, "fallbacks": 2}) >= 0.7
    calm = {"sentiment": 0.0, "repeat": True}
    assert after(calm, calm) < 0.5  # re-asking calmly is friction, not yet dissatisfaction


def test_friction_counts_little_when_the_customer_sounds_content() -> None:
    content = {"sentiment": 0.6, "repeat": True, "failures": 1}
    assert after(content, content, content) < 0.3


def test_positive_turns_calm_it_down() -> None:
    bumpy = ({"sentiment": -0.8}, {"sentiment": -0.8})
    assert after(*bumpy, {"sentiment": 0.8}) < after(*bumpy, {"sentiment": 0.0})


def test_an_insult_or_a_threat_to_leave_lifts_it_at_once() -> None:
    assert after({"sentiment": 0.0, "breaking_off": True}) == D.SHARP_LEVEL
    assert D.breaks_off(("leave",)) and D.breaks_off(("insult", "shouting"))
    assert not D.breaks_off(("anger", "swearing"))


@pytest.mark.parametrize(
    ("sentiment", "cue", "cues", "sharp"),
    [
        (-0.99, False, (), False),  # a plain complaint can score this low
        (0.0, False, ("insult",), True),
        (0.1, False, ("leave",), True),
        (-0.5, False, ("anger",), True),
        (0.0, True, ("shouting",), True),  # "this is STILL NOT working"
        (-0.8, False, (), False),  # unhappy, said plainly
        (0.3, False, ("exclaiming",), False),  # "great!!"
        (0.0, False, ("swearing",), False),
    ],
)
def test_sharp_turns(sentiment: float, cue: bool, cues: tuple[str, ...], sharp: bool) -> None:
    assert D.is_sharp(sentiment, cue, cues) is sharp


# --- whole conversations through the pipeline ----------------------------------------------

BOOKING_WITH_POLITE_NO = [
    ("customer", "Hello, I need a table for four tomorrow at seven."),
    ("bot", "Booked: a table for four tomorrow at 7pm. Anything else?"),
    ("customer", "No, thanks."),
    ("bot", "Would you like a taxi there?"),
    ("customer", "nope , that 's everything , cheers ."),
    ("bot", "Enjoy your meal!"),
    ("customer", "Not today, thank you. Bye!"),
]


def test_declines_and_closings_are_not_negative(policy: Policy) -> None:
    results = run(policy, BOOKING_WITH_POLITE_NO)
    customer = [r.signals for r in results if r.signals and r.signals.role.value == "customer"]
    assert all(s.sentiment >= 0.0 for s in customer[1:])
    assert max(s.frustration for s in customer) == 0.0
    assert set(actions(results)) == {"none"}


def test_one_mildly_negative_turn_does_not_escalate(policy: Policy) -> None:
    results = run(
        policy,
        [
            ("customer", "Can I move my delivery to Friday?"),
            ("bot", "Friday is fully booked, the next free day is Saturday."),
            ("customer", "Oh that's a shame, I was hoping for Friday. Saturday then."),
            ("bot", "Done, Saturday it is."),
            ("customer", "Thanks."),
        ],
    )
    assert set(actions(results)) == {"none"}
    assert max(r.signals.frustration for r in results if r.signals) < 0.5


def test_a_sustained_unhappy_conversation_escalates_on_frustration(policy: Policy) -> None:
    results = run(
        policy,
        [
            ("customer", "My new headphones stopped charging after two days."),
            ("bot", "Have you tried another cable?"),
            ("customer", "Yes I tried another cable and it still doesn't work."),
            ("bot", "Please try holding the power button for ten seconds."),
            ("customer", "I held it, nothing happens. The headphones still won't charge."),
        ],
    )
    assert actions(results)[:4] == ["none"] * 4  # the first complaint alone hands nothing over
    assert actions(results)[4] in ("escalate", "gather")
    assert "frustration" in codes(results[4])


def test_a_sharp_turn_escalates_at_once(policy: Policy) -> None:
    handed = {"escalate", "gather"}  # a desk that needs fields gathers them first
    angry = run(policy, [("customer", "I am furious, this is the worst service I've ever had")])
    assert set(actions(angry)) <= handed and "negative_sentiment" in codes(angry[0])
    insult = run(policy, [("customer", "you are a useless bot")])
    assert set(actions(insult)) <= handed
    assert {"negative_sentiment", "frustration"} & set(codes(insult[0]))
    leaving = run(policy, [("customer", "Fine, I'm taking my business elsewhere.")])
    assert set(actions(leaving)) <= handed and "frustration" in codes(leaving[0])


def test_a_repeat_after_bot_fallbacks_raises_it_more_than_a_first_ask(policy: Policy) -> None:
    unsure = {"nlu": {"fallback": True}}
    results = run(
        policy,
        [
            ("customer", "can I pay my bill in instalments"),
            ("bot", "Sorry, I didn't get that."),
            ("customer", "pay the bill in instalments, is that possible"),
        ],
        {0: unsure},
    )
    first, again = results[0].signals, results[2].signals
    assert first is not None and again is not None and again.repeat
    assert again.frustration > first.frustration


def test_failed_bot_actions_count_on_the_customers_next_turn() -> None:
    text = resources.files("warmhandoff.streams.policy").joinpath("default.yaml").read_text()
    quiet = parse_policy(
        text.replace("  system_boundary:\n", "  system_boundary:\n    enabled: false\n", 1),
        "quiet.yaml",
    )
    said = [
        ("customer", "Please send me a copy of my invoice."),
        ("bot", "Sorry, something went wrong."),
        ("customer", "I still need the invoice."),
    ]
    failed = run(quiet, said, {1: {"bot": {"action": "send_invoice", "status": "failed"}}})
    fine = run(quiet, said, {1: {"bot": {"action": "send_invoice", "status": "ok"}}})
    assert failed[2].signals is not None and fine[2].signals is not None
    assert failed[2].signals.frustration > fine[2].signals.frustration


def test_state_round_trips_with_the_new_fields_and_old_states_load(policy: Policy) -> None:
    state = new_state("c-1")
    turn = Turn.model_validate(
        {"conversation_id": "c-1", "seq": 0, "ts": T0, "role": "bot", "text": "Sorry.",
         "bot": {"action": "refund", "status": "failed"}}
    )  # fmt: skip
    process_turn(state, turn, policy, now=T0)
    assert state.recent_failures == 1
    assert ConversationState.loads(state.dumps()) == state
    old = orjson.loads(state.dumps())
    del old["recent_failures"]
    loaded = ConversationState.loads(orjson.dumps(old))
    assert loaded.recent_failures == 0 and loaded.failed_actions == 1
