"""Scenario catalogue and conversation generator (warmhandoff.agents.scenarios): pure."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from warmhandoff.agents.scenarios import (
    BENIGN,
    BENIGN_SCENARIOS,
    ESCALATING,
    SCENARIOS,
    TRIGGER_FAMILIES,
    by_name,
    gather_answer,
    generate,
)
from warmhandoff.streams.contract.models import Role, Turn

START = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


def test_generate_is_deterministic_for_a_seed() -> None:
    first = generate(80, seed=7, start=START)
    again = generate(80, seed=7, start=START)
    other = generate(80, seed=8, start=START)
    assert [c.turns for c in first] == [c.turns for c in again]
    assert [c.scenario.name for c in first] == [c.scenario.name for c in again]
    assert [c.turns for c in first] != [c.turns for c in other]


def test_every_trigger_family_has_a_scenario_and_is_generated() -> None:
    assert {s.family for s in ESCALATING} == TRIGGER_FAMILIES
    # 20 % of 200 is 40 escalating conversations: every escalating scenario at least once.
    conversations = generate(200, seed=1, start=START)
    assert {c.scenario.name for c in conversations} == {s.name for s in SCENARIOS}
    fired = set().union(*(c.scenario.expect_triggers for c in conversations))
    assert fired == TRIGGER_FAMILIES


def test_human_request_in_five_languages() -> None:
    locales = {s.locale[:2] for s in ESCALATING if s.family == "human_request"}
    assert locales >= {"en", "es", "fr", "de", "pt"}


@pytest.mark.parametrize("share", [0.0, 0.2, 0.5, 1.0])
def test_escalating_share(share: float) -> None:
    conversations = generate(100, seed=3, escalating_share=share, start=START)
    escalating = sum(c.scenario.expect_escalation for c in conversations)
    assert escalating == round(100 * share)


def test_default_share_is_mostly_benign() -> None:
    conversations = generate(500, seed=11, start=START)
    benign = [c for c in conversations if not c.scenario.expect_escalation]
    assert len(benign) / len(conversations) >= 0.75
    assert all(c.scenario.family == BENIGN for c in benign)
    assert all(not c.scenario.expect_triggers for c in benign)
    assert len(BENIGN_SCENARIOS) >= 8


def test_turns_are_ordered_valid_and_timezone_aware() -> None:
    conversations = generate(150, seed=5, start=START, prefix="t")
    assert len({c.conversation_id for c in conversations}) == 150
    for conversation in conversations:
        turns = conversation.turns
        assert [t.seq for t in turns] == list(range(len(turns)))
        assert all(t.ts.tzinfo is not None and t.ts.utcoffset() is not None for t in turns)
        assert all(a.ts < b.ts for a, b in itertools.pairwise(turns))
        assert turns[0].ts >= START
        assert all(t.conversation_id == conversation.conversation_id for t in turns)
        assert conversation.id == conversation.conversation_id
        assert conversation.conversation_id.startswith("t-")
        assert "{" not in "".join(t.text for t in turns)  # every placeholder filled
        for turn in turns:
            # The wire contract round-trips: what the client publishes is a valid Turn.
            assert Turn.model_validate_json(turn.model_dump_json(exclude_none=True)) == turn
            if turn.role is Role.bot:
                assert turn.nlu is None  # nlu rides on customer turns only


def test_ids_use_the_prefix() -> None:
    assert generate(3, seed=0, start=START)[0].conversation_id.startswith("c-")
    assert generate(3, seed=0, start=START, prefix="d7-")[0].conversation_id.startswith("d7-")
    assert not generate(3, seed=0, start=START, prefix="d7-")[0].conversation_id.startswith("d7--")


def test_naive_start_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone"):
        generate(1, seed=0, start=datetime(2026, 1, 1))  # noqa: DTZ001 (the point of the test)


def test_non_utc_start_keeps_its_offset() -> None:
    start = datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=-5)))
    conversation = generate(1, seed=0, start=start)[0]
    assert conversation.turns[0].ts.utcoffset() == timedelta(hours=-5)


def test_card_number_read_aloud_exists() -> None:
    scenario = by_name("card_read_aloud")
    assert scenario.expect_escalation
    assert "risk.payments" in scenario.expect_triggers
    texts = " ".join(text for turn in scenario.turns for text in turn.texts)
    assert "4111 1111 1111 1111" in texts
    conversation = next(
        c for c in generate(200, seed=2, start=START) if c.scenario.name == "card_read_aloud"
    )
    assert any("4111 1111 1111 1111" in t.text for t in conversation.turns)
    assert conversation.turns[0].channel is not None
    assert conversation.turns[0].channel.value == "voice"


def test_texts_vary_between_conversations_of_a_scenario() -> None:
    conversations = [
        c for c in generate(400, seed=9, start=START) if c.scenario.name == "order_status"
    ]
    assert len({c.turns[0].text for c in conversations}) > 1


def test_low_confidence_scenario_has_two_low_confidence_turns() -> None:
    conversation = next(
        c for c in generate(200, seed=4, start=START) if c.scenario.family == "low_confidence"
    )
    low = [t for t in conversation.turns if t.nlu and (t.nlu.confidence or 1.0) < 0.5]
    assert len(low) == 2


def test_vip_and_churn_profiles() -> None:
    conversations = generate(200, seed=6, start=START)
    vip = next(c for c in conversations if c.scenario.family == "vip")
    churn = next(c for c in conversations if c.scenario.family == "churn_risk")
    assert vip.turns[0].customer is not None and vip.turns[0].customer.tier in ("gold", "platinum")
    assert churn.turns[0].customer is not None
    assert (churn.turns[0].customer.churn_risk or 0.0) >= 0.8


def test_gather_answer_gives_text_and_slots() -> None:
    conversation = generate(1, seed=0, start=START)[0]
    text, slots = gather_answer(conversation, ["order_id", "account_id", "loyalty_pin"])
    assert slots == {
        "order_id": conversation.facts["order"],
        "account_id": conversation.facts["account"],
    }
    assert conversation.facts["order"] in text
    assert "loyalty pin" in text  # an unknown field is answered honestly, without a slot


def test_gather_answer_confirms_identity_with_a_yes_slot() -> None:
    conversation = generate(1, seed=0, start=START)[0]
    text, slots = gather_answer(conversation, ["verified_identity"])
    assert slots == {"verified_identity": "yes"}
    assert conversation.facts["account"] in text


def test_expected_queues_and_fields_exist_in_the_default_policy() -> None:
    from warmhandoff.streams.policy.loader import load_policy

    policy = load_policy()
    for scenario in ESCALATING:
        assert scenario.expect_queue in policy.queues, scenario.name
    required = {f for queue in policy.queues.values() for f in queue.required_fields}
    conversation = generate(1, seed=0, start=START)[0]
    _, slots = gather_answer(conversation, sorted(required))
    assert set(slots) == required  # the simulated customer can answer every required field
