"""What the bot finishes itself: the `bot_capabilities` policy section, its decisions, and
the topics a conversation keeps open (a risk from an earlier turn never re-escalates on a
reply that only thanks or agrees)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from warmhandoff.streams.contract.models import (
    Action,
    BotStatus,
    Channel,
    Role,
    Signals,
    SystemBoundary,
    Turn,
)
from warmhandoff.streams.core.pipeline import StepResult, expire_gather, new_state, process_turn
from warmhandoff.streams.policy import (
    DecisionContext,
    Policy,
    PolicyError,
    Verdict,
    decide,
    load_policy,
    parse_policy,
    policy_check,
)

POLICY = load_policy()
T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)

BASE: dict[str, Any] = {
    "version": "t1",
    "queues": {
        "general": {"skills": ["care"]},
        "sales": {"skills": ["sales"]},
        "payments": {"skills": ["payments"], "verified": True, "disclosure": "Recorded."},
    },
    "rules": [
        {
            "name": "payments",
            "when": {"any": ["risk.payments"]},
            "queue": "payments",
            "priority": 2,
        },
        {
            "name": "sales",
            "when": {"any": ["revenue_opportunity"]},
            "queue": "sales",
            "priority": 3,
        },
    ],
    "defaults": {"queue": "general"},
}
TICKETS: dict[str, Any] = {"name": "tickets", "intents": ["buy_tickets"], "topics": ["purchase"]}
REFUNDS: dict[str, Any] = {
    "name": "refund_status",
    "intents": ["refund_status"],
    "min_confidence": 0.8,
    "defer": ["risk.payments"],
}


def with_flows(*flows: dict[str, Any], **sections: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE) | {"bot_capabilities": list(flows)} | sections
    return data


def problems_of(data: dict[str, Any]) -> list[str]:
    """The one-line problems of a policy that must fail, without the file prefix."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(yaml.safe_dump(data, sort_keys=False), "policy.yaml")
    lines = str(caught.value).splitlines()
    assert all(line.startswith("policy.yaml: ") for line in lines)
    return [line.removeprefix("policy.yaml: ") for line in lines]


# --- loading ----------------------------------------------------------------------------


def test_a_capabilities_section_loads_into_flows_by_intent_and_by_topic() -> None:
    policy = parse_policy(yaml.safe_dump(with_flows(TICKETS, REFUNDS)), "p.yaml")
    assert [flow.name for flow in policy.bot_capabilities] == ["tickets", "refund_status"]
    compiled = policy.compiled
    assert set(compiled.flows_by_intent) == {"buy_tickets", "refund_status"}
    tickets = compiled.flows_by_intent["buy_tickets"]
    assert (tickets.kinds, tickets.families, tickets.held) == ({"purchase"}, set(), set())
    assert compiled.flows_by_topic == {"purchase": (tickets,)}
    refunds = compiled.flows_by_intent["refund_status"]
    assert (refunds.min_confidence, refunds.held) == (0.8, {"risk.payments"})
    assert tickets.hands_off and refunds.hands_off


def test_policy_check_names_the_flows_and_an_earlier_self_service_section(
    tmp_path: Path,
) -> None:
    path = tmp_path / "policy.yaml"
    earlier = {**REFUNDS, "name": "refunds", "intents": ["where_is_my_refund"]}
    path.write_text(yaml.safe_dump(with_flows(TICKETS, self_service=[earlier])))
    ok, message = policy_check(path)
    assert ok and len(message.splitlines()) == 1
    assert message.endswith(
        "bot capabilities: tickets; self_service (earlier form, see docs/policy.md): refunds)"
    )


