"""Suggested first replies: outcomes folded into a ranking (streams/learning/replies.py), the
ranking's snapshot, and `suggest` with the policy's starting set (streams/core/replies.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from warmhandoff.streams.contract.models import HandoffEvent, HandoffEventType, Turn
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.core.replies import (
    ANY_TRIGGER,
    MAX_RANKING_BYTES,
    MIN_USES,
    TEXT_CHARS,
    RankingError,
    ReplyRanking,
    reply_key,
    suggest,
)
from warmhandoff.streams.learning.model import LearnedModel
from warmhandoff.streams.learning.replies import MAX_TRACKED, ReplyFold
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.policy.model import Policy

pytestmark = pytest.mark.timeout(60)

T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=30)  # every return window has closed
CARD = "4111 1111 1111 1111"
PAIR = ("human_request", "service")


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def handoff(
    fold: ReplyFold,
    n: int,
    *,
    macro: str | None = None,
    text: str | None = None,
    end: str = "resolved",
    csat: int | None = None,
    codes: tuple[str, ...] = ("human_request",),
    customer: str | None = None,
) -> datetime:
    """One handoff with its first reply and end; when it ended."""
    hid, cid, at = f"h-{n}", f"c-{n}", T0 + timedelta(hours=n)
    fold.escalation(hid, cid, list(codes), at, customer)
    fold.reply(hid, cid, at + timedelta(minutes=1), text=text, macro_id=macro)
    ended = at + timedelta(minutes=10)
    fold.ended(hid, cid, ended, end)
    if csat is not None:
        fold.answered(hid, csat)
    return ended


def test_a_reply_that_resolves_for_good_outranks_one_after_which_customers_return(
    policy: Policy,
) -> None:
    fold = ReplyFold()
    for n in range(6):
        handoff(fold, n, macro="human_here", csat=5, customer=f"u-{n}")
    for n in range(6, 12):
        ended = handoff(fold, n, text="Please hold on.", customer=f"u-{n}", csat=None)
        if n % 2:  # the customer writes again two hours later, in a new conversation
            fold.contact(f"c-new-{n}", f"u-{n}", ended + timedelta(hours=2))
        else:
            fold.answered(f"h-{n}", 1)
    assert fold.settle(LATER) == 12 and not fold.open

    ranked = fold.ranking("v1").replies[PAIR]
    assert [r.key for r in ranked] == ["macro:human_here", reply_key(None, "Please hold on.")]
    best, worst = ranked
    assert (best.uses, best.good, best.clean, best.csat_sum, best.csat_n) == (6, 6, 6, 30, 6)
    assert best.score == pytest.approx(7 / 8)
    # Three came back; three were resolved without a return but rated 1: clean, not good.
    assert (worst.uses, worst.good, worst.clean, worst.csat_n) == (6, 0, 3, 3)
    assert worst.score == pytest.approx(1 / 8)
    # The topic as a whole holds the same, counted once per handoff.
    assert [r.uses for r in fold.ranking("v1").replies[(ANY_TRIGGER, "service")]] == [6, 6]

    got = suggest(fold.ranking("v1"), policy, ["human_request"], "service")
    # The learned macro first, with the policy's wording; the reply that failed is not offered.
    assert [(r.macro_id, r.source, r.uses) for r in got] == [
        ("human_here", "learned", 6),
        ("general_pickup", "policy", 0),
    ]
    assert got[0].text == next(t.text for t in policy.replies if t.macro_id == "human_here")
    assert got[0].score == pytest.approx(0.875)


def test_a_return_is_counted_within_the_window_only_and_settling_waits_for_it() -> None:
    fold = ReplyFold()
    ended = handoff(fold, 0, macro="m", customer="u-1")
    # The same conversation's own turns (the customer's thanks) are no return.
    fold.contact("c-0", "u-1", ended + timedelta(minutes=1))
    assert fold.settle(ended + timedelta(hours=1)) == 0  # the window is still open
    fold.contact("c-9", "u-1", ended + timedelta(hours=25))  # after the window: no return
    assert fold.settle(ended + timedelta(hours=25)) == 1
    [tally] = fold.tallies[PAIR].values()
    assert (tally.uses, tally.good) == (1, 1)

    again = ReplyFold()
    ended = handoff(again, 0, macro="m")
    # The same conversation escalates again: another handoff, within the window.
    again.contact("c-0", None, ended + timedelta(hours=3), "h-other", escalating=True)
    again.settle(LATER)
    [tally] = again.tallies[PAIR].values()
    assert (tally.uses, tally.good, tally.clean) == (1, 0, 0)


def test_typed_replies_are_redacted_and_keyed_by_their_normalised_text() -> None:
    fold = ReplyFold()
    handoff(fold, 0, text=f"I have noted your card {CARD}.")
    handoff(fold, 1, text="i have  noted your card 4111111111111111")
    handoff(fold, 2, text="x" * 5000)
    fold.settle(LATER)
    ranking = fold.ranking("v1")
    data = ranking.to_json()
    assert b"4111" not in data
    texts = {r.text for r in ranking.replies[PAIR]}
    assert "I have noted your card [CARD]." in texts or "i have noted your card [CARD]" in texts
    assert [r.uses for r in ranking.replies[PAIR]] == [2, 1]  # the two card replies are one
    assert max(len(r.text) for r in ranking.replies[PAIR]) == TEXT_CHARS


def test_a_macro_counts_once_whatever_its_text_and_is_suggested_once(policy: Policy) -> None:
    fold = ReplyFold()
    for n in range(MIN_USES):
        handoff(fold, n, macro="payment_review", text=f"wording {n}", codes=("risk.payments",))
    # An agent types the policy's own text for the fraud desk: the same reply as the macro.
    fraud_text = next(t.text for t in policy.replies if t.macro_id == "fraud_secure_first")
    for n in range(10, 10 + MIN_USES):
        handoff(fold, n, text=fraud_text.upper(), codes=("risk.fraud",))
    fold.settle(LATER)
    ranking = fold.ranking("v1")
    [payment] = ranking.replies[("risk.payments", "payments")]
    assert payment.key == "macro:payment_review" and payment.uses == MIN_USES

    got = suggest(ranking, policy, ["risk.payments", "frustration"], "payments")
    assert [r.macro_id for r in got] == ["payment_review", "apology_ownership", "general_pickup"]
    assert got[0].source == "learned"

    got = suggest(ranking, policy, ["risk.fraud"], "fraud")
    assert [r.source for r in got] == ["learned", "policy"]  # the policy's copy is left out
    assert got[0].macro_id is None and got[1].macro_id == "general_pickup"


def test_suggestions_fall_back_to_the_policy_set(policy: Policy) -> None:
    got = suggest(None, policy, ["risk.fraud", "frustration"], "fraud")
    assert [(r.macro_id, r.source) for r in got] == [
        ("fraud_secure_first", "policy"),
        ("apology_ownership", "policy"),
        ("general_pickup", "policy"),
    ]
    assert all(r.score is None and r.uses == 0 for r in got)
    assert len(suggest(None, policy, ["risk.fraud", "frustration"], "fraud", n=1)) == 1

    fold = ReplyFold()
    for n in range(MIN_USES - 1):  # one use short of being offered
        handoff(fold, n, text="Hi, how can I help?", csat=5)
    fold.settle(LATER)
    got = suggest(fold.ranking("v1"), policy, ["human_request"], "service")
    assert [r.source for r in got] == ["policy", "policy"]


def test_cancelled_and_failed_handoffs_teach_nothing_and_early_events_wait() -> None:
    fold = ReplyFold()
    for n, end in enumerate((HandoffEventType.cancelled, HandoffEventType.failed)):
        fold.reply(f"h-{n}", f"c-{n}", T0, text="hello", macro_id=None)
        fold.on_event(
            HandoffEvent(
                event_id=f"e-{n}", handoff_id=f"h-{n}", conversation_id=f"c-{n}",
                type=end, ts=T0, source="desk",
            )
        )  # fmt: skip
    assert not fold.open
    # Events read before their decision (two topics, no order between them) still count.
    fold.reply("h-9", "c-9", T0, text=None, macro_id="m")
    fold.ended("h-9", "c-9", T0 + timedelta(minutes=5), "resolved")
    assert fold.settle(T0 + timedelta(days=2)) == 0 and "h-9" in fold.open
    fold.escalation("h-9", "c-9", ["human_request", "not_a_code"], T0, None)
    assert fold.settle(T0 + timedelta(days=2)) == 1
    assert set(fold.tallies) == {PAIR, (ANY_TRIGGER, "service")}
    # A handoff that never ends is forgotten after a week.
    fold.escalation("h-10", "c-10", ["human_request"], T0, None)
    fold.settle(T0 + timedelta(days=8))
    assert not fold.open


def test_the_snapshot_is_plain_json_round_trips_and_stays_bounded() -> None:
    fold = ReplyFold()
    for n in range(MAX_TRACKED + 50):
        handoff(fold, n, text=f"reply number {n} " + "y" * 600)
    fold.settle(LATER)
    assert len(fold.tallies[PAIR]) == MAX_TRACKED
    ranking = fold.ranking("v1")
    data = ranking.to_json()
    assert len(data) <= MAX_RANKING_BYTES
    assert ReplyRanking.from_json(data) == ranking

    def leaves(value: Any) -> list[Any]:
        if isinstance(value, dict):
            return [leaf for v in value.values() for leaf in leaves(v)]
        if isinstance(value, list):
            return [leaf for v in value for leaf in leaves(v)]
        return [value]

    doc = orjson.loads(data)
    assert all(isinstance(v, str | int | float) and v is not True for v in leaves(doc))

    restored = ReplyFold()
    restored.restore(ranking)
    assert restored.ranking("v1") == ranking

    for bad in (b"not json", b"{}", b'{"format": "warmhandoff.replies/1", "pairs": 3}'):
        with pytest.raises(RankingError):
            ReplyRanking.from_json(bad)
    with pytest.raises(RankingError):
        ReplyRanking.from_json(LearnedModel().snapshot(version="v"))


def turn(seq: int, text: str) -> Turn:
    return Turn.model_validate(
        {
            "conversation_id": "c-1",
            "seq": seq,
            "ts": (T0 + timedelta(seconds=10 * seq)).isoformat(),
            "role": "customer",
            "text": text,
            "channel": "chat",
            "locale": "en-US",
            "customer": {"id": "u-1"},
        }
    )


def test_the_bundle_of_a_produced_handoff_carries_suggestions(policy: Policy) -> None:
    turns = [turn(0, "hi, where is my parcel?"), turn(1, "I want to talk to a real person")]
    state = new_state("c-1")
    results = [process_turn(state, t, policy, now=t.ts) for t in turns]
    assert results[0] is not None and results[0].handoff is None
    escalated = results[1]
    assert escalated is not None and escalated.handoff is not None
    assert escalated.decision is not None
    bundle = escalated.handoff.bundle
    assert [(r.macro_id, r.source) for r in bundle.suggested_replies] == [
        ("human_here", "policy"),
        ("general_pickup", "policy"),
    ]

    # The learner's fold, fed the real decision and the desk's events, learns an agent's own
    # greeting; the next handoff of this kind is offered it first.
    fold = ReplyFold()
    for n in range(MIN_USES):
        hid = f"h-{n}"
        fold.on_decision(escalated.decision.model_copy(update={"handoff_id": hid}))
        for kind, extra in (
            (HandoffEventType.replied, {"reply": "Hello, I'm Sam and I'll sort this out now."}),
            (HandoffEventType.resolved, {"reason": "answered"}),
            (HandoffEventType.csat, {"csat": 5}),
        ):
            fold.on_event(
                HandoffEvent(
                    event_id=f"{hid}-{kind.value}",
                    handoff_id=hid,
                    conversation_id="c-1",
                    type=kind,
                    ts=T0 + timedelta(minutes=5),
                    source="desk",
                    **extra,
                )
            )
    fold.settle(LATER)
    ranking = fold.ranking("v2")
    state = new_state("c-1")
    results = [process_turn(state, t, policy, now=t.ts, replies=ranking) for t in turns]
    handed = results[1]
    assert handed is not None and handed.handoff is not None
    first, *rest = handed.handoff.bundle.suggested_replies
    assert first.source == "learned" and first.uses == MIN_USES
    assert first.text == "Hello, I'm Sam and I'll sort this out now."
    assert [r.macro_id for r in rest] == ["human_here", "general_pickup"]
