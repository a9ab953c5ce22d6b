"""The decision: each trigger family of the default policy, precedence, routing and records."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from warmhandoff.streams.contract.models import (
    Action,
    BotStatus,
    Channel,
    Role,
    Signals,
    SystemBoundary,
)
from warmhandoff.streams.policy import (
    DecisionContext,
    Policy,
    Verdict,
    decide,
    evaluate_triggers,
    load_policy,
    parse_policy,
)

POLICY = load_policy()
DEFAULT_TEXT = resources.files("warmhandoff.streams.policy").joinpath("default.yaml").read_text()
FRESH = DecisionContext()


def signals(**fields: Any) -> Signals:
    """An English chat turn from a customer that triggers nothing, plus `fields`."""
    base: dict[str, Any] = {
        "conversation_id": "c-1",
        "seq": 3,
        "ts": datetime(2026, 11, 25, 16, 0, tzinfo=UTC),
        "role": Role.customer,
        "channel": Channel.chat,
        "language": "en",
        "language_confidence": 0.99,
        "bot_language": "en-US",
        "confidence": 0.9,
    }
    return Signals(**(base | fields))


def verdict(ctx: DecisionContext = FRESH, **fields: Any) -> Verdict:
    return decide(POLICY, signals(**fields), ctx)


def custom(**sections: Any) -> Policy:
    """The default policy with whole sections replaced."""
    data = yaml.safe_load(DEFAULT_TEXT) | sections
    return parse_policy(yaml.safe_dump(data, sort_keys=False), "custom.yaml")


def hit(v: Verdict, code: str) -> tuple[object, object]:
    found = next(h for h in v.triggers if h.code == code)
    return found.value, found.threshold


# --- nothing to do ----------------------------------------------------------------------


def test_an_ordinary_turn_decides_nothing() -> None:
    v = verdict()
    assert v.action is Action.none
    assert v.triggers == ()
    assert v.queue is None and v.priority is None


# --- the six trigger families of the default policy -------------------------------------


@pytest.mark.parametrize(
    ("fields", "queue", "priority", "rule"),
    [
        # Policy and risk: verified desks.
        ({"risk": ["compliance"]}, "compliance", 1, "compliance"),
        ({"risk": ["fraud"]}, "fraud", 1, "fraud"),
        ({"risk": ["identity"]}, "identity", 2, "identity"),
        ({"risk": ["payments"]}, "payments", 2, "payments"),
        ({"risk": ["cancellation"]}, "retention", 2, "cancellation"),
        # High emotion: routed and boosted.
        ({"sentiment": -0.8, "sharp": True}, "general", 2, "upset_customer"),
        ({"frustration": 0.75}, "general", 2, "upset_customer"),
        # Low confidence loops.
        ({"fallback_streak": 2}, "general", 3, "bot_struggling"),
        # System boundaries.
        (
            {"system_boundary": SystemBoundary(action="refund", status=BotStatus.not_permitted)},
            "tech_support",
            3,
            "system_boundary",
        ),
        # Language and accessibility.
        (
            {"language": "es", "language_mismatch": True, "language_confidence": 0.93},
            "multilingual",
            3,
            "language",
        ),
        ({"accessibility": ["hearing"]}, "assisted", 2, "accessibility"),
        # Revenue moments.
        ({"revenue": ["upgrade"]}, "sales", 3, "sales"),
        ({"revenue": ["retention"]}, "retention", 2, "retention_save"),
        # Explicit request.
        ({"human_request": True}, "general", 3, "asked_for_human"),
    ],
)
def test_trigger_family_routes(
    fields: dict[str, Any], queue: str, priority: int, rule: str
) -> None:
    v = verdict(**fields)
    assert v.action is Action.escalate, v.reason
    assert (v.queue, v.priority, v.rule) == (queue, priority, rule)
    assert v.reason.startswith(f"rule {rule}: ")
    spec = POLICY.queues[queue]
    assert v.skills == tuple(spec.skills)
    assert v.sla_seconds == spec.sla.seconds and v.sla_target == spec.sla.target
    assert v.required_fields == tuple(spec.required_fields)
    assert v.disclosure == spec.disclosure


def test_risk_desks_carry_disclosure_and_required_fields() -> None:
    v = verdict(risk=["payments"])
    assert v.disclosure and "payments team" in v.disclosure
    assert v.required_fields == ("account_id", "verified_identity")


@pytest.mark.parametrize(
    "fields",
    [
        {"tier": "gold"},
        {"lifetime_value": 25_000.0},
        {"vip": True},
        {"churn_risk": 0.9},
        {"accessibility": ["captions"]},  # carried in the bundle, not a reason to escalate
        {"language": "es", "language_mismatch": True, "language_confidence": 0.5},
        {"system_boundary": SystemBoundary(action="lookup", status=BotStatus.ok)},
        {"sentiment": -0.5, "frustration": 0.69, "fallback_streak": 1},
        # One unhappy turn that is not sharp: the conversation's frustration judges it.
        {"sentiment": -0.9, "sentiment_trend": -0.5},
    ],
)
def test_below_threshold_or_priority_only_does_not_escalate(fields: dict[str, Any]) -> None:
    v = verdict(**fields)
    assert v.action is Action.none
    assert v.queue is None


def test_priority_only_triggers_are_still_recorded() -> None:
    v = verdict(tier="Gold", churn_risk=0.8)
    assert v.action is Action.none
    assert v.trigger_codes == ("vip", "churn_risk")
    assert v.reason == "no escalating trigger: vip, churn_risk"


def test_vip_escalation_goes_to_the_vip_desk_with_entitlement() -> None:
    v = verdict(tier="gold", human_request=True)
    assert (v.rule, v.queue, v.priority) == ("vip_care", "vip", 1)
    assert v.entitlement == "gold"


def test_entitlement_only_where_the_queue_serves_the_tier() -> None:
    assert verdict(tier="gold", risk=["payments"]).entitlement is None
    override = custom(
        rules=[{"name": "all", "queue": "general", "priority": 3, "entitlement": "premium"}]
    )
    v = decide(override, signals(human_request=True), FRESH)
    assert v.entitlement == "premium"


# --- precedence -------------------------------------------------------------------------


def test_first_matching_rule_wins() -> None:
    v = verdict(risk=["payments", "compliance"], human_request=True)
    assert v.rule == "compliance"
    assert v.trigger_codes == ("human_request", "risk.payments", "risk.compliance")


def test_low_confidence_clarifies_then_escalates() -> None:
    first = verdict(confidence=0.3)
    assert first.action is Action.clarify
    assert first.queue is None
    assert first.reason == "clarify first (1 of 1): low_confidence"
    again = verdict(DecisionContext(clarifications=1), confidence=0.25)
    assert again.action is Action.escalate
    assert (again.rule, again.queue) == ("bot_struggling", "general")


def test_clarify_allows_several_questions_when_configured() -> None:
    patient = custom(triggers={"low_confidence": {"max_clarifications": 2}})
    decided = [
        decide(patient, signals(confidence=0.2), DecisionContext(clarifications=n)).action
        for n in range(3)
    ]
    assert decided == [Action.clarify, Action.clarify, Action.escalate]


def test_low_confidence_with_another_escalating_trigger_escalates_at_once() -> None:
    v = verdict(confidence=0.3, fallback_streak=3)
    assert v.action is Action.escalate
    # A priority-only trigger alongside low confidence still clarifies.
    assert verdict(confidence=0.3, tier="gold").action is Action.clarify


def test_mandatory_trigger_skips_clarify() -> None:
    v = verdict(confidence=0.2, human_request=True)
    assert v.action is Action.escalate
    assert v.rule == "asked_for_human"


def test_clarify_first_off_escalates_low_confidence_at_once() -> None:
    eager = custom(triggers={"low_confidence": {"clarify_first": False}})
    assert decide(eager, signals(confidence=0.3), FRESH).action is Action.escalate


def test_handed_off_is_owned_never_escalated_again() -> None:
    owned = DecisionContext(handed_off=True)
    v = verdict(owned, risk=["compliance"], human_request=True, frustration=1.0)
    assert v.action is Action.owned
    assert v.queue is None
    assert v.trigger_codes == ("human_request", "frustration", "risk.compliance")
    assert verdict(owned).action is Action.none


def test_escalating_trigger_without_a_rule_goes_to_the_default_queue() -> None:
    bare = custom(rules=[])
    v = decide(bare, signals(frustration=0.9), FRESH)
    assert (v.action, v.rule, v.queue) == (Action.escalate, None, "general")
    assert v.priority == 2  # defaults.priority 3, boosted by the emotion boost
    assert v.reason == "default queue general: frustration"


def test_disabled_trigger_never_fires_and_effect_can_be_changed() -> None:
    changed = custom(
        triggers={"human_request": {"enabled": False}, "vip": {"effect": "escalate", "tiers": []}}
    )
    assert decide(changed, signals(human_request=True), FRESH).action is Action.none
    v = decide(changed, signals(vip=True), FRESH)
    assert (v.action, v.queue) == (Action.escalate, "vip")


# --- priority boosts --------------------------------------------------------------------


def test_priority_boosts_add_up_and_clamp_at_one() -> None:
    v = verdict(risk=["payments"], tier="platinum", churn_risk=0.9, frustration=0.9)
    assert v.rule == "payments"
    assert v.priority == 1  # 2 - (vip 1 + churn 1 + emotion 1), never below 1
    assert (
        verdict(system_boundary=SystemBoundary(action="x", status=BotStatus.failed)).priority == 3
    )
    boosted = verdict(
        churn_risk=0.8, system_boundary=SystemBoundary(action="x", status=BotStatus.failed)
    )
    assert boosted.priority == 2


# --- records ----------------------------------------------------------------------------


def test_hits_carry_measured_value_and_threshold() -> None:
    v = verdict(
        sentiment=-0.82,
        sharp=True,
        frustration=0.71,
        confidence=0.3,
        fallback_streak=3,
        churn_risk=0.75,
        tier="gold",
        system_boundary=SystemBoundary(action="refund", status=BotStatus.unavailable),
        revenue=["retention", "unknown"],
    )
    assert hit(v, "negative_sentiment") == (-0.82, -0.6)
    assert hit(v, "frustration") == (0.71, 0.7)
    assert hit(v, "low_confidence") == (0.3, 0.45)
    assert hit(v, "repeated_fallback") == (3.0, 2.0)
    assert hit(v, "churn_risk") == (0.75, 0.7)
    assert hit(v, "vip") == ("gold", ["gold", "platinum"])
    assert hit(v, "system_boundary") == (
        "unavailable",
        ["failed", "not_permitted", "unavailable"],
    )
    assert hit(v, "revenue_opportunity") == (["retention"], ["purchase", "upgrade", "retention"])


def test_sentiment_trend_hit_records_the_trend() -> None:
    trend = custom(triggers={"negative_sentiment": {"trend_threshold": -0.4}})
    v = decide(trend, signals(sentiment=-0.1, sentiment_trend=-0.45), FRESH)
    assert hit(v, "negative_sentiment") == (-0.45, -0.4)


def test_any_negative_turn_fires_when_sharp_only_is_off() -> None:
    every = custom(triggers={"negative_sentiment": {"threshold": -0.6, "sharp_only": False}})
    assert hit(decide(every, signals(sentiment=-0.7), FRESH), "negative_sentiment") == (-0.7, -0.6)
    assert verdict(sentiment=-0.7).action is Action.none


def test_evaluate_triggers_lists_hits_in_policy_order() -> None:
    hits = evaluate_triggers(POLICY, signals(risk=["fraud"], human_request=True, tier="gold"))
    assert [h.code for h in hits] == ["human_request", "risk.fraud", "vip"]
    assert evaluate_triggers(POLICY, signals()) == []


def test_next_steps_join_queue_and_intent_playbooks() -> None:
    v = verdict(risk=["payments"], intent="dispute_charge")
    assert v.next_steps == (
        *POLICY.queues["payments"].playbook,
        *POLICY.playbooks["dispute_charge"],
    )
    assert verdict(risk=["payments"], intent="no_such_intent").next_steps == tuple(
        POLICY.queues["payments"].playbook
    )


# --- language ---------------------------------------------------------------------------


def test_language_is_the_bot_language_without_a_mismatch() -> None:
    assert verdict(human_request=True, bot_language="en_GB").language == "en"


def test_locale_routing_moves_a_non_verified_escalation_to_a_language_queue() -> None:
    v = verdict(frustration=0.9, bot_language="fr-FR", language="fr")
    assert (v.rule, v.queue, v.language) == ("upset_customer", "multilingual", "fr")
    assert v.reason == "rule upset_customer: frustration; language fr: multilingual"


def test_verified_desks_keep_their_queue_and_need_the_language() -> None:
    v = verdict(risk=["payments"], bot_language="es-ES", language="es")
    assert (v.queue, v.language) == ("payments", "es")
    strict = custom(
        queues=POLICY.model_dump(by_alias=True, exclude_none=True)["queues"]
        | {
            "payments": {
                "skills": ["payments"],
                "languages": ["en"],
                "verified": True,
                "disclosure": "Recorded.",
            }
        }
    )
    kept = decide(strict, signals(risk=["payments"], bot_language="es-ES", language="es"), FRESH)
    assert (kept.queue, kept.language) == ("payments", "en")


def test_unserved_language_falls_back_to_the_default_language() -> None:
    v = verdict(human_request=True, language="ja", language_mismatch=True)
    assert (v.queue, v.language) == ("general", "en")
    assert v.reason.endswith("; no ja queue, general in en")


# --- the learned trigger ----------------------------------------------------------------


def test_learned_shadow_never_changes_anything() -> None:
    v = verdict(DecisionContext(learned_score=0.99))
    assert (v.action, v.triggers) == (Action.none, ())


def test_learned_active_escalates_and_holds_back_only_non_mandatory() -> None:
    active = custom(
        triggers={"learned": {"mode": "active", "threshold": 0.8, "suppress_below": 0.2}}
    )
    fires = decide(active, signals(), DecisionContext(learned_score=0.9))
    assert (fires.action, fires.rule) == (Action.escalate, "bot_struggling")
    assert hit(fires, "learned") == (0.9, 0.8)
    held = decide(active, signals(frustration=0.9), DecisionContext(learned_score=0.1))
    assert held.action is Action.none
    assert held.reason == "learned score 0.10 below 0.2 holds back: frustration"
    mandatory = decide(active, signals(human_request=True), DecisionContext(learned_score=0.1))
    assert mandatory.action is Action.escalate


# --- what the bot finishes itself (bot_capabilities) -----------------------------------

PASSWORD_TURN: dict[str, Any] = {"risk": ["identity"], "intent": "password_reset"}


def test_a_confident_password_reset_lets_the_bot_try() -> None:
    held = verdict(**PASSWORD_TURN, confidence=0.94)
    assert (held.action, held.triggers) == (Action.none, ())
    assert held.reason == "the bot finishes it (password_reset): risk.identity"
    assert verdict(**PASSWORD_TURN, confidence=0.8).action is Action.none  # at the threshold
    assert verdict(risk=["identity"], intent="Forgot_Password").action is Action.none
    hits = evaluate_triggers(POLICY, signals(**PASSWORD_TURN, confidence=0.9))
    assert hits == []


@pytest.mark.parametrize("confidence", [0.5, 0.79, None])
def test_an_unsure_password_reset_goes_to_the_identity_desk(confidence: float | None) -> None:
    v = verdict(**PASSWORD_TURN, confidence=confidence)
    assert (v.action, v.rule, v.queue) == (Action.escalate, "identity", "identity")
    assert v.trigger_codes == ("risk.identity",)


def test_other_intents_still_go_to_the_identity_desk() -> None:
    for intent in (None, "unlock_account", "password_reset_help"):
        v = verdict(risk=["identity"], intent=intent, confidence=0.95)
        assert v.rule == "identity", intent


def test_a_failed_bot_action_hands_the_flow_to_its_desk() -> None:
    failed = SystemBoundary(action="send_reset_link", status=BotStatus.failed)
    v = verdict(**PASSWORD_TURN, confidence=0.94, system_boundary=failed)
    # The bot could not finish: what the flow held back fires, and routes the handoff.
    assert (v.action, v.rule, v.queue) == (Action.escalate, "identity", "identity")
    assert v.trigger_codes == ("risk.identity", "system_boundary")


def test_a_customer_who_insists_reaches_the_flows_desk() -> None:
    v = verdict(**PASSWORD_TURN, confidence=0.94, human_request=True)
    assert (v.action, v.rule) == (Action.escalate, "identity")
    assert v.trigger_codes == ("human_request", "risk.identity")
    upset = verdict(**PASSWORD_TURN, confidence=0.94, frustration=0.8)
    assert (upset.rule, upset.trigger_codes) == ("identity", ("frustration", "risk.identity"))
    again = verdict(**PASSWORD_TURN, confidence=0.94, repeat=True)
    assert (again.rule, again.trigger_codes) == ("identity", ("risk.identity",))


def test_a_flow_holds_back_only_its_own_triggers() -> None:
    v = verdict(**PASSWORD_TURN, confidence=0.94, tier="gold")
    assert v.action is Action.none
    assert (
        v.reason
        == "no escalating trigger: vip; the bot finishes it (password_reset): risk.identity"
    )
    payments = verdict(risk=["identity", "payments"], intent="password_reset", confidence=0.94)
    assert (payments.rule, payments.trigger_codes) == ("payments", ("risk.payments",))


def test_a_flow_holds_per_turn() -> None:
    ctx = DecisionContext(clarifications=1)
    first = verdict(ctx, **PASSWORD_TURN, confidence=0.94)
    later = verdict(ctx, risk=["identity"], intent="account_locked", confidence=0.94)
    assert (first.action, later.action, later.rule) == (Action.none, Action.escalate, "identity")


def test_a_deferred_trigger_made_mandatory_in_code_still_fires() -> None:
    triggers = POLICY.triggers.model_copy(
        update={
            "risk_identity": POLICY.triggers.risk_identity.model_copy(update={"mandatory": True})
        }
    )
    strict = POLICY.model_copy(update={"triggers": triggers})  # model_copy does not validate
    v = decide(strict, signals(**PASSWORD_TURN, confidence=0.94), FRESH)
    assert (v.action, v.rule) == (Action.escalate, "identity")


def test_self_service_can_defer_several_triggers_and_the_learned_score() -> None:
    policy = custom(
        triggers={"learned": {"mode": "active", "threshold": 0.8}},
        bot_capabilities=[],
        self_service=[
            {
                "name": "refunds",
                "intents": ["refund_status"],
                "min_confidence": 0.7,
                "defer": ["risk.payments", "learned", "negative_sentiment"],
            }
        ],
    )
    turn = signals(intent="refund_status", risk=["payments"], sentiment=-0.9, confidence=0.75)
    v = decide(policy, turn, DecisionContext(learned_score=0.95))
    assert (v.action, v.triggers) == (Action.none, ())
    assert v.reason.startswith("the bot finishes it (refunds): ")
    assert v.reason.endswith("risk.payments, learned")
    unsure = signals(intent="refund_status", risk=["payments"], confidence=0.6)
    assert decide(policy, unsure, FRESH).rule == "payments"
    # Without the sections nothing is deferred.
    assert decide(custom(bot_capabilities=[]), signals(**PASSWORD_TURN), FRESH).rule == "identity"


def test_self_service_keeps_its_earlier_meaning_when_the_customer_insists() -> None:
    # A policy file written before bot_capabilities: its hold stays whatever happens on the
    # turn, as it always did; only the triggers it does not list escalate.
    earlier = custom(
        bot_capabilities=[],
        self_service=[
            {
                "name": "password_reset",
                "intents": ["password_reset"],
                "min_confidence": 0.8,
                "defer": ["risk.identity"],
            }
        ],
    )
    failed = SystemBoundary(action="send_reset_link", status=BotStatus.failed)
    turn = signals(**PASSWORD_TURN, confidence=0.94, human_request=True, system_boundary=failed)
    v = decide(earlier, turn, FRESH)
    assert (v.rule, v.trigger_codes) == ("system_boundary", ("human_request", "system_boundary"))
    assert decide(earlier, signals(**PASSWORD_TURN, repeat=True), FRESH).triggers == ()


# --- rule conditions --------------------------------------------------------------------


def test_rule_conditions_all_channels_intents_tiers_and_counts() -> None:
    rules = [
        {"name": "voice_gold", "when": {"channels": ["voice"], "tiers": ["GOLD"]}},
        {"name": "refunds", "when": {"intents": ["refund_status"], "any": ["frustration"]}},
        {"name": "pile_up", "when": {"min_triggers": 3}},
        {"name": "pair", "when": {"all": ["frustration", "negative_sentiment"]}},
        {
            "name": "two_of",
            "when": {"any": ["human_request", "frustration", "low_confidence"], "min_triggers": 2},
        },
    ]
    policy = custom(
        rules=[rule | {"queue": "general", "priority": 4} for rule in rules], priority_boosts=[]
    )

    def rule_for(**fields: Any) -> object:
        return decide(policy, signals(**fields), FRESH).rule

    assert rule_for(channel=Channel.voice, tier="gold", human_request=True) == "voice_gold"
    assert rule_for(channel=Channel.chat, tier="gold", human_request=True) is None
    assert rule_for(intent="refund_status", frustration=0.9) == "refunds"
    assert rule_for(risk=["payments", "fraud"], human_request=True) == "pile_up"
    assert rule_for(frustration=0.9, sentiment=-0.9, sharp=True) == "pair"
    assert rule_for(frustration=0.9, human_request=True) == "two_of"
    assert rule_for(frustration=0.9) is None


# --- properties -------------------------------------------------------------------------

_signals = st.builds(
    signals,
    sentiment=st.floats(-1, 1),
    sentiment_trend=st.floats(-1, 1),
    frustration=st.floats(0, 1),
    sharp=st.booleans(),
    human_request=st.booleans(),
    confidence=st.none() | st.floats(0, 1),
    fallback_streak=st.integers(0, 5),
    risk=st.lists(st.sampled_from(["payments", "cancellation", "identity", "fraud", "compliance"])),
    tier=st.none() | st.sampled_from(["gold", "silver", "platinum"]),
    churn_risk=st.none() | st.floats(0, 1),
    language=st.sampled_from(["en", "es", "ja", "und"]),
    language_mismatch=st.booleans(),
    accessibility=st.lists(st.sampled_from(["captions", "tty", "relay_service"]), max_size=2),
    revenue=st.lists(st.sampled_from(["purchase", "upgrade", "retention"]), max_size=2),
    intent=st.none()
    | st.sampled_from(["refund_status", "dispute_charge", "password_reset", "Forgot_Password"]),
    system_boundary=st.none()
    | st.builds(
        SystemBoundary, action=st.just("send_reset_link"), status=st.sampled_from(BotStatus)
    ),
)
_SELF_SERVICE = {"password_reset", "reset_password", "forgot_password", "change_password"}
WITHOUT_FLOWS = custom(bot_capabilities=[])
MANDATORY = {"human_request", "risk.compliance", "risk.fraud"}


def insists(s: Signals, fired: list[str]) -> bool:
    """The bot cannot finish or the customer insists: no flow holds anything back."""
    failed = s.system_boundary is not None and s.system_boundary.status is not BotStatus.ok
    return failed or s.human_request or s.repeat or "frustration" in fired


@settings(max_examples=300, deadline=None)
@given(s=_signals, handed_off=st.booleans(), clarifications=st.integers(0, 3))
def test_decisions_are_well_formed(s: Signals, handed_off: bool, clarifications: int) -> None:
    ctx = DecisionContext(handed_off=handed_off, clarifications=clarifications)
    v = decide(POLICY, s, ctx)
    assert decide(POLICY, s, ctx) == v  # deterministic
    if handed_off:
        assert v.action is (Action.owned if v.triggers else Action.none)
    elif MANDATORY & set(v.trigger_codes):
        assert v.action is Action.escalate
    # Flows only hold back: never add a trigger, never hold a mandatory one, and hold
    # nothing when the customer insists or the bot's action failed.
    without = [h.code for h in evaluate_triggers(WITHOUT_FLOWS, s)]
    assert set(v.trigger_codes) <= set(without)
    assert MANDATORY & set(without) <= set(v.trigger_codes)
    if insists(s, without):
        assert list(v.trigger_codes) == without
    if s.system_boundary is not None and s.system_boundary.status is not BotStatus.ok:
        assert "system_boundary" in v.trigger_codes
    if v.action is Action.escalate:
        assert v.queue in POLICY.queues
        assert v.priority is not None and 1 <= v.priority <= 5
        assert v.language
        assert v.sla_seconds > 0
    else:
        assert v.queue is None and v.priority is None


_password_turns = st.builds(
    signals,
    risk=st.lists(st.sampled_from(["payments", "fraud"]), max_size=1).map(
        lambda risks: ["identity", *risks]
    ),
    intent=st.sampled_from(sorted(_SELF_SERVICE)).flatmap(
        lambda intent: st.sampled_from([intent, intent.upper(), intent.title()])
    )
    | st.sampled_from(["unlock_account", "password", "reset_password_help"]),
    confidence=st.none() | st.floats(0, 1) | st.sampled_from([0.79, 0.8, 0.81]),
    human_request=st.booleans(),
    repeat=st.booleans(),
    frustration=st.floats(0, 1),
    system_boundary=st.none()
    | st.builds(
        SystemBoundary, action=st.just("send_reset_link"), status=st.sampled_from(BotStatus)
    ),
)


@settings(max_examples=300, deadline=None)
@given(s=_password_turns)
def test_password_reset_holds_identity_exactly_on_confident_listed_turns(s: Signals) -> None:
    listed = s.intent is not None and s.intent.lower() in _SELF_SERVICE
    without = decide(WITHOUT_FLOWS, s, FRESH)
    held = (
        listed
        and s.confidence is not None
        and s.confidence >= 0.8
        and not insists(s, list(without.trigger_codes))
    )
    v = decide(POLICY, s, FRESH)
    if not held:
        assert v == without
        return
    expected = tuple(c for c in without.trigger_codes if c != "risk.identity")
    assert v.trigger_codes == expected
    # Only identity is held back: every other escalating trigger still escalates.
    assert (v.action is Action.escalate) is bool(
        set(expected) - {"vip", "churn_risk", "low_confidence"}
    )