@pytest.mark.parametrize(
    ("flows", "expected"),
    [
        ({"tickets": TICKETS}, "bot_capabilities: must be a list, got a mapping"),
        (
            [{k: v for k, v in TICKETS.items() if k != "name"}],
            "bot_capabilities[0].name: required field is missing",
        ),
        (
            [{"name": "sell", "defer": ["low_confidence"]}],
            "bot_capabilities[0]: a flow needs `intents` or `topics`: how a turn is known "
            "to be in it",
        ),
        (
            [{"name": "sell", "intents": ["buy"]}],
            "bot_capabilities[0]: a flow needs `topics` or `defer`: what the bot finishes itself",
        ),
        (
            [{"name": "sell", "topics": ["purchase"], "min_confidence": 0.8}],
            "bot_capabilities[0]: min_confidence applies to `intents`, and the flow lists none",
        ),
        (
            [{**TICKETS, "topics": ["purchse"]}],
            "bot_capabilities[0].topics[0]: unknown topic 'purchse' (did you mean 'purchase'?)",
        ),
        (
            [{**TICKETS, "topics": ["tickets"]}],
            "bot_capabilities[0].topics[0]: unknown topic 'tickets' (topics: purchase, upgrade, "
            "retention, payments, cancellation, identity, fraud, compliance)",
        ),
        (
            [{**TICKETS, "topics": "purchase"}],
            "bot_capabilities[0].topics: must be a list, got text",
        ),
        (
            [{**TICKETS, "defer": ["revenue_oportunity"]}],
            "bot_capabilities[0].defer[0]: unknown trigger 'revenue_oportunity' "
            "(did you mean 'revenue_opportunity'?)",
        ),
        (
            [{**REFUNDS, "min_confidence": 1.5}],
            "bot_capabilities[0].min_confidence: must be between 0 and 1, got 1.5",
        ),
        (
            [{**TICKETS, "intent": ["buy"]}],
            "bot_capabilities[0].intent: unknown field (did you mean 'intents'?)",
        ),
        (
            [{**TICKETS, "name": "Sell Tickets"}],
            "bot_capabilities[0].name: 'Sell Tickets' is not a valid name (lower case, digits, _)",
        ),
    ],
)
def test_each_bad_shape_is_one_line(flows: object, expected: str) -> None:
    data = copy.deepcopy(BASE) | {"bot_capabilities": flows}
    assert problems_of(data) == [expected]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            with_flows({**TICKETS, "topics": ["purchase", "compliance"]}),
            "bot_capabilities[0].topics[1]: cannot cover compliance: risk.compliance is "
            "mandatory in this policy, and mandatory triggers always fire",
        ),
        (
            with_flows(
                {**TICKETS, "topics": ["fraud"]}, triggers={"risk.fraud": {"mandatory": True}}
            ),
            "bot_capabilities[0].topics[0]: cannot cover fraud: risk.fraud is mandatory in this "
            "policy, and mandatory triggers always fire",
        ),
        (
            with_flows(
                {**REFUNDS, "defer": ["risk.payments"]},
                triggers={"risk.payments": {"mandatory": True}},
            ),
            "bot_capabilities[0].defer[0]: cannot defer a mandatory trigger: risk.payments is "
            "mandatory in this policy, and mandatory triggers always fire",
        ),
        (
            with_flows({**TICKETS, "defer": ["human_request"]}),
            "bot_capabilities[0].defer[0]: cannot defer a mandatory trigger: human_request is "
            "mandatory in this policy, and mandatory triggers always fire",
        ),
        (
            with_flows(
                {**TICKETS, "defer": ["human_request"]},
                triggers={"human_request": {"mandatory": False}},
            ),
            "bot_capabilities[0].defer[0]: cannot defer human_request: the customer asking "
            "for a human hands the flow to a human",
        ),
        (
            with_flows({**TICKETS, "defer": ["system_boundary"]}),
            "bot_capabilities[0].defer[0]: cannot defer system_boundary: the bot's failed "
            "action hands the flow to a human",
        ),
        (
            with_flows({**TICKETS, "defer": ["frustration"]}),
            "bot_capabilities[0].defer[0]: cannot defer frustration: a frustrated customer "
            "hands the flow to a human",
        ),
        (
            with_flows(TICKETS, {**REFUNDS, "name": "tickets"}),
            "bot_capabilities[1].name: duplicate flow name 'tickets' (first at "
            "bot_capabilities[0])",
        ),
        (
            with_flows(TICKETS, {**REFUNDS, "intents": ["Buy_Tickets"]}),
            "bot_capabilities[1].intents[0]: intent 'Buy_Tickets' is already in "
            "bot_capabilities[0] (list each intent in one entry)",
        ),
        (
            with_flows(REFUNDS, self_service=[{**REFUNDS, "name": "earlier"}]),
            "self_service[0].intents[0]: intent 'refund_status' is already in "
            "bot_capabilities[0] (list each intent in one entry)",
        ),
    ],
)
def test_whole_policy_problems_are_one_line_each(data: dict[str, Any], expected: str) -> None:
    assert problems_of(data) == [expected]


