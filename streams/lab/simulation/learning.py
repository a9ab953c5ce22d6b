"""Proof in simulation: does the learned trigger beat the static rules?

Simulated conversations carry a hidden ground truth: did this customer need a human? It is
derived from the scenario's family and one hidden per-conversation draw (`u`), and is
deliberately not what the static rules see:

- hard families (explicit request, payments, cancellation, identity, fraud, compliance,
  churn): a human is always needed;
- soft families (negative sentiment, frustration, low confidence, fallbacks, VIP, language,
  accessibility, system boundary, revenue): `u < soft_resolvable` means the bot could have
  resolved it (the customer vents, then a plain answer settles it), otherwise needed;
- benign scenarios: `u < quiet_need` means a quiet conversation that needs a human anyway.

The need leaves only partial cues in the turns, each drawn independently and each seen in
plenty of conversations that need nobody: a lower NLU confidence (a per-conversation offset,
mean -0.12 when needed, 0 otherwise, sd 0.08), a higher churn risk on the customer record
(+U(0, 0.3) when needed), and a rephrased question (probability `rephrase_needed` when
needed, `rephrase_not_needed` otherwise). The model is given per-turn features only
(`features.py`): never `u`, the ground truth or the scenario's name.

Every turn runs through the real `process_turn` with the given policy (learned trigger in
shadow mode): its decisions are the static rules'. Each turn is scored before anything is
learned from its conversation (prequential evaluation). When the conversation ends its
outcome is simulated from the ground truth with noise (handle time, a return within 24 h,
a CSAT answer), labelled by `labels.label` exactly as live, and the model learns every
turn up to the decision point with that label. A second run of the same turns through a
copy of the policy with the learned trigger `active` (same scores) gives the learned
policy's escalations.

Scores per conversation: learned = the highest score up to the decision point; static =
1 when the rules escalated (gather or escalate), 0.5 when they only asked a clarifying
question, else 0. AUCs compare them with the hidden truth per third of the run (in
processing order); precision and recall compare escalations with it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from warmhandoff.agents.scenarios import Conversation, generate
from warmhandoff.streams.contract.models import Action, Role, Signals, Turn
from warmhandoff.streams.core.conversation import ConversationState
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.learning.features import features
from warmhandoff.streams.learning.labels import Outcome, is_positive, label
from warmhandoff.streams.learning.model import LearnedModel
from warmhandoff.streams.learning.scorer import LinearScorer
from warmhandoff.streams.policy.model import Policy

HARD_FAMILIES = frozenset(
    {
        "human_request",
        "risk.payments",
        "risk.cancellation",
        "risk.identity",
        "risk.fraud",
        "risk.compliance",
        "churn_risk",
    }
)
ESCALATED = frozenset({Action.gather, Action.escalate})
DEFAULT_START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

_Row = tuple[bool, float, float, bool, bool]  # truth, learned, static, static/learned escalated


@dataclass(frozen=True, slots=True)
class LearningSimConfig:
    """The knobs of the simulation (docs/learning.md, "Proof in simulation")."""

    conversations: int = 3000
    seed: int = 7
    escalating_share: float = 0.3
    soft_resolvable: float = 0.35
    quiet_need: float = 0.12
    rephrase_needed: float = 0.45
    rephrase_not_needed: float = 0.08
    threshold: float = 0.7  # the learned trigger's threshold in the active copy
    suppress_below: float = 0.35  # ... and the score below which it holds back soft triggers
    min_examples: int = 200  # turns learned before the model scores anything
    start: datetime = DEFAULT_START


@dataclass(frozen=True, slots=True)
class _Run:
    """One conversation through one policy."""

    escalated: bool
    clarified: bool
    scores: list[float]  # learned scores up to the decision point
    examples: list[dict[str, float]]  # features up to the decision point
    repeats: int
    human_requests: int
    peak_frustration: float


def active_copy(policy: Policy, threshold: float, suppress_below: float | None) -> Policy:
    """`policy` with the learned trigger switched on."""
    data = policy.model_dump(by_alias=True, mode="json")
    data["version"] = f"{policy.version}+learned"
    learned = dict(data["triggers"].get("learned") or {})
    learned.update(mode="active", threshold=threshold, suppress_below=suppress_below)
    data["triggers"]["learned"] = learned
    return Policy.model_validate(data)


def run_learning_simulation(policy: Policy, config: LearningSimConfig) -> dict[str, Any]:
    """Run the simulation and return its report (see the module docstring)."""
    rng = random.Random(config.seed * 7919 + 1)
    conversations = generate(
        config.conversations,
        seed=config.seed,
        escalating_share=config.escalating_share,
        start=config.start,
    )
    active = active_copy(policy, config.threshold, config.suppress_below)
    model = LearnedModel()
    rows: list[_Row] = []
    for conversation in conversations:
        needed = _needs_human(conversation, rng.random(), config)
        turns = _with_cues(conversation, needed, rng, config)
        scorer = model.scorer() if model.examples >= config.min_examples else None
        static = _run(turns, policy, scorer)
        learned = _run(turns, active, scorer)
        rows.append(
            (
                needed,
                max(static.scores, default=0.0),
                1.0 if static.escalated else 0.5 if static.clarified else 0.0,
                static.escalated,
                learned.escalated,
            )
        )
        found = label(_outcome(static, needed, turns, rng), now=turns[-1].ts + timedelta(days=2))
        if found is not None:
            positive = is_positive(found)
            for x in static.examples:
                model.learn(x, positive)
    return _report(rows, config, model)


def _needs_human(conversation: Conversation, u: float, config: LearningSimConfig) -> bool:
    """The hidden ground truth (module docstring)."""
    family = conversation.scenario.family
    if not conversation.scenario.expect_escalation:
        return u < config.quiet_need
    if family in HARD_FAMILIES:
        return True
    return u >= config.soft_resolvable


def _with_cues(
    conversation: Conversation, needed: bool, rng: random.Random, config: LearningSimConfig
) -> list[Turn]:
    """The conversation's turns with the partial cues of its hidden need."""
    offset = rng.gauss(-0.12 if needed else 0.0, 0.08)
    churn_up = rng.uniform(0.0, 0.3) if needed else 0.0
    rephrase = rng.random() < (config.rephrase_needed if needed else config.rephrase_not_needed)
    turns = list(conversation.turns)
    if rephrase:
        first = next(i for i, t in enumerate(turns) if t.role is Role.customer)
        bot = next((i for i in range(first + 1, len(turns)) if turns[i].role is Role.bot), None)
        if bot is not None:
            again = turns[first].model_copy(update={"bot": None})
            answer = turns[bot].model_copy(update={"bot": None})
            turns[bot + 1 : bot + 1] = [again, answer]
    out: list[Turn] = []
    ts = turns[0].ts
    for seq, turn in enumerate(turns):
        if seq:  # an inserted turn reuses an earlier timestamp: keep time moving forward
            ts = max(ts + timedelta(seconds=1), turn.ts)
        update: dict[str, Any] = {"seq": seq, "ts": ts}
        if turn.customer is not None and churn_up:
            churn = min(1.0, (turn.customer.churn_risk or 0.0) + churn_up)
            update["customer"] = turn.customer.model_copy(update={"churn_risk": round(churn, 2)})
        if turn.nlu is not None and turn.nlu.confidence is not None:
            confidence = min(1.0, max(0.0, turn.nlu.confidence + offset))
            update["nlu"] = turn.nlu.model_copy(update={"confidence": round(confidence, 2)})
        out.append(turn.model_copy(update=update))
    return out


