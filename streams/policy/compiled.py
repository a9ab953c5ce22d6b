"""A policy turned into lookup tables, built once so `decide` does no parsing per turn.

`Policy.compiled` builds and caches this on first use. Everything here is immutable and
derived only from the policy, so one compiled policy is safely shared by every partition.
"""

from __future__ import annotations

from dataclasses import dataclass

from warmhandoff.streams.contract.models import Signals, TriggerHit
from warmhandoff.streams.policy.model import Condition, LearnedMode, Policy, Queue
from warmhandoff.streams.policy.triggers import Evaluator, compile_triggers


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    """A rule's or boost's `when`, as sets."""

    any: frozenset[str]
    all: frozenset[str]
    min_triggers: int
    channels: frozenset[str] | None
    intents: frozenset[str] | None
    tiers: frozenset[str] | None
    revenue: frozenset[str] | None

    def matches(self, fired: frozenset[str], s: Signals) -> bool:
        """Whether every stated part holds for these fired codes and signals."""
        if self.any:
            if len(self.any & fired) < self.min_triggers:
                return False
        elif len(fired) < self.min_triggers:
            return False
        if self.all and not self.all <= fired:
            return False
        if self.channels is not None and (s.channel is None or s.channel not in self.channels):
            return False
        if self.intents is not None and s.intent not in self.intents:
            return False
        if self.tiers is not None and (s.tier is None or s.tier.lower() not in self.tiers):
            return False
        return self.revenue is None or not self.revenue.isdisjoint(s.revenue)


@dataclass(frozen=True, slots=True)
class Route:
    """Everything a verdict needs about where an escalation goes."""

    rule: str | None
    queue: str
    priority: int
    skills: tuple[str, ...]
    entitlement: str | None  # fixed by the rule; else derived from the customer's tier
    tiers: frozenset[str]  # the queue's entitlement (tiers served), lower case
    languages: frozenset[str]
    verified: bool
    required_fields: tuple[str, ...]
    disclosure: str | None
    playbook: tuple[str, ...]
    sla_seconds: int
    sla_target: float


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """The decision tables of one policy."""

    version: str
    evaluators: tuple[Evaluator, ...]
    learned_active: bool
    learned_threshold: float
    learned_suppress_below: float | None
    escalating: frozenset[str]  # codes with effect escalate
    mandatory: frozenset[str]
    clarify_first: bool
    max_clarifications: int
    rules: tuple[tuple[CompiledCondition, Route], ...]
    rules_by_code: dict[str, tuple[int, ...]]  # rules whose any/all name the code
    open_rules: tuple[int, ...]  # rules that name no trigger code
    default_route: Route
    queue_routes: dict[str, Route]  # each queue as reached without a rule
    boosts: tuple[tuple[CompiledCondition, int], ...]
    language_routing: dict[str, str]
    default_language: str
    playbooks: dict[str, tuple[str, ...]]
    # Self-service: intent (lower case) -> (min_confidence, codes that do not fire).
    self_service: dict[str, tuple[float, frozenset[str]]]

    def evaluate(self, signals: Signals, learned_score: float | None) -> list[TriggerHit]:
        """Every trigger that fires, in policy order, less those self-service defers."""
        hits = [hit for fire in self.evaluators if (hit := fire(signals)) is not None]
        if (
            self.learned_active
            and learned_score is not None
            and learned_score >= self.learned_threshold
        ):
            hits.append(
                TriggerHit(code="learned", value=learned_score, threshold=self.learned_threshold)
            )
        intent = signals.intent
        if hits and intent is not None and self.self_service:
            # Inline, not a method: this runs on every turn with an intent and a hit.
            found = self.self_service.get(intent.lower())
            if found is not None:
                confidence = signals.confidence
                if confidence is not None and confidence >= found[0]:
                    deferred = found[1]
                    hits = [hit for hit in hits if hit.code not in deferred]
        return hits

    def route(self, fired: frozenset[str], signals: Signals) -> Route:
        """The first matching rule's route, else the default queue's."""
        # Only rules naming a fired code (or none) can match: skip the others unread.
        candidates = set(self.open_rules)
        for code in fired:
            candidates.update(self.rules_by_code.get(code, ()))
        for index in sorted(candidates):
            when, route = self.rules[index]
            if when.matches(fired, signals):
                return route
        return self.default_route


