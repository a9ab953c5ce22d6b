"""The learner's pure logic: join decisions with outcomes, label, learn.

Input: `escalation.decisions` and `handoff.events`, keyed by conversation_id. Output:
`LearningExample`s for `learning.examples` (one per labelled episode); the model learns
every turn of the episode with its label; `surveys_due` gives `survey` directives for
`bot.directives`. Nothing here touches Kafka or a clock (`now` is a parameter); `runner.py`
is the process around it.

An episode is a conversation from its first decision to its decision point: the first
`gather` or `escalate` (then the handoff's events label it), or, if the bot kept it, its
last turn (then a low CSAT or the end of the return window labels it). Decisions after the
decision point are the human's and teach nothing about when to escalate. A `csat` event joins
by handoff id, else by conversation (a contained conversation's survey answer, published
with the conversation id as its handoff id).

A contained conversation with no turn for `ContainedSurvey.idle` is over: `surveys_due`
returns one `survey` directive for it (once per conversation; survey.py), whose answer then
joins as above.

Features are rebuilt from the decisions exactly as the worker computed them when it scored
the turn (`features.features_from`: the signals plus three counters kept here), so training
and scoring do not drift apart. A customer's return within the window is told by
`Signals.customer_id` (their next conversation's first decision, within the return window of
the previous one's last turn, the human's turns included): a contained conversation it follows
is bad containment; an escalated one, or one already labelled, was not resolved at the first
contact, which `take_returns` tells the live KPIs (kpis.py).
"""

from __future__ import annotations

import uuid
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from warmhandoff.streams.contract.models import (
    Action,
    Decision,
    Directive,
    HandoffEvent,
    HandoffEventType,
    LearningExample,
)
from warmhandoff.streams.learning.features import FEATURES, features_from
from warmhandoff.streams.learning.labels import (
    DEFAULT_RULES,
    Label,
    LabelRules,
    Outcome,
    is_positive,
    label,
)
from warmhandoff.streams.learning.model import LearnedModel
from warmhandoff.streams.learning.shadow import ShadowPolicy
from warmhandoff.streams.learning.survey import ContainedSurvey, contained_survey_directive

NAMESPACE = uuid.UUID("6f1e4d6a-3b1a-5c55-9d2e-2a7f1c0b8e11")
MAX_TURNS = 60  # turns kept per episode: a runaway conversation cannot grow without bound
CSAT_WAIT = timedelta(hours=1)  # how long a resolved handoff waits for its survey answer
UNSERVED = frozenset(
    {HandoffEventType.abandoned, HandoffEventType.cancelled, HandoffEventType.failed}
)


@dataclass(slots=True)
class Episode:
    """One conversation from its first decision to its decision point, and what followed."""

    conversation_id: str
    last_turn_at: datetime
    # One packed row of floats per turn, in `FEATURES` order (352 bytes, not a 1.6 KB dict):
    # contained conversations stay open for the whole return window.
    rows: list[array[float]] = field(default_factory=list)

    @property
    def examples(self) -> list[dict[str, float]]:
        """The feature dicts of the episode's turns."""
        return [dict(zip(FEATURES, row, strict=True)) for row in self.rows]

    decision_id: str = ""
    handoff_id: str | None = None
    escalated: bool = False
    customer_turns: int = 0
    failed_actions: int = 0
    clarifications: int = 0
    repeats: int = 0
    human_requests: int = 0
    peak_frustration: float = 0.0
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    reason: str | None = None
    handed_back: bool = False
    unserved: bool = False
    csat: int | None = None
    shadow_escalated: bool = False  # the shadow policy (if any) would have escalated
    returned_at: datetime | None = None  # the customer's next conversation started then
    requeued: bool = False  # the handoff moved to another queue before a human took it
    seq: int = 0  # the last turn's
    surveyed: bool = False  # asked the contained survey (or must not be: see `Learner.asked`)

    def outcome(self) -> Outcome:
        """The facts `labels.label` decides on."""
        return Outcome(
            escalated=self.escalated,
            last_turn_at=self.last_turn_at,
            accepted_at=self.accepted_at,
            resolved_at=self.resolved_at,
            resolution_reason=self.reason,
            handed_back=self.handed_back,
            ended_unserved=self.unserved,
            csat=self.csat,
            returned_at=self.returned_at,
            repeats_before_handoff=self.repeats,
            human_requests_before_handoff=self.human_requests,
            peak_frustration_before_handoff=self.peak_frustration,
        )