def test_the_check_reports_a_file_with_a_bad_flow_as_file_path_problem(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(with_flows({**TICKETS, "topics": ["compliance"]})))
    ok, message = policy_check(path)
    assert not ok
    assert message == (
        f"{path}: bot_capabilities[0].topics[0]: cannot cover compliance: risk.compliance is "
        "mandatory in this policy, and mandatory triggers always fire"
    )


# --- decisions ----------------------------------------------------------------------------


def signals(**fields: Any) -> Signals:
    """An English chat turn from a customer that triggers nothing, plus `fields`."""
    base: dict[str, Any] = {
        "conversation_id": "c-1",
        "seq": 3,
        "ts": T0,
        "role": Role.customer,
        "channel": Channel.chat,
        "language": "en",
        "bot_language": "en-US",
    }
    return Signals(**(base | fields))


def verdict(policy: Policy = POLICY, **fields: Any) -> Verdict:
    return decide(policy, signals(**fields), DecisionContext())


FAILED = SystemBoundary(action="sell_tickets", status=BotStatus.failed)


@pytest.mark.parametrize(
    "fields",
    [
        {"revenue": ["purchase"]},  # in the customer's words, no intent: the topic stands in
        {"revenue": ["purchase"], "intent": "buy_tickets", "confidence": 0.9},
        {"revenue": ["purchase"], "intent": "Place_Order", "confidence": 0.6},  # no threshold
    ],
)
def test_a_purchase_in_a_selling_flow_stays_with_the_bot(fields: dict[str, Any]) -> None:
    v = verdict(**fields)
    assert (v.action, v.triggers) == (Action.none, ())
    # The decision says why a purchase moment did not escalate.
    assert v.reason == "the bot finishes it (purchase): revenue_opportunity (purchase)"


@pytest.mark.parametrize(
    ("fields", "codes"),
    [
        ({"system_boundary": FAILED}, ("system_boundary", "revenue_opportunity")),
        ({"human_request": True}, ("human_request", "revenue_opportunity")),
        ({"repeat": True}, ("revenue_opportunity",)),
        ({"frustration": 0.8}, ("frustration", "revenue_opportunity")),
    ],
)
def test_the_same_purchase_reaches_sales_when_the_bot_cannot_finish_or_the_customer_insists(
    fields: dict[str, Any], codes: tuple[str, ...]
) -> None:
    v = verdict(revenue=["purchase"], **fields)
    assert (v.action, v.rule, v.queue) == (Action.escalate, "sales", "sales")
    assert v.trigger_codes == codes


def test_a_purchase_the_bot_named_as_another_intent_reaches_sales() -> None:
    # The bot's NLU said what the customer wants, and it is not one of the bot's flows.
    v = verdict(revenue=["purchase"], intent="sales_enquiry", confidence=0.9)
    assert (v.action, v.rule) == (Action.escalate, "sales")


def test_upgrades_and_saves_still_reach_sales_and_retention() -> None:
    both = verdict(revenue=["purchase", "upgrade"])
    assert (both.rule, both.queue) == ("sales", "sales")
    (hit,) = both.triggers
    assert (hit.value, hit.threshold) == (["upgrade"], ["purchase", "upgrade", "retention"])
    assert verdict(revenue=["retention"]).rule == "retention_save"


def test_fraud_stays_mandatory_inside_a_flow() -> None:
    v = verdict(
        revenue=["purchase"], risk=["fraud"], intent="buy_tickets", confidence=0.95, tier="gold"
    )
    assert (v.action, v.rule, v.queue, v.priority) == (Action.escalate, "fraud", "fraud", 1)
    assert v.trigger_codes == ("risk.fraud", "vip")