def compile_policy(policy: Policy) -> CompiledPolicy:
    """Build the decision tables of `policy`."""
    settings = policy.triggers.by_code()
    enabled = {code: t for code, t in settings.items() if t.enabled}
    learned = policy.triggers.learned
    learned_active = learned.enabled and learned.mode is LearnedMode.active
    escalating = {code for code, t in enabled.items() if t.effect == "escalate"}
    if learned_active:
        escalating.add("learned")
    low_confidence = policy.triggers.low_confidence
    queue_routes = {
        name: _route(None, name, queue, policy.defaults.priority, None, None)
        for name, queue in policy.queues.items()
    }
    rules = tuple(
        (
            _condition(rule.when),
            _route(
                rule.name,
                rule.queue,
                policy.queues[rule.queue],
                rule.priority,
                rule.skills,
                rule.entitlement,
            ),
        )
        for rule in policy.rules
    )
    rules_by_code: dict[str, list[int]] = {}
    for index, rule in enumerate(policy.rules):
        for code in {*rule.when.any, *rule.when.all}:
            rules_by_code.setdefault(code, []).append(index)
    mandatory = frozenset(code for code, t in enabled.items() if t.mandatory)
    return CompiledPolicy(
        version=policy.version,
        evaluators=compile_triggers(policy.triggers),
        learned_active=learned_active,
        learned_threshold=learned.threshold,
        learned_suppress_below=learned.suppress_below if learned_active else None,
        escalating=frozenset(escalating),
        mandatory=mandatory,
        clarify_first=low_confidence.clarify_first,
        max_clarifications=low_confidence.max_clarifications,
        rules=rules,
        rules_by_code={code: tuple(indexes) for code, indexes in rules_by_code.items()},
        open_rules=tuple(
            i for i, rule in enumerate(policy.rules) if not rule.when.any and not rule.when.all
        ),
        default_route=queue_routes[policy.defaults.queue],
        queue_routes=queue_routes,
        boosts=tuple((_condition(b.when), b.by) for b in policy.priority_boosts),
        language_routing=dict(policy.language_routing),
        default_language=policy.defaults.language,
        playbooks={intent: tuple(steps) for intent, steps in policy.playbooks.items()},
        self_service=_self_service(policy, mandatory),
    )


def _self_service(
    policy: Policy, mandatory: frozenset[str]
) -> dict[str, tuple[float, frozenset[str]]]:
    """Each self-service intent, lower case, with its entry's threshold and deferred codes."""
    table: dict[str, tuple[float, frozenset[str]]] = {}
    for entry in policy.self_service:
        # Validation refuses a mandatory code in `defer`; a policy changed in code
        # (model_copy does not validate) still never defers one.
        codes = frozenset(entry.defer) - mandatory
        for intent in entry.intents:
            # Validation keeps each intent in one entry; should two meet, merge on the safe
            # side: the higher threshold for every deferred code.
            key = intent.lower()
            if key in table:
                least, known = table[key]
                table[key] = (max(least, entry.min_confidence), known | codes)
            else:
                table[key] = (entry.min_confidence, codes)
    return {intent: found for intent, found in table.items() if found[1]}


def _condition(when: Condition) -> CompiledCondition:
    def optional(values: list[str]) -> frozenset[str] | None:
        return frozenset(values) if values else None

    return CompiledCondition(
        any=frozenset(when.any),
        all=frozenset(when.all),
        # `any` alone means "at least one of these"; min_triggers alone counts every hit.
        min_triggers=when.min_triggers or (1 if when.any else 0),
        channels=optional([str(c) for c in when.channels]),
        intents=optional(when.intents),
        tiers=optional([t.lower() for t in when.tiers]),
        revenue=optional(when.revenue),
    )


def _route(
    rule: str | None,
    name: str,
    queue: Queue,
    priority: int,
    skills: list[str] | None,
    entitlement: str | None,
) -> Route:
    return Route(
        rule=rule,
        queue=name,
        priority=priority,
        skills=tuple(queue.skills if skills is None else skills),
        entitlement=entitlement,
        tiers=frozenset(t.lower() for t in queue.entitlement),
        languages=frozenset(queue.languages),
        verified=queue.verified,
        required_fields=tuple(queue.required_fields),
        disclosure=queue.disclosure,
        playbook=tuple(queue.playbook),
        sla_seconds=queue.sla.seconds,
        sla_target=queue.sla.target,
    )
