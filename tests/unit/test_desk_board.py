"""The desk's board and views: handoffs folded from the topics, who sees what, what each action
publishes and who may take it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from warmhandoff.streams.contract.models import (
    AgentPresence,
    Directive,
    HandoffEvent,
    HandoffEventType,
    HandoffRequest,
    Turn,
)
from warmhandoff.streams.core.pipeline import expire_gather, new_state, process_turn
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.routing.desk import queues_from_policy
from warmhandoff.streams.services.desk.actions import ActionRefused, act
from warmhandoff.streams.services.desk.auth import Person
from warmhandoff.streams.services.desk.board import Board
from warmhandoff.streams.services.desk.views import agent_view, detail, supervisor_view

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)  # when the gather timed out and the handoff was requested
POLICY = load_policy()
QUEUES = queues_from_policy(POLICY)
_ids = count()
AGENT = Person("ana", "agent", 2_000_000_000)
OTHER = Person("ben", "agent", 2_000_000_000)
BOSS = Person("sue", "supervisor", 2_000_000_000)


def handoff(cid: str, text: str, customer: str | None = "cust-1") -> HandoffRequest:
    """The handoff request the pipeline produces for one escalating turn."""
    turn = Turn.model_validate(
        {"conversation_id": cid, "seq": 0, "ts": T0.isoformat(), "role": "customer",
         "text": text, "locale": "en-US", "channel": "chat",
         **({"customer": {"id": customer}} if customer else {})}
    )  # fmt: skip
    state = new_state(cid)
    result = process_turn(state, turn, POLICY, now=T0)
    assert result is not None
    if result.handoff is None:  # the queue gathers fields first: let the gather time out
        result = expire_gather(state, POLICY, now=NOW)
    assert result is not None and result.handoff is not None
    return result.handoff


def event(request: HandoffRequest, kind: str, **extra: Any) -> HandoffEvent:
    return HandoffEvent.model_validate(
        {"event_id": f"e-{next(_ids)}", "handoff_id": request.handoff_id,
         "conversation_id": request.conversation_id, "type": kind,
         "ts": (T0 + timedelta(seconds=5)).isoformat(), "source": "router", **extra}
    )  # fmt: skip


def presence(agent_id: str, skills: dict[str, int], state: str = "available") -> AgentPresence:
    return AgentPresence.model_validate(
        {"agent_id": agent_id, "ts": T0.isoformat(), "state": state, "skills": skills,
         "languages": ["en"], "capacity": 2}
    )  # fmt: skip


@pytest.fixture
def board() -> Board:
    b = Board()
    b.agent(presence("ana", {"payments": 5, "billing": 5, "customer_care": 5}))
    b.agent(presence("ben", {"sales": 5}))
    return b


PAYMENT = "my card payment failed twice and I want a human now"


def test_a_request_waits_in_its_queue_for_the_agents_routing_lets_take_it(board: Board) -> None:
    request = handoff("c1", PAYMENT)
    board.request(request)
    assert request.routing.queue == "payments"
    ana = agent_view(board, "ana", QUEUES, NOW)
    ben = agent_view(board, "ben", QUEUES, NOW)
    assert [r["handoff_id"] for r in ana["waiting"]] == [request.handoff_id]
    assert ben["waiting"] == [] and "payments" in ana["queues"]
    sup = supervisor_view(board, QUEUES)
    payments = next(q for q in sup["queues"] if q["queue"] == "payments")
    assert payments["waiting"] == 1 and payments["agents"]["available"] == 1


def test_events_move_the_status_as_the_lifecycle_does_even_when_they_come_first(
    board: Board,
) -> None:
    request = handoff("c1", PAYMENT)
    board.event(event(request, "offered", agent_id="ana", queue="payments"))  # before the request
    board.request(request)
    item = board.items[request.handoff_id]
    assert item.status.value == "offered" and item.agent_id == "ana"
    board.event(event(request, "delivered"))  # a late sink ack: stale, ignored
    assert item.status.value == "offered"
    board.event(event(request, "accepted", agent_id="ana"))
    assert agent_view(board, "ana", QUEUES, NOW)["mine"][0]["handoff_id"] == request.handoff_id
    board.event(event(request, "transferred", queue="general", agent_id="ana"))
    assert (item.status.value, item.queue, item.agent_id) == ("queued", "general", None)
    board.event(event(request, "accepted", agent_id="ana"))
    board.event(event(request, "resolved", reason="solved"))
    assert item.closed and item.outcome == "solved"
    assert agent_view(board, "ana", QUEUES, NOW)["recent"][0]["handoff_id"] == request.handoff_id


def test_the_detail_shows_what_the_customer_was_told_and_the_case_history(board: Board) -> None:
    first = handoff("c1", PAYMENT)
    second = handoff("c2", PAYMENT)
    other_topic = handoff("c3", "I want to cancel my subscription, put me through to a human")
    for r in (first, second, other_topic):
        board.request(r)
    assert first.case is not None and second.case is not None and other_topic.case is not None
    assert first.case.key == second.case.key != other_topic.case.key
    board.directive(
        Directive.model_validate(
            {
                "directive_id": "d1",
                "conversation_id": "c2",
                "type": "status",
                "ts": T0.isoformat(),
                "seq": 0,
                "handoff_id": second.handoff_id,
                "message": "You're number 2 in line.",
                "position": 2,
                "wait": {"low_seconds": 60, "high_seconds": 180, "method": "erlang_c"},
            }
        )
    )
    shown = detail(board, board.items[second.handoff_id])
    assert shown["promised_wait"]["position"] == 2
    assert shown["promised_wait"]["wait"]["high_seconds"] == 180
    assert [h["handoff_id"] for h in shown["case_history"]] == [first.handoff_id]
    assert detail(board, board.items[other_topic.handoff_id])["case_history"] == []
    assert shown["transcript"] and shown["summary"]["wants"]


def test_accept_is_for_agents_routing_lets_take_it_and_publishes_an_accepted_event(
    board: Board,
) -> None:
    request = handoff("c1", PAYMENT)
    board.request(request)
    hid = request.handoff_id
    with pytest.raises(ActionRefused, match="routing does not let you") as refused:
        act(board, OTHER, hid, "accept", {}, QUEUES, NOW)
    assert refused.value.status == 403
    accepted = act(board, AGENT, hid, "accept", {}, QUEUES, NOW)
    assert accepted.type is HandoffEventType.accepted and accepted.agent_id == "ana"
    assert accepted.queue == "payments" and accepted.source == "desk"
    assert act(board, AGENT, hid, "accept", {}, QUEUES, NOW).event_id == accepted.event_id
    board.event(accepted)
    with pytest.raises(ActionRefused, match="not waiting"):
        act(board, BOSS, hid, "accept", {}, QUEUES, NOW)


def test_only_the_holder_or_a_supervisor_resolves_hands_back_or_transfers(board: Board) -> None:
    request = handoff("c1", PAYMENT)
    board.request(request)
    hid = request.handoff_id
    with pytest.raises(ActionRefused, match="the handoff is requested"):
        act(board, AGENT, hid, "resolve", {"outcome": "solved"}, QUEUES, NOW)
    board.event(act(board, AGENT, hid, "accept", {}, QUEUES, NOW))
    with pytest.raises(ActionRefused, match="ana holds this handoff"):
        act(board, OTHER, hid, "hand_back", {}, QUEUES, NOW)
    with pytest.raises(ActionRefused, match="outcome must be one of"):
        act(board, AGENT, hid, "resolve", {"outcome": "great"}, QUEUES, NOW)
    with pytest.raises(ActionRefused, match="no queue named"):
        act(board, AGENT, hid, "transfer", {"queue": "nowhere"}, QUEUES, NOW)
    with pytest.raises(ActionRefused, match="already in payments"):
        act(board, AGENT, hid, "transfer", {"queue": "payments"}, QUEUES, NOW)
    moved = act(board, BOSS, hid, "transfer", {"queue": "general"}, QUEUES, NOW)
    assert moved.type is HandoffEventType.transferred and moved.queue == "general"
    resolved = act(board, AGENT, hid, "resolve", {"outcome": "solved"}, QUEUES, NOW)
    assert resolved.type is HandoffEventType.resolved and resolved.reason == "solved"
    back = act(board, AGENT, hid, "hand_back", {}, QUEUES, NOW)
    assert back.type is HandoffEventType.handed_back


def test_the_first_reply_is_redacted_and_recorded_once(board: Board) -> None:
    request = handoff("c1", PAYMENT)
    board.request(request)
    hid = request.handoff_id
    board.event(act(board, AGENT, hid, "accept", {}, QUEUES, NOW))
    with pytest.raises(ActionRefused, match="type a reply"):
        act(board, AGENT, hid, "reply", {"reply": "  "}, QUEUES, NOW)
    reply = act(
        board, AGENT, hid, "reply", {"reply": "I see card 4111 1111 1111 1111 failed"}, QUEUES, T0
    )
    assert reply.type is HandoffEventType.replied
    assert reply.reply is not None and "4111" not in reply.reply
    board.event(reply)
    assert board.items[hid].reply == reply.reply
    with pytest.raises(ActionRefused, match="already recorded"):
        act(board, AGENT, hid, "reply", {"reply": "again"}, QUEUES, NOW)


def test_an_agent_without_an_optional_skill_sees_the_handoff_once_routing_drops_it(
    board: Board,
) -> None:
    board.agent(presence("cy", {"payments": 5}))  # no billing: optional until 30 s have passed
    request = handoff("c1", PAYMENT)
    board.request(request)
    assert agent_view(board, "cy", QUEUES, NOW)["waiting"] == []
    later = agent_view(board, "cy", QUEUES, NOW + timedelta(seconds=31))
    assert [r["handoff_id"] for r in later["waiting"]] == [request.handoff_id]


def test_an_agent_without_presence_sees_no_queue_and_may_not_accept() -> None:
    board = Board()
    request = handoff("c1", PAYMENT)
    board.request(request)
    view = agent_view(board, "ana", QUEUES, NOW)
    assert view["presence"] is None and view["waiting"] == [] and view["queues"] == []
    with pytest.raises(ActionRefused, match="no presence published"):
        act(board, AGENT, request.handoff_id, "accept", {}, QUEUES, NOW)