def test_a_policy_without_the_section_hands_purchases_to_sales() -> None:
    data = POLICY.model_dump(mode="json", by_alias=True, exclude_none=True)
    bare = parse_policy(yaml.safe_dump(data | {"bot_capabilities": []}), "bare.yaml")
    assert verdict(bare, revenue=["purchase"]).rule == "sales"


def test_a_risk_family_topic_is_covered_by_text_and_by_intent() -> None:
    cancels = {"name": "cancel", "intents": ["cancel_plan"], "topics": ["cancellation"]}
    rules = BASE["rules"] + [
        {
            "name": "cancel",
            "when": {"any": ["risk.cancellation"]},
            "queue": "general",
            "priority": 2,
        }
    ]
    policy = parse_policy(yaml.safe_dump(with_flows(cancels, rules=rules)), "p.yaml")
    assert verdict(policy, risk=["cancellation"]).action is Action.none
    assert verdict(policy, risk=["cancellation"], intent="cancel_plan").action is Action.none
    # Another family on the same turn still fires.
    assert verdict(policy, risk=["cancellation", "payments"]).rule == "payments"
    assert verdict(policy, risk=["cancellation"], human_request=True).rule == "cancel"


# --- refunds: a question the bot answers, a dispute the payments desk takes --------------


def test_a_refund_question_with_the_refund_flows_intent_is_the_bots() -> None:
    v = verdict(risk=["payments"], intent="refund_status", confidence=0.9)
    assert (v.action, v.triggers) == (Action.none, ())
    unsure = verdict(risk=["payments"], intent="refund_status", confidence=0.6)
    assert unsure.rule == "payments"


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"risk": ["payments"], "intent": "dispute_charge"}, "payments"),
        ({"risk": ["payments"]}, "payments"),  # no intent: the payments family is not a flow
        ({"risk": ["fraud", "payments"], "intent": "refund_status"}, "fraud"),
    ],
)
def test_a_dispute_about_money_taken_goes_to_its_desk(fields: dict[str, Any], rule: str) -> None:
    v = verdict(confidence=0.9, **fields)
    assert (v.action, v.rule) == (Action.escalate, rule)


# --- conversations: open topics -----------------------------------------------------------


def turn(seq: int, text: str, role: str = "customer", **extra: Any) -> Turn:
    data: dict[str, Any] = {
        "conversation_id": "c-1",
        "seq": seq,
        "ts": (T0 + timedelta(seconds=10 * seq)).isoformat(),
        "role": role,
        "text": text,
        "channel": "chat",
        "locale": "en-US",
        "customer": {"id": "u-1", "tier": "standard"},
        **extra,
    }
    return Turn.model_validate(data)


def nlu(intent: str, confidence: float) -> dict[str, Any]:
    return {"nlu": {"intent": intent, "confidence": confidence}}


def actions(turns: list[Turn], policy: Policy = POLICY) -> list[Action]:
    state = new_state("c-1")
    results = [process_turn(state, t, policy, now=t.ts) for t in turns]
    return [r.decision.action for r in results if r is not None and r.decision is not None]


def test_a_refund_question_does_not_gather_on_the_first_turn() -> None:
    asked = [
        turn(0, "How do I get a refund for order A-20417?", **nlu("refund_request", 0.91)),
        turn(1, "Where is my refund?", **nlu("refund_status", 0.88)),
    ]
    assert actions(asked) == [Action.none, Action.none]


def test_a_charge_taken_twice_still_goes_to_the_payments_desk() -> None:
    disputed = turn(0, "You charged me twice for order A-20417.", **nlu("dispute_charge", 0.9))
    state = new_state("c-1")
    result = process_turn(state, disputed, POLICY, now=disputed.ts)
    assert result is not None and result.decision is not None
    assert (result.decision.action, result.decision.queue) == (Action.gather, "payments")


ANSWERED = [
    turn(0, "Where is my refund for order A-20417?", **nlu("refund_status", 0.9)),
    turn(1, "It was issued on Monday.", role="bot", bot={"action": "lookup_refund"}),
]


