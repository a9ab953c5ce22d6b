"""The escalation decision for one turn: pure, fast, and explained.

`decide` applies a policy to one turn's signals and what the caller knows about the
conversation (`DecisionContext`), and returns a `Verdict`: the action, every trigger that
fired with its measured value and threshold, and, for an escalation, the routing (rule,
queue, priority, skills, language, entitlement, SLA) and what the human needs prepared
(required fields, disclosure, next steps). The order of precedence:

1. Nothing fired: `none`. A flow the bot finishes itself (`bot_capabilities`) holds back its
   topics and deferred triggers on its turns, unless the bot's action failed on the turn or
   the customer insists (asks for a human, repeats the ask, frustration fires).
2. A human already owns the conversation: `owned` (never escalate twice).
3. Only `effect: priority` triggers fired: `none`, hits still listed.
4. No mandatory trigger, an active learned model scores below `suppress_below`: `none`.
5. No mandatory trigger, low confidence is the only escalating trigger, clarify-first is on
   and fewer than `max_clarifications` were asked: `clarify`.
6. Otherwise `escalate`: the first rule whose `when` matches routes it, else the default
   queue; priority boosts then lower the priority number, never below 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from warmhandoff.streams.contract.models import Action, Signals, TriggerHit
from warmhandoff.streams.policy.compiled import CompiledPolicy, Route
from warmhandoff.streams.policy.model import Policy


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """What the caller knows about the conversation beyond this turn's signals."""

    handed_off: bool = False  # a handoff is open or a human owns the conversation
    clarifications: int = 0  # clarifying questions already asked in this conversation
    learned_score: float | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision on one turn; routing fields are empty unless the action is escalate."""

    action: Action
    reason: str
    triggers: tuple[TriggerHit, ...]
    rule: str | None = None
    queue: str | None = None
    priority: int | None = None
    skills: tuple[str, ...] = ()
    language: str | None = None  # the language the human must speak
    entitlement: str | None = None
    required_fields: tuple[str, ...] = ()
    disclosure: str | None = None
    next_steps: tuple[str, ...] = ()
    sla_seconds: int = 0
    sla_target: float = 0.0

    @property
    def trigger_codes(self) -> tuple[str, ...]:
        """The codes of the triggers that fired, in policy order."""
        return tuple(hit.code for hit in self.triggers)


_QUIET = Verdict(action=Action.none, reason="no trigger fired", triggers=())


def decide(policy: Policy, signals: Signals, ctx: DecisionContext) -> Verdict:
    """Apply `policy` to one turn: none, clarify, escalate (with routing) or owned."""
    compiled = policy.compiled
    hits, finished = compiled.hold(signals, compiled.fired(signals, ctx.learned_score))
    if not hits:
        return Verdict(Action.none, finished, ()) if finished else _QUIET
    found = tuple(hits)
    codes = [hit.code for hit in hits]
    if ctx.handed_off:
        return Verdict(Action.owned, f"a human owns the conversation: {', '.join(codes)}", found)
    fired = frozenset(codes)
    escalating = fired & compiled.escalating
    if not escalating:
        reason = f"no escalating trigger: {', '.join(codes)}"
        return Verdict(Action.none, f"{reason}; {finished}" if finished else reason, found)
    if not escalating & compiled.mandatory:
        held = _held_back(compiled, ctx, codes, found)
        if held is not None:
            return held
    return _escalate(compiled, signals, fired, codes, found)


def _held_back(
    compiled: CompiledPolicy, ctx: DecisionContext, codes: list[str], found: tuple[TriggerHit, ...]
) -> Verdict | None:
    """A non-mandatory escalation that waits: a low learned score, or clarify first."""
    floor, score = compiled.learned_suppress_below, ctx.learned_score
    if floor is not None and score is not None and score < floor:
        reason = f"learned score {score:.2f} below {floor:g} holds back: {', '.join(codes)}"
        return Verdict(Action.none, reason, found)
    escalating = [code for code in codes if code in compiled.escalating]
    if (
        escalating == ["low_confidence"]
        and compiled.clarify_first
        and ctx.clarifications < compiled.max_clarifications
    ):
        asked = f"{ctx.clarifications + 1} of {compiled.max_clarifications}"
        return Verdict(Action.clarify, f"clarify first ({asked}): {', '.join(codes)}", found)
    return None


def _escalate(
    compiled: CompiledPolicy,
    s: Signals,
    fired: frozenset[str],
    codes: list[str],
    found: tuple[TriggerHit, ...],
) -> Verdict:
    route = compiled.route(fired, s)
    where = f"rule {route.rule}" if route.rule else f"default queue {route.queue}"
    reason = f"{where}: {', '.join(codes)}"
    language = _required_language(compiled, s, fired)
    if route.languages and language not in route.languages:
        route, language, note = _language_route(compiled, route, language)
        reason += note
    boost = sum(by for when, by in compiled.boosts if when.matches(fired, s))
    tier = s.tier.lower() if s.tier else None
    entitlement = route.entitlement or (
        s.tier if tier is not None and tier in route.tiers else None
    )
    intent_steps = compiled.playbooks.get(s.intent, ()) if s.intent else ()
    return Verdict(
        action=Action.escalate,
        reason=reason,
        triggers=found,
        rule=route.rule,
        queue=route.queue,
        priority=max(1, route.priority - boost),
        skills=route.skills,
        language=language,
        entitlement=entitlement,
        required_fields=route.required_fields,
        disclosure=route.disclosure,
        next_steps=tuple(dict.fromkeys(route.playbook + intent_steps)),
        sla_seconds=route.sla_seconds,
        sla_target=route.sla_target,
    )


def _required_language(compiled: CompiledPolicy, s: Signals, fired: frozenset[str]) -> str:
    """The detected language on a mismatch, else the bot's, else the policy default."""
    if "language_mismatch" in fired and s.language != "und":
        return s.language
    if s.bot_language:
        # Locales arrive as en-US or en_GB; humans are matched on the language alone.
        return s.bot_language.replace("_", "-").split("-", 1)[0].lower()
    return s.language if s.language != "und" else compiled.default_language


def _language_route(
    compiled: CompiledPolicy, route: Route, language: str
) -> tuple[Route, str, str]:
    """The queue does not serve `language`: a locale queue, or the default language."""
    target = compiled.language_routing.get(language)
    # Verified queues keep their disclosure and skills: never trade them for a locale queue.
    if target is not None and not route.verified:
        return (
            _moved(route, compiled.queue_routes[target]),
            language,
            f"; language {language}: {target}",
        )
    fallback = compiled.default_language
    if fallback in route.languages:
        return route, fallback, f"; no {language} queue, {route.queue} in {fallback}"
    default = compiled.default_route
    if not route.verified and (not default.languages or fallback in default.languages):
        # A desk for other languages cannot serve this one: the default desk speaks the default.
        note = f"; no {language} queue, {default.queue} in {fallback}"
        return _moved(route, default), fallback, note
    fallback = min(route.languages)  # a verified desk stays; routing needs one of its languages
    return route, fallback, f"; no {language} queue, {route.queue} in {fallback}"


def _moved(route: Route, local: Route) -> Route:
    """`route`'s rule and priority, on another queue with that queue's requirements."""
    return Route(
        rule=route.rule,
        queue=local.queue,
        priority=route.priority,
        skills=local.skills,
        entitlement=route.entitlement,
        tiers=local.tiers,
        languages=local.languages,
        verified=local.verified,
        required_fields=local.required_fields,
        disclosure=local.disclosure,
        playbook=local.playbook,
        sla_seconds=local.sla_seconds,
        sla_target=local.sla_target,
    )
