"""Which policy triggers fire on one turn's signals.

Each enabled trigger becomes a small closure over its thresholds when the policy is
compiled, so evaluating a turn is a handful of attribute comparisons. Every hit records the
measured value and the threshold it crossed, for the audit trail and the learning stage.

Comparisons: sentiment and its trend fire at or below their thresholds (the turn's sentiment
only on a sharp turn unless `sharp_only` is off); frustration, churn risk, fallback streak and
the learned score at or above; the bot's confidence strictly below. Boolean detector outputs
(human request, risk families) record `True`; list-valued ones (accessibility needs, revenue
kinds) record what matched and the configured list.

Hits that carry no per-turn measurement (a risk family, a bot status) are built once and
shared between turns, because building a hit costs about as much as the rest of the
decision; treat hits as immutable.
"""

from __future__ import annotations

from collections.abc import Callable

from warmhandoff.streams.contract.models import Signals, TriggerHit
from warmhandoff.streams.policy.model import (
    AccessibilityTrigger,
    ChurnRiskTrigger,
    FrustrationTrigger,
    LanguageMismatchTrigger,
    LowConfidenceTrigger,
    NegativeSentimentTrigger,
    Policy,
    RepeatedFallbackTrigger,
    RevenueTrigger,
    SystemBoundaryTrigger,
    Trigger,
    Triggers,
    VipTrigger,
)

Evaluator = Callable[[Signals], TriggerHit | None]
HitValue = str | list[str]


def evaluate_triggers(
    policy: Policy, signals: Signals, learned_score: float | None = None
) -> list[TriggerHit]:
    """Every trigger that fires on `signals`, in policy order (`learned` only when active)."""
    return policy.compiled.evaluate(signals, learned_score)


def compile_triggers(triggers: Triggers) -> tuple[Evaluator, ...]:
    """One evaluator per enabled trigger except `learned`, in TRIGGER_CODES order."""
    evaluators: list[Evaluator] = []
    for code, settings in triggers.by_code().items():
        if settings.enabled:
            evaluators.append(_compile(code, settings))
    return tuple(evaluators)


def _compile(code: str, settings: Trigger) -> Evaluator:
    if code.startswith("risk."):
        return _risk(code, code.removeprefix("risk."))
    match settings:
        case NegativeSentimentTrigger():
            return _negative_sentiment(settings)
        case FrustrationTrigger():
            return _frustration(settings)
        case LowConfidenceTrigger():
            return _low_confidence(settings)
        case RepeatedFallbackTrigger():
            return _repeated_fallback(settings)
        case VipTrigger():
            return _vip(settings)
        case ChurnRiskTrigger():
            return _churn_risk(settings)
        case LanguageMismatchTrigger():
            return _language_mismatch(settings)
        case AccessibilityTrigger():
            return _accessibility(settings)
        case SystemBoundaryTrigger():
            return _system_boundary(settings)
        case RevenueTrigger():
            return _revenue(settings)
    if code == "human_request":
        return _human_request
    raise ValueError(f"no evaluator for trigger {code!r}")  # a code added to the model only


_HUMAN_REQUEST = TriggerHit(code="human_request", value=True)
_VIP_FLAG = TriggerHit(code="vip", value=True)
_SHARED_VALUES = 64  # distinct tiers, needs or revenue kinds kept per trigger


def _human_request(s: Signals) -> TriggerHit | None:
    return _HUMAN_REQUEST if s.human_request else None


def _risk(code: str, family: str) -> Evaluator:
    hit = TriggerHit(code=code, value=True)

    def fire(s: Signals) -> TriggerHit | None:
        return hit if family in s.risk else None

    return fire


def _shared_hits(code: str, threshold: list[str] | None) -> Callable[[HitValue], TriggerHit]:
    """A hit per distinct value, shared while there are few distinct values."""
    shared: dict[str | tuple[str, ...], TriggerHit] = {}

    def hit(value: HitValue) -> TriggerHit:
        key = value if isinstance(value, str) else tuple(value)
        found = shared.get(key)
        if found is None:
            found = TriggerHit(code=code, value=value, threshold=threshold)
            if len(shared) < _SHARED_VALUES:
                shared[key] = found
        return found

    return hit