class Learner:
    """Open episodes by conversation; `on_decision`, `on_event`, `expire` emit examples."""

    def __init__(
        self,
        model: LearnedModel,
        *,
        rules: LabelRules = DEFAULT_RULES,
        shadow: ShadowPolicy | None = None,
        survey: ContainedSurvey | None = None,
    ) -> None:
        self.model = model
        self.rules = rules
        self.shadow = shadow
        self.survey = survey or ContainedSurvey()
        self.episodes: dict[str, Episode] = {}
        # Events read before the decision they belong to: two topics are two streams, and
        # nothing orders one against the other. Replayed when the decision arrives.
        self.early: dict[str, list[HandoffEvent]] = {}
        # A customer's latest conversation and its latest turn, by customer id, while the
        # return window is open (pruned in `expire`): their next conversation is a return.
        self.last_contact: dict[str, tuple[str, datetime]] = {}
        # Conversations labelled (or closed) before their customer came back: the live
        # first-contact resolution counts them out. The runner takes them every batch.
        self.returns: list[str] = []
        # Contained conversations to survey once idle, least recently active first (a turn
        # moves its conversation to the end), so `surveys_due` stops at the first one not due.
        self.idle_queue: dict[str, None] = {}
        # Conversations whose episode ended after a handoff or a survey, by when: a later
        # episode of the same conversation (the bot back after a human) is not asked again.
        self.asked: dict[str, datetime] = {}

    def on_decision(self, d: Decision, now: datetime) -> list[LearningExample]:
        """Add one decision's turn to its conversation's episode (and replay early events)."""
        ep = self.episodes.get(d.conversation_id)
        new = ep is None and d.action is not Action.owned
        returned = self._came_back(d, now) if new else []
        if d.signals.customer_id:  # the human's turns too: a return counts from the last one
            self.last_contact[d.signals.customer_id] = (d.conversation_id, d.ts)
        if d.action is Action.owned:
            return []
        if ep is None:
            ep = self.episodes[d.conversation_id] = Episode(d.conversation_id, d.ts)
            ep.surveyed = d.conversation_id in self.asked
        if ep.escalated:
            if d.action is Action.escalate and d.handoff_id and ep.handoff_id is None:
                ep.handoff_id = d.handoff_id  # a gather completed: the handoff now exists
                return self._replay(d.conversation_id, now)
            return []
        s = d.signals
        ep.customer_turns += s.role.value == "customer"
        ep.failed_actions += s.system_boundary is not None
        x = features_from(
            s,
            customer_turns=ep.customer_turns,
            failed_actions=ep.failed_actions,
            clarifications=ep.clarifications,
        )
        if len(ep.rows) < MAX_TURNS:
            ep.rows.append(array("d", x.values()))
        if self.shadow is not None:
            _, shadow = self.shadow.check(d, ep.clarifications)
            ep.shadow_escalated = ep.shadow_escalated or shadow == Action.escalate.value
        ep.clarifications += d.action is Action.clarify
        ep.last_turn_at, ep.decision_id, ep.seq = d.ts, d.decision_id, d.seq
        ep.repeats = s.repeat_count
        ep.human_requests += s.human_request
        ep.peak_frustration = max(ep.peak_frustration, s.frustration)
        if d.action in (Action.gather, Action.escalate):
            ep.escalated, ep.handoff_id = True, d.handoff_id
            self.idle_queue.pop(ep.conversation_id, None)
        else:
            self._await_idle(ep)
        if d.conversation_id in self.early:
            returned.extend(self._replay(d.conversation_id, now))
        return returned

    def _await_idle(self, ep: Episode) -> None:
        """(Re)start the idle clock of a contained conversation that may be surveyed."""
        self.idle_queue.pop(ep.conversation_id, None)
        if ep.surveyed or ep.customer_turns == 0 or not self.survey.asks(ep.conversation_id):
            return  # asked already, or nobody to ask: the customer never wrote
        self.idle_queue[ep.conversation_id] = None

    def surveys_due(self, now: datetime) -> list[Directive]:
        """A `survey` directive for every contained conversation idle since `survey.idle`."""
        out: list[Directive] = []
        while self.idle_queue:
            cid = next(iter(self.idle_queue))
            ep = self.episodes[cid]
            idle_for = now - ep.last_turn_at
            if idle_for < self.survey.idle:
                break  # the rest were active later
            del self.idle_queue[cid]
            ep.surveyed = True
            if idle_for <= self.survey.idle + self.survey.late:
                out.append(contained_survey_directive(cid, ep.seq, now))
        return out

    def _came_back(self, d: Decision, now: datetime) -> list[LearningExample]:
        """A customer's new conversation: their previous one, if recent, was not enough."""
        customer = d.signals.customer_id
        previous = self.last_contact.get(customer) if customer else None
        if previous is None:
            return []
        earlier_id, last_at = previous
        # As report's `returned`: another conversation, started after the last turn.
        if (
            earlier_id == d.conversation_id
            or not last_at < d.ts <= last_at + self.rules.return_window
        ):
            return []
        earlier = self.episodes.get(earlier_id)
        if earlier is None:  # labelled already: only first-contact resolution changes
            self.returns.append(earlier_id)
            return []
        if earlier.returned_at is not None:
            return []
        earlier.returned_at = d.ts  # `_close` adds it to `returns`
        return [] if earlier.escalated else self._settle(earlier, now)

    def take_returns(self) -> list[str]:
        """The conversations `returns` gathered since the last call (see `__init__`)."""
        taken, self.returns = self.returns, []
        return taken

    def _replay(self, conversation_id: str, now: datetime) -> list[LearningExample]:
        out: list[LearningExample] = []
        for event in sorted(self.early.pop(conversation_id, []), key=lambda e: e.ts):
            out.extend(self.on_event(event, now))
        return out

    def on_event(self, e: HandoffEvent, now: datetime) -> list[LearningExample]:
        """Join one lifecycle event (or survey answer); the example if it settles a label."""
        ep = self.episodes.get(e.conversation_id)
        is_csat = e.type is HandoffEventType.csat
        # A contained conversation's survey answer names the conversation as its handoff.
        contained_answer = is_csat and ep is not None and not ep.escalated
        if ep is None or e.handoff_id != (e.conversation_id if contained_answer else ep.handoff_id):
            self.early.setdefault(e.conversation_id, []).append(e)
            return []
        if is_csat:
            ep.csat = e.csat
        elif e.type is HandoffEventType.accepted and ep.accepted_at is None:
            ep.accepted_at = e.ts
        elif e.type is HandoffEventType.resolved:
            ep.resolved_at, ep.reason = e.ts, e.reason
        elif e.type is HandoffEventType.handed_back:
            ep.handed_back = True
        elif e.type is HandoffEventType.queued and e.reason and e.queue:
            ep.requeued = True  # moved to another queue (overflow, widening, a re-route)
        elif e.type in UNSERVED:
            ep.unserved = True
        return self._settle(ep, now)

    def expire(self, now: datetime) -> list[LearningExample]:
        """Settle every episode whose wait is over (return window, survey wait)."""
        out: list[LearningExample] = []
        for ep in list(self.episodes.values()):
            out.extend(self._settle(ep, now))
        window = self.rules.return_window
        for cid, when in list(self.asked.items()):
            if when + window < now:
                del self.asked[cid]
        for customer, (_, last_at) in list(self.last_contact.items()):
            if last_at + window < now:
                del self.last_contact[customer]  # a next conversation is no return
        for cid, events in list(self.early.items()):
            if max(e.ts for e in events) + window < now:
                del self.early[cid]  # its decision never came (or the handoff is older)
        return out

    def _settle(self, ep: Episode, now: datetime) -> list[LearningExample]:
        if ep.escalated and ep.unserved:
            self._close(ep, now)  # no label: what a human would do is unknown
            return []
        found = label(ep.outcome(), now=now, rules=self.rules)
        if found is None:
            return []
        waiting_for_csat = (
            ep.escalated
            and ep.csat is None
            and ep.resolved_at is not None
            and now < ep.resolved_at + CSAT_WAIT
        )
        if waiting_for_csat:
            return []
        self._close(ep, now)
        return [self._learn(ep, found)]

    def _close(self, ep: Episode, now: datetime) -> None:
        del self.episodes[ep.conversation_id]
        self.idle_queue.pop(ep.conversation_id, None)
        if ep.returned_at is not None:
            self.returns.append(ep.conversation_id)  # after its example, if it has one
        # Kept only while the conversation may still go on: one settled by the end of the
        # return window is over (and remembering every one would double the ids held).
        live = now - ep.last_turn_at < self.rules.return_window
        if live and (ep.escalated or ep.surveyed):
            self.asked[ep.conversation_id] = now

    def _learn(self, ep: Episode, found: Label) -> LearningExample:
        positive = is_positive(found)
        if self.shadow is not None:
            self.shadow.record(needed=positive, active=ep.escalated, shadow=ep.shadow_escalated)
        examples = ep.examples
        for x in examples:
            self.model.learn(x, positive)
        outcome: dict[str, object] = {
            "escalated": ep.escalated,
            "csat": ep.csat,
            "turns_learned": len(examples),
            "positive": positive,
        }
        outcome["customer_turns"] = ep.customer_turns
        if ep.escalated:
            # Resolved where it was first sent, by the human, not handed back: the right channel.
            outcome["resolved"] = ep.resolved_at is not None and not ep.handed_back
            outcome["right_channel"] = outcome["resolved"] and not ep.requeued
        if ep.accepted_at is not None:
            outcome["answer_seconds"] = (ep.accepted_at - ep.last_turn_at).total_seconds()
        if ep.accepted_at is not None and ep.resolved_at is not None:
            outcome["handle_seconds"] = (ep.resolved_at - ep.accepted_at).total_seconds()
        return LearningExample(
            example_id=str(uuid.uuid5(NAMESPACE, f"{ep.decision_id}:{found.value}")),
            conversation_id=ep.conversation_id,
            decision_id=ep.decision_id,
            handoff_id=ep.handoff_id,
            label=found.value,
            features=examples[-1] if examples else {},
            outcome=outcome,
        )