@pytest.mark.parametrize("reply", ["ok thanks", "Great, thank you!", "yes", "no, that's all"])
def test_an_answered_risk_does_not_come_back_on_an_acknowledgement(reply: str) -> None:
    # The bot's NLU keeps the topic's intent on the reply, unsure of it: without the flow's
    # hold, only the reply's own words count, and they raise nothing.
    acknowledged = turn(2, reply, **nlu("refund_status", 0.5))
    assert actions([*ANSWERED, acknowledged]) == [Action.none] * 3


def test_the_bots_own_reply_raises_no_topic_even_with_the_customers_intent() -> None:
    reply = turn(1, "It was issued on Monday.", role="bot", **nlu("refund_status", 0.5))
    assert actions([ANSWERED[0], reply]) == [Action.none, Action.none]


def test_a_button_the_customer_presses_raises_its_intents_topic() -> None:
    pressed = turn(0, "", **nlu("report_fraud", 0.99))
    assert actions([pressed]) == [Action.gather]


def test_a_risk_the_customer_keeps_talking_about_is_still_honoured() -> None:
    again = turn(2, "It has not reached my bank, when will it come?", **nlu("refund_status", 0.5))
    assert actions([*ANSWERED, again])[-1] is Action.gather


def test_an_acknowledgement_confirming_a_new_topic_counts() -> None:
    # "yes" to the bot's question is the first time the customer names the topic.
    asked = turn(0, "I have a question about my card.", **nlu("card_help", 0.9))
    question = turn(1, "Is it about a payment you do not recognise?", role="bot")
    confirmed = turn(2, "yes", **nlu("unrecognised_transaction", 0.92))
    assert actions([asked, question, confirmed])[-1] is Action.gather


def test_an_escalation_waiting_for_its_fields_is_honoured_through_an_acknowledgement() -> None:
    state = new_state("c-1")
    opened = turn(0, "You charged me twice for order A-20417.", **nlu("dispute_charge", 0.9))
    first = process_turn(state, opened, POLICY, now=opened.ts)
    assert first is not None and first.decision is not None
    assert first.decision.action is Action.gather
    thanks = turn(1, "ok thanks", **nlu("dispute_charge", 0.9))
    later = process_turn(state, thanks, POLICY, now=thanks.ts)
    assert later is not None and later.decision is not None
    assert later.decision.action is Action.gather  # still waiting, not dropped
    assert state.pending is not None
    deadline = datetime.fromisoformat(state.pending.deadline)
    sent = expire_gather(state, POLICY, now=deadline)
    assert sent is not None and sent.handoff is not None
    assert sent.handoff.routing.queue == "payments"


def run_turns(turns: list[Turn]) -> list[StepResult]:
    state = new_state("c-1")
    results = [process_turn(state, t, POLICY, now=t.ts) for t in turns]
    return [r for r in results if r is not None]


def test_a_sale_the_bot_could_not_finish_goes_to_sales() -> None:
    results = run_turns(
        [
            turn(0, "I'd like to buy two tickets for Saturday's show."),
            turn(
                1,
                "Sorry, I couldn't take the payment.",
                role="bot",
                bot={"action": "sell_tickets", "status": "failed"},
            ),
        ]
    )
    assert [r.decision.action for r in results if r.decision] == [Action.none, Action.escalate]
    handoff = results[-1].handoff
    assert handoff is not None and handoff.routing.queue == "sales"
    codes = {hit.code for hit in results[-1].decision.triggers} if results[-1].decision else set()
    assert codes == {"system_boundary", "revenue_opportunity"}


def test_a_sale_the_customer_keeps_asking_for_reaches_sales() -> None:
    results = run_turns(
        [
            turn(0, "I want to buy two tickets for the Saturday show."),
            turn(1, "Which seats would you like?", role="bot"),
            turn(2, "I want to buy two tickets for the Saturday show!"),
        ]
    )
    last = results[-1]
    assert last.signals is not None and last.signals.repeat
    assert last.handoff is not None and last.handoff.routing.queue == "sales"
