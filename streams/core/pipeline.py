"""The pipeline as one pure function per event: detect → decide → prepare → transfer.

`process_turn` is what the Faust worker and `warmhandoff replay` both call, so a policy tested
on recorded traffic behaves exactly as it will live. `expire_gather` handles a transfer that
waited for required fields past its deadline. Nothing here touches Faust, Kafka or a clock:
`now` is a parameter, and every id is derived from the input.

Decision flow for one turn:
1. a turn at or below the last applied `seq` is a replay: no outputs (idempotency);
2. detect: redact, update the state, compute signals;
3. a conversation with an open handoff is owned by a human: never escalated again; before a
   human accepts it the customer may withdraw it ("never mind, I don't need an agent"):
   cancelled, the bot resumes, and a `cancelled` event tells the sinks (streams/core/lifecycle.py);
4. a pending transfer completes when its required fields arrive (or the customer asks for a
   human, or its deadline passed);
5. otherwise the policy decides: none, clarify (low confidence, first time), or escalate;
   an escalation with required fields missing sends `gather` and waits, bounded in time;
6. transfer: handoff request with bundle and routing, disclosure first for compliance
   queues, then a status directive that tells the customer the wait. The bundle suggests
   first replies for the human (streams/core/replies.py): computed only here, when a handoff
   is produced, from the ranking the caller holds and the policy's starting set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from warmhandoff.streams.contract.models import (
    Action,
    Decision,
    Directive,
    DirectiveType,
    HandoffEvent,
    HandoffRequest,
    Role,
    Signals,
    TriggerHit,
    Turn,
)
from warmhandoff.streams.core.case import topic_of
from warmhandoff.streams.core.conversation import ConversationState, PendingTransfer
from warmhandoff.streams.core.detection import detect
from warmhandoff.streams.core.lifecycle import (
    CANCELLED_MESSAGE,
    DEFAULT_TIMEOUTS,
    WAITING,
    Timeouts,
    cancel_by_customer,
    is_cancel_request,
    open_handoff,
    reset_escalation,
    status_of,
)
from warmhandoff.streams.core.prepare import build_bundle, missing_fields
from warmhandoff.streams.core.replies import ReplyRanking, suggest
from warmhandoff.streams.core.transfer import (
    build_request,
    decision_id,
    directive,
    gather_message,
    status_message,
)
from warmhandoff.streams.policy.decide import DecisionContext, Verdict, decide
from warmhandoff.streams.policy.model import Policy

Scorer = Callable[[Signals, ConversationState], float | None]
"""The learned trigger's score of a turn after detection (streams/learning), or None."""

CLARIFY_MESSAGE = (
    "I want to make sure I get this right. Could you tell me a little more about what you need?"
)


@dataclass(slots=True)
class StepResult:
    """Everything one event produced, in the order it must be published."""

    signals: Signals | None = None
    decision: Decision | None = None
    handoff: HandoffRequest | None = None
    directives: list[Directive] = field(default_factory=list)
    events: list[HandoffEvent] = field(default_factory=list)  # for handoff.events


def new_state(conversation_id: str) -> ConversationState:
    """The state of a conversation the pipeline has not seen before."""
    return ConversationState(conversation_id=conversation_id)


