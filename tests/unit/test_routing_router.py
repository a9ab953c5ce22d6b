"""The router: eligibility as a table, relaxation, aging, overflow, right channel, hours."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warmhandoff.streams.contract.models import Channel, PresenceState
from warmhandoff.streams.routing.desk import Agent, Waiting, queues_from_policy, serves
from warmhandoff.streams.routing.router import (
    ChangeKind,
    aged_priority,
    ranked,
    route,
    ticket_message,
)

from .routing_helpers import T0, presence, request, small_policy

POLICY = small_policy()
QUEUES = queues_from_policy(POLICY)


def agent(agent_id: str = "a1", **fields: Any) -> Agent:
    return Agent.from_presence(presence(agent_id, **fields))


def waiting(handoff_id: str = "h1", *, at: Any = T0, **fields: Any) -> Waiting:
    return Waiting.from_request(request(handoff_id, **fields), QUEUES, at)


def never(_: Waiting) -> float:
    return 0.0


# --- who may take a handoff, as data ---------------------------------------------------------

ELIGIBILITY = [
    # (case, agent fields, handoff fields, eligible)
    ("skill and language", {}, {}, True),
    ("missing mandatory skill", {"skills": {"sales": 9}}, {}, False),
    ("wrong language", {"languages": ["fr"]}, {}, False),
    ("locale matches language", {"languages": ["en-GB"]}, {}, True),
    ("speaks it among others", {"languages": ["fr", "es"]}, {"language": "es"}, True),
    ("gold customer, agent serves no tier", {}, {"entitlement": "gold"}, False),
    ("gold customer, agent serves gold", {"tiers": ["Gold"]}, {"entitlement": "gold"}, True),
    ("tiered agent takes untiered customer", {"tiers": ["gold"]}, {}, True),
    ("agent works voice only", {"channels": [Channel.voice]}, {}, False),
    ("agent lists chat", {"channels": [Channel.chat, Channel.voice]}, {}, True),
    (
        "optional skill still required",
        {"skills": {"billing": 5}},
        {"queue": "billing", "skills": ("billing",)},
        False,
    ),
    (
        "has the optional skill",
        {"skills": {"billing": 5, "refunds": 2}},
        {"queue": "billing", "skills": ("billing",)},
        True,
    ),
    (
        "rule skills replace the queue's",
        {"skills": {"care": 5}},
        {"queue": "billing", "skills": ("care",)},
        False,  # refunds is still optional-required
    ),
]


@pytest.mark.parametrize(
    ("agent_fields", "handoff_fields", "expected"),
    [case[1:] for case in ELIGIBILITY],
    ids=[case[0] for case in ELIGIBILITY],
)
def test_eligibility_table(
    agent_fields: dict[str, Any], handoff_fields: dict[str, Any], expected: bool
) -> None:
    assert serves(agent(**agent_fields), waiting(**handoff_fields), QUEUES) is expected


def test_agents_not_available_get_nothing() -> None:
    handoff = waiting()
    for state in (PresenceState.busy, PresenceState.away, PresenceState.offline):
        result = route(
            [handoff], {"a1": agent(state=state)}, QUEUES, T0, points_per_minute=1, predict=never
        )
        assert result.assignments == []
    full = agent(capacity=2, active=2)
    assert (
        route([handoff], {"a1": full}, QUEUES, T0, points_per_minute=1, predict=never).assignments
        == []
    )


# --- relaxation ------------------------------------------------------------------------------


def billing_waiting() -> Waiting:
    return waiting(queue="billing", skills=("billing",), sla_seconds=30)


# A billing agent with every skill is on shift but busy: no step is skipped to.
BUSY_BILLING = {"b1": agent("b1", skills={"billing": 4, "refunds": 2}, state=PresenceState.busy)}


@pytest.mark.parametrize(
    ("waited", "optional_required", "accepted", "kinds"),
    [
        (59, True, ("billing",), []),
        (60, False, ("billing",), [ChangeKind.relaxed]),
        (119, False, ("billing",), [ChangeKind.relaxed]),
        (120, False, ("billing", "general"), [ChangeKind.relaxed, ChangeKind.widened]),
    ],
)
def test_relax_steps_wait_for_their_timeout(
    waited: int, optional_required: bool, accepted: tuple[str, ...], kinds: list[ChangeKind]
) -> None:
    handoff = billing_waiting()
    now = T0 + timedelta(seconds=waited)
    result = route([handoff], BUSY_BILLING, QUEUES, now, points_per_minute=1, predict=never)
    assert handoff.optional_required is optional_required
    assert handoff.accepted == accepted
    assert [c.kind for c in result.changes] == kinds
    for change in result.changes:
        assert change.handoff_id == "h1" and change.at == now and change.reason


def test_a_step_is_skipped_to_when_nobody_on_shift_can_serve() -> None:
    handoff = billing_waiting()
    # Nobody has refunds: the drop step is taken at once, and then a billing agent serves.
    agents = {"b1": agent("b1", skills={"billing": 4})}
    result = route([handoff], agents, QUEUES, T0, points_per_minute=1, predict=never)
    assert [c.kind for c in result.changes] == [ChangeKind.relaxed, ChangeKind.assigned]
    assert "no agent on shift" in result.changes[0].reason
    assert result.assignments[0].agent_id == "b1"


def test_widening_never_crosses_language_or_entitlement() -> None:
    handoff = waiting(queue="vip", skills=("care", "vip"), entitlement="gold", language="fr")
    result = route(
        [handoff], {}, QUEUES, T0 + timedelta(seconds=50), points_per_minute=1, predict=never
    )
    assert handoff.accepted == ("vip",)
    assert [c.kind for c in result.changes] == [ChangeKind.skipped]
    assert "does not serve language fr" in result.changes[0].reason


def test_widened_handoff_needs_an_agent_of_the_right_tier() -> None:
    handoff = waiting(queue="vip", skills=("care", "vip"), entitlement="gold")
    agents = {"g1": agent("g1"), "g2": agent("g2", tiers=["gold"])}
    result = route(
        [handoff], agents, QUEUES, T0 + timedelta(seconds=45), points_per_minute=1, predict=never
    )
    assert handoff.accepted == ("vip", "general")
    assert [(a.agent_id, a.queue) for a in result.assignments] == [("g2", "general")]


# --- priority aging ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("points_per_minute", "first"),
    [(1.0, "old"), (0.0, "urgent"), (0.5, "urgent")],
)
def test_priority_ages_with_the_wait(points_per_minute: float, first: str) -> None:
    now = T0 + timedelta(minutes=3)
    old = waiting("old", priority=3)  # waited 3 minutes: 3 - 3 = 0 at one point a minute
    urgent = waiting("urgent", priority=1, created=now, at=now)
    order = ranked([urgent, old], now, points_per_minute)
    assert order[0].handoff_id == first
    result = route(
        [urgent, old],
        {"a1": agent()},
        QUEUES,
        now,
        points_per_minute=points_per_minute,
        predict=never,
    )
    assert [a.handoff_id for a in result.assignments] == [first]


def test_aged_priority_counts_from_the_first_unmet_need() -> None:
    handoff = waiting(first_unmet=T0 - timedelta(minutes=2))
    assert aged_priority(handoff, T0, 1.0) == pytest.approx(1.0)


# --- overflow and right channel ----------------------------------------------------------------


def test_overflow_when_the_predicted_wait_breaks_the_sla() -> None:
    handoff = billing_waiting()

    def predict(w: Waiting) -> float:
        return 30.0 if "general" in w.accepted else 400.0

    result = route([handoff], BUSY_BILLING, QUEUES, T0, points_per_minute=1, predict=predict)
    overflow = [c for c in result.changes if c.kind is ChangeKind.overflow]
    assert len(overflow) == 1
    assert (overflow[0].source, overflow[0].target) == ("billing", "general")
    assert "breaks the SLA" in overflow[0].reason
    assert handoff.queue == "general" and "general" in handoff.accepted


@pytest.mark.parametrize("origin_wait,overflow_wait", [(10.0, 1.0), (400.0, 500.0)])
def test_no_overflow_when_in_sla_or_no_better(origin_wait: float, overflow_wait: float) -> None:
    handoff = billing_waiting()

    def predict(w: Waiting) -> float:
        return overflow_wait if "general" in w.accepted else origin_wait

    result = route([handoff], BUSY_BILLING, QUEUES, T0, points_per_minute=1, predict=predict)
    assert not [c for c in result.changes if c.kind is ChangeKind.overflow]
    assert handoff.accepted == ("billing",)


def test_right_channel_offer_once_when_the_wait_is_long() -> None:
    handoff = waiting()
    result = route([handoff], {}, QUEUES, T0, points_per_minute=1, predict=lambda w: 301.0)
    assert result.offers == [("h1", "callback")]
    again = route([handoff], {}, QUEUES, T0, points_per_minute=1, predict=lambda w: 900.0)
    assert again.offers == []
    short = waiting("h2")
    assert route([short], {}, QUEUES, T0, points_per_minute=1, predict=lambda w: 299.0).offers == []


# --- business hours --------------------------------------------------------------------------


def test_outside_hours_the_handoff_becomes_a_ticket_with_a_response_time() -> None:
    saturday = T0 + timedelta(days=3)  # Saturday 10:00 UTC: sales is closed
    handoff = waiting(queue="sales", skills=("sales",), at=saturday, created=saturday)
    result = route(
        [handoff],
        {"s1": agent("s1", skills={"sales": 5})},
        QUEUES,
        saturday,
        points_per_minute=1,
        predict=never,
    )
    assert result.assignments == []
    (ticket,) = result.tickets
    # Opens Monday 09:00 London (UTC in November), plus the queue's response time (1 h).
    assert ticket.respond_by == T0.replace(hour=10) + timedelta(days=5)
    assert result.changes[0].kind is ChangeKind.ticket
    assert "outside the hours" in result.changes[0].reason
    assert "reply by Monday 10:00 UTC" in ticket_message(ticket, saturday)
    assert "reply within 2 hours" in ticket_message(ticket, ticket.respond_by - timedelta(hours=2))


# --- assignment --------------------------------------------------------------------------------


def test_best_agent_has_the_optional_skills_then_the_higher_level() -> None:
    handoff = waiting(queue="billing", skills=("billing",))
    handoff.optional_required = False
    agents = {
        "plain": agent("plain", skills={"billing": 9}),
        "refunds": agent("refunds", skills={"billing": 2, "refunds": 1}),
    }
    result = route([handoff], agents, QUEUES, T0, points_per_minute=1, predict=never)
    assert result.assignments[0].agent_id == "refunds"


def test_capacity_is_respected_within_one_pass() -> None:
    handoffs = [waiting(f"h{i}") for i in range(4)]
    agents = {"a1": agent("a1", capacity=2, active=1), "a2": agent("a2", capacity=2)}
    result = route(handoffs, agents, QUEUES, T0, points_per_minute=1, predict=never)
    taken = [a.agent_id for a in result.assignments]
    assert sorted(taken) == ["a1", "a2", "a2"]


# --- never a wrong agent (property) --------------------------------------------------------

SKILLS = ["care", "billing", "refunds", "vip", "sales"]
LANGS = ["en", "es", "fr"]
TIERS = ["gold", "silver"]

agents_strategy = st.lists(
    st.builds(
        lambda i, skills, langs, tiers, channels, cap, state: Agent.from_presence(
            presence(
                f"a{i}",
                skills={s: 3 for s in skills},
                languages=langs,
                tiers=tiers,
                channels=channels,
                capacity=cap,
                state=state,
            )
        ),
        st.integers(0, 10_000),
        st.sets(st.sampled_from(SKILLS)),
        st.lists(st.sampled_from(LANGS), max_size=2),
        st.lists(st.sampled_from(TIERS), max_size=2),
        st.lists(st.sampled_from([Channel.chat, Channel.voice]), max_size=2),
        st.integers(1, 3),
        st.sampled_from(list(PresenceState)),
    ),
    max_size=8,
)
handoffs_strategy = st.lists(
    st.tuples(
        st.sampled_from(["general", "billing", "vip", "sales"]),
        st.sampled_from(LANGS),
        st.one_of(st.none(), st.sampled_from(TIERS)),
        st.integers(1, 5),
        st.integers(0, 400),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(agents_strategy, handoffs_strategy, st.integers(0, 600))
def test_never_routes_to_an_agent_lacking_a_requirement(
    agents: list[Agent], specs: list[tuple[str, str, str | None, int, int]], later: int
) -> None:
    by_id = {a.agent_id: a for a in agents}
    handoffs = []
    for i, (queue, language, tier, priority, age) in enumerate(specs):
        skills = tuple(sorted(QUEUES[queue].skills))
        handoffs.append(
            waiting(
                f"h{i}",
                queue=queue,
                skills=skills,
                language=language,
                entitlement=tier,
                priority=priority,
                at=T0 - timedelta(seconds=age),
            )
        )
    now = T0 + timedelta(seconds=later)
    result = route(handoffs, by_id, QUEUES, now, points_per_minute=1, predict=lambda w: 1e9)
    given_to: dict[str, int] = {}
    for assignment in result.assignments:
        handoff = next(h for h in handoffs if h.handoff_id == assignment.handoff_id)
        chosen = by_id[assignment.agent_id]
        assert chosen.state is PresenceState.available
        assert handoff.language in chosen.languages
        if handoff.entitlement is not None:
            assert handoff.entitlement in chosen.tiers
        assert not chosen.channels or "chat" in chosen.channels
        # the mandatory skills of the queue it was served as, and that queue admits it
        assert assignment.queue in handoff.accepted
        assert QUEUES[assignment.queue].skills <= chosen.skills.keys() or (
            assignment.queue == handoff.origin and handoff.skills <= chosen.skills.keys()
        )
        assert (
            QUEUES[assignment.queue].admits(handoff) is None or assignment.queue == handoff.origin
        )
        given_to[chosen.agent_id] = given_to.get(chosen.agent_id, 0) + 1
    for agent_id, count in given_to.items():
        assert count <= by_id[agent_id].free
    assert len({a.handoff_id for a in result.assignments}) == len(result.assignments)