def _run(turns: Sequence[Turn], policy: Policy, scorer: LinearScorer | None) -> _Run:
    state = new_state(turns[0].conversation_id)
    seen: list[tuple[Signals, ConversationState, dict[str, float]]] = []

    def score(signals: Signals, st: ConversationState) -> float | None:
        x = features(signals, st)
        seen.append((signals, st, x))
        return None if scorer is None else scorer.score(x)

    scores: list[float] = []
    examples: list[dict[str, float]] = []
    escalated = clarified = False
    repeats = requests = 0
    peak = 0.0
    for turn in turns:
        result = process_turn(state, turn, policy, now=turn.ts, scorer=score)
        if result is None or result.decision is None or escalated:
            continue
        decision = result.decision
        examples.append(seen[-1][2])
        if decision.learned_score is not None:
            scores.append(decision.learned_score)
        signals = decision.signals
        repeats, peak = signals.repeat_count, max(peak, signals.frustration)
        requests += int(signals.human_request)
        clarified = clarified or decision.action is Action.clarify
        escalated = decision.action in ESCALATED
    return _Run(escalated, clarified, scores, examples, repeats, requests, peak)


def _outcome(run: _Run, needed: bool, turns: Sequence[Turn], rng: random.Random) -> Outcome:
    """What happens next, from the hidden truth with noise (5-20 % of labels are wrong)."""
    last = turns[-1].ts
    if run.escalated:
        accepted = last + timedelta(seconds=rng.uniform(20, 300))
        substantive = rng.random() < (0.95 if needed else 0.10)
        handle = rng.uniform(240, 1500) if substantive else rng.uniform(20, 110)
        return Outcome(
            escalated=True,
            last_turn_at=last,
            accepted_at=accepted,
            resolved_at=accepted + timedelta(seconds=handle),
            repeats_before_handoff=run.repeats,
            human_requests_before_handoff=run.human_requests,
            peak_frustration_before_handoff=run.peak_frustration,
        )
    returned = rng.random() < (0.7 if needed else 0.05)
    answered = rng.random() < 0.4
    low = rng.random() < (0.8 if needed else 0.05)
    return Outcome(
        escalated=False,
        last_turn_at=last,
        returned_at=last + timedelta(hours=rng.uniform(1, 20)) if returned else None,
        csat=(rng.choice((1, 2)) if low else rng.choice((4, 5))) if answered else None,
    )