def process_turn(
    state: ConversationState,
    turn: Turn,
    policy: Policy,
    *,
    now: datetime,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
    scorer: Scorer | None = None,
    replies: ReplyRanking | None = None,
) -> StepResult | None:
    """Apply one turn to the conversation state; None when the turn is a replay.

    `scorer` is the learned trigger's model (streams/learning): its score goes to `decide`
    (which ignores it in shadow mode and never lets it override a mandatory trigger) and is
    recorded on the decision as `learned_score`. `replies` is the learned ranking of first
    replies (None: the policy's starting set alone), read only when a handoff is produced.
    """
    if turn.seq <= state.last_seq:
        return None
    signals = detect(state, turn, transcript_turns=policy.defaults.transcript_turns)
    score = None if scorer is None else scorer(signals, state)
    verdict = decide(
        policy,
        signals,
        DecisionContext(
            handed_off=state.handoff_id is not None,
            clarifications=state.clarifications,
            learned_score=score,
        ),
    )
    result = StepResult(signals=signals)
    if verdict.action is Action.owned or state.handoff_id is not None:
        if _withdrawn(state, turn):
            return _cancel(state, signals, verdict, policy, now, result, score)
        result.decision = _decision(
            state, signals, verdict.action, verdict, policy, reason=verdict.reason, score=score
        )
        return result
    if state.pending is not None:
        if turn.role is Role.customer and is_cancel_request(turn.text):
            return _cancel(state, signals, verdict, policy, now, result, score)
        return _continue_pending(
            state, signals, verdict, policy, now, result, timeouts, score, replies
        )
    if verdict.action is Action.clarify:
        state.clarifications += 1
        _start_clock(state, signals)
        result.decision = _decision(state, signals, Action.clarify, verdict, policy, score=score)
        result.directives.append(
            directive(
                DirectiveType.clarify, state.conversation_id, signals.seq, now, CLARIFY_MESSAGE
            )
        )
        return result
    if verdict.action is not Action.escalate:
        result.decision = _decision(state, signals, verdict.action, verdict, policy, score=score)
        return result

    _start_clock(state, signals)
    pending = _pending(state, signals, verdict, policy)
    missing = missing_fields(state, pending.required_fields)
    if missing:
        state.pending = pending
        result.decision = _decision(
            state, signals, Action.gather, verdict, policy, missing=missing, score=score
        )
        result.directives.append(
            directive(
                DirectiveType.gather,
                state.conversation_id,
                signals.seq,
                now,
                gather_message(missing),
                fields=missing,
                queue=pending.queue,
            )
        )
        return result
    _transfer(
        state,
        pending,
        signals,
        policy,
        now,
        result,
        timeouts,
        verdict=verdict,
        score=score,
        replies=replies,
    )
    return result


def expire_gather(
    state: ConversationState,
    policy: Policy,
    *,
    now: datetime,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
    replies: ReplyRanking | None = None,
) -> StepResult | None:
    """Send a transfer that waited past its deadline for fields, marking what is missing."""
    pending = state.pending
    if pending is None or datetime.fromisoformat(pending.deadline) > now:
        return None
    result = StepResult()
    signals = Signals(
        conversation_id=state.conversation_id,
        seq=pending.seq,
        ts=datetime.fromisoformat(pending.ts),
        role="system",
    )
    _transfer(
        state,
        pending,
        signals,
        policy,
        now,
        result,
        timeouts,
        verdict=None,
        turn_ts=now,
        replies=replies,
    )
    return result


def _withdrawn(state: ConversationState, turn: Turn) -> bool:
    """The customer withdraws a handoff no human has accepted yet."""
    return (
        turn.role is Role.customer and status_of(state) in WAITING and is_cancel_request(turn.text)
    )


def _cancel(
    state: ConversationState,
    signals: Signals,
    verdict: Verdict,
    policy: Policy,
    now: datetime,
    result: StepResult,
    score: float | None = None,
) -> StepResult:
    """Withdraw the open handoff (or the transfer waiting for fields) and resume the bot."""
    reason = "the customer withdrew the request for a human"
    result.decision = _decision(
        state, signals, Action.none, verdict, policy, reason=reason, score=score
    )
    if state.handoff_id is not None:
        outcome = cancel_by_customer(state, now)
        result.directives.extend(outcome.directives)
        result.events.extend(outcome.events)
        return result
    # A transfer still gathering fields: no handoff exists yet, so no sink needs telling.
    result.directives.append(
        directive(DirectiveType.resume, state.conversation_id, signals.seq, now, CANCELLED_MESSAGE)
    )
    reset_escalation(state)
    return result


def _continue_pending(
    state: ConversationState,
    signals: Signals,
    verdict: Verdict,
    policy: Policy,
    now: datetime,
    result: StepResult,
    timeouts: Timeouts,
    score: float | None = None,
    replies: ReplyRanking | None = None,
) -> StepResult:
    """A transfer waits for fields: go ahead when they are in, asked for a human, or late."""
    pending = state.pending
    assert pending is not None
    missing = missing_fields(state, pending.required_fields)
    late = signals.ts >= datetime.fromisoformat(pending.deadline)
    if missing and not late and not signals.human_request:
        result.decision = _decision(
            state, signals, Action.gather, verdict, policy, missing=missing, score=score
        )
        return result
    # What fired since the gather (the customer insisting on a human, say) explains it too.
    known = {t["code"] for t in pending.triggers}
    pending.triggers.extend(
        hit.model_dump(mode="json") for hit in verdict.triggers if hit.code not in known
    )
    _transfer(
        state,
        pending,
        signals,
        policy,
        now,
        result,
        timeouts,
        verdict=verdict,
        score=score,
        replies=replies,
    )
    return result