def _negative_sentiment(t: NegativeSentimentTrigger) -> Evaluator:
    threshold, trend, sharp_only = t.threshold, t.trend_threshold, t.sharp_only

    def fire(s: Signals) -> TriggerHit | None:
        # One mildly unhappy turn is not a reason to hand over (`frustration` judges the
        # conversation); one said sharply is.
        if s.sentiment <= threshold and (s.sharp or not sharp_only):
            return TriggerHit(code="negative_sentiment", value=s.sentiment, threshold=threshold)
        if trend is not None and s.sentiment_trend <= trend:
            return TriggerHit(code="negative_sentiment", value=s.sentiment_trend, threshold=trend)
        return None

    return fire


def _frustration(t: FrustrationTrigger) -> Evaluator:
    threshold = t.threshold

    def fire(s: Signals) -> TriggerHit | None:
        if s.frustration >= threshold:
            return TriggerHit(code="frustration", value=s.frustration, threshold=threshold)
        return None

    return fire


def _low_confidence(t: LowConfidenceTrigger) -> Evaluator:
    threshold = t.threshold

    def fire(s: Signals) -> TriggerHit | None:
        if s.confidence is not None and s.confidence < threshold:
            return TriggerHit(code="low_confidence", value=s.confidence, threshold=threshold)
        return None

    return fire


def _repeated_fallback(t: RepeatedFallbackTrigger) -> Evaluator:
    streak = t.min_streak

    def fire(s: Signals) -> TriggerHit | None:
        if s.fallback_streak >= streak:
            return TriggerHit(
                code="repeated_fallback", value=float(s.fallback_streak), threshold=float(streak)
            )
        return None

    return fire


def _vip(t: VipTrigger) -> Evaluator:
    tiers = frozenset(tier.lower() for tier in t.tiers)
    tier_hit = _shared_hits("vip", list(t.tiers))
    min_value, flag = t.min_lifetime_value, t.detector_flag

    def fire(s: Signals) -> TriggerHit | None:
        if s.tier is not None and s.tier.lower() in tiers:
            return tier_hit(s.tier)
        value = s.lifetime_value
        if min_value is not None and value is not None and value >= min_value:
            return TriggerHit(code="vip", value=value, threshold=min_value)
        if flag and s.vip:
            return _VIP_FLAG
        return None

    return fire


def _churn_risk(t: ChurnRiskTrigger) -> Evaluator:
    threshold = t.threshold

    def fire(s: Signals) -> TriggerHit | None:
        if s.churn_risk is not None and s.churn_risk >= threshold:
            return TriggerHit(code="churn_risk", value=s.churn_risk, threshold=threshold)
        return None

    return fire


def _language_mismatch(t: LanguageMismatchTrigger) -> Evaluator:
    threshold = t.min_confidence

    def fire(s: Signals) -> TriggerHit | None:
        if s.language_mismatch and s.language_confidence >= threshold:
            return TriggerHit(
                code="language_mismatch", value=s.language_confidence, threshold=threshold
            )
        return None

    return fire


def _accessibility(t: AccessibilityTrigger) -> Evaluator:
    needs = frozenset(need.lower() for need in t.needs)
    hit = _shared_hits("accessibility", list(t.needs) or None)

    def fire(s: Signals) -> TriggerHit | None:
        if not s.accessibility:
            return None
        matched = [n for n in s.accessibility if not needs or n.lower() in needs]
        return hit(matched) if matched else None

    return fire


def _system_boundary(t: SystemBoundaryTrigger) -> Evaluator:
    listed = [str(status) for status in t.statuses]
    hits = {
        status: TriggerHit(code="system_boundary", value=str(status), threshold=listed)
        for status in t.statuses
    }

    def fire(s: Signals) -> TriggerHit | None:
        boundary = s.system_boundary
        return hits.get(boundary.status) if boundary is not None else None

    return fire


def _revenue(t: RevenueTrigger) -> Evaluator:
    kinds = frozenset(t.kinds)
    hit = _shared_hits("revenue_opportunity", list(t.kinds))

    def fire(s: Signals) -> TriggerHit | None:
        if not s.revenue:
            return None
        matched = [kind for kind in s.revenue if kind in kinds]
        return hit(matched) if matched else None

    return fire