def auc(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties count half); None without both classes."""
    ranked = sorted(zip(scores, labels, strict=True), key=lambda pair: pair[0])
    positives = sum(1 for y in labels if y)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return None
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mid = (i + j + 1) / 2.0  # the average 1-based rank of the tie block
        rank_sum += mid * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def precision_recall(truth: Sequence[bool], predicted: Sequence[bool]) -> tuple[float, float]:
    """Precision and recall of `predicted` against `truth` (0.0 when undefined)."""
    tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t and p)
    fp = sum(1 for t, p in zip(truth, predicted, strict=True) if p and not t)
    fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t and not p)
    return (tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0)


def _report(rows: list[_Row], config: LearningSimConfig, model: LearnedModel) -> dict[str, Any]:
    third = len(rows) // 3
    first, last = rows[:third], rows[len(rows) - third :]

    def aucs(part: list[_Row], col: int) -> float | None:
        found = auc([r[0] for r in part], [r[col] for r in part])
        return None if found is None else round(found, 4)

    truth = [r[0] for r in last]
    sp, sr = precision_recall(truth, [r[3] for r in last])
    lp, lr = precision_recall(truth, [r[4] for r in last])
    learned_last, static_last = aucs(last, 1), aucs(last, 2)
    met = (
        learned_last is not None
        and static_last is not None
        and learned_last >= static_last + 0.05
        and lp > sp
        and lr >= sr
    )
    return {
        "conversations": len(rows),
        "seed": config.seed,
        "needs_human_share": round(sum(r[0] for r in rows) / max(1, len(rows)), 4),
        "learned_auc_first": aucs(first, 1),
        "learned_auc_last": learned_last,
        "static_auc": static_last,
        "static_auc_first": aucs(first, 2),
        "static_precision": round(sp, 4),
        "static_recall": round(sr, 4),
        "learned_precision": round(lp, 4),
        "learned_recall": round(lr, 4),
        "learned_threshold": config.threshold,
        "learned_suppress_below": config.suppress_below,
        "examples_learned": model.examples,
        "target_met": met,
        "evaluated_on": "last third of conversations, in processing order",
    }