def _transfer(
    state: ConversationState,
    pending: PendingTransfer,
    signals: Signals,
    policy: Policy,
    now: datetime,
    result: StepResult,
    timeouts: Timeouts,
    *,
    verdict: Verdict | None,
    turn_ts: datetime | None = None,
    score: float | None = None,
    replies: ReplyRanking | None = None,
) -> None:
    """Produce the handoff request and tell the customer; the conversation is now handed off."""
    state.escalations += 1
    state.pending = None
    disclosure = pending.disclosure
    triggers = [TriggerHit.model_validate(t) for t in pending.triggers]
    codes = [hit.code for hit in triggers]
    bundle = build_bundle(
        state,
        triggers,
        next_steps=pending.next_steps,
        required_fields=pending.required_fields,
        disclosure_shown=disclosure is not None,
        suggested_replies=suggest(replies, policy, codes, topic_of(codes)),
    )
    request = build_request(
        state,
        pending,
        bundle,
        turn_ts=turn_ts or signals.ts,
        now=now,
        policy_version=policy.version,
        case_window_hours=policy.cases.attach_window_hours,
    )
    open_handoff(state, request, now, timeouts)
    cid, seq = state.conversation_id, signals.seq
    if disclosure:
        result.directives.append(
            directive(DirectiveType.disclose, cid, seq, now, disclosure, handoff=request.handoff_id)
        )
    result.directives.append(
        directive(
            DirectiveType.status,
            cid,
            seq,
            now,
            status_message(pending.queue, bundle.missing_fields),
            handoff=request.handoff_id,
            queue=pending.queue,
        )
    )
    result.handoff = request
    result.decision = Decision(
        decision_id=decision_id(cid, seq, "turn" if verdict is not None else "timeout"),
        conversation_id=cid,
        seq=seq,
        ts=signals.ts,
        action=Action.escalate,
        reason=pending.reason,
        triggers=triggers,
        priority=pending.priority,
        queue=pending.queue,
        skills=pending.skills,
        missing_fields=bundle.missing_fields,
        handoff_id=request.handoff_id,
        policy_version=policy.version,
        signals=signals,
        learned_score=score,
    )


def _pending(
    state: ConversationState, signals: Signals, verdict: Verdict, policy: Policy
) -> PendingTransfer:
    """Freeze the routing of an escalation while the bot gathers fields."""
    assert verdict.queue is not None and verdict.priority is not None
    deadline = signals.ts + timedelta(seconds=policy.defaults.gather_timeout_seconds)
    return PendingTransfer(
        decision_id=decision_id(state.conversation_id, signals.seq),
        seq=signals.seq,
        ts=signals.ts.isoformat(),
        deadline=deadline.isoformat(),
        reason=verdict.reason,
        rule=verdict.rule,
        queue=verdict.queue,
        priority=verdict.priority,
        skills=list(verdict.skills),
        language=verdict.language,
        entitlement=verdict.entitlement,
        required_fields=list(verdict.required_fields),
        disclosure=verdict.disclosure,
        next_steps=list(verdict.next_steps),
        sla_seconds=verdict.sla_seconds,
        sla_target=verdict.sla_target,
        triggers=[hit.model_dump(mode="json") for hit in verdict.triggers],
    )


def _start_clock(state: ConversationState, signals: Signals) -> None:
    """The SLA clock starts at the customer's first unmet need, not at the handoff."""
    if state.first_unmet_need_ts is None:
        state.first_unmet_need_ts = signals.ts.isoformat()
        state.first_unmet_need_seq = signals.seq


def _decision(
    state: ConversationState,
    signals: Signals,
    action: Action,
    verdict: Verdict,
    policy: Policy,
    *,
    missing: list[str] | None = None,
    reason: str | None = None,
    score: float | None = None,
) -> Decision:
    """The audit record of what was decided on this turn and why."""
    # Every value is already of its declared type: skip validation (see `_Out.trusted`).
    return Decision.trusted(
        schema_version=1,
        decision_id=decision_id(state.conversation_id, signals.seq),
        conversation_id=state.conversation_id,
        seq=signals.seq,
        ts=signals.ts,
        action=action,
        reason=reason or verdict.reason,
        triggers=list(verdict.triggers),
        priority=verdict.priority,
        queue=verdict.queue,
        skills=list(verdict.skills),
        missing_fields=missing or [],
        handoff_id=state.handoff_id,
        policy_version=policy.version,
        signals=signals,
        learned_score=score,
    )
