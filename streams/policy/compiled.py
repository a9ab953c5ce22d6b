"""A policy turned into lookup tables, built once so `decide` does no parsing per turn.

`Policy.compiled` builds and caches this on first use. Everything here is immutable and
derived only from the policy, so one compiled policy is safely shared by every partition.
"""

from __future__ import annotations

from dataclasses import dataclass

from warmhandoff.streams.contract.models import BotStatus, Signals, TriggerHit
from warmhandoff.streams.policy.model import (
    Capability,
    Condition,
    LearnedMode,
    Policy,
    Queue,
    SelfService,
)
from warmhandoff.streams.policy.topics import REVENUE_KINDS, topic_trigger
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
class Flow:
    """A bot capability (or a `self_service` entry) as the decision uses it."""

    name: str
    min_confidence: float | None  # the NLU confidence a listed intent needs
    held: frozenset[str]  # trigger codes that do not fire on the flow's turns
    families: frozenset[str]  # risk families whose `risk.*` trigger does not fire
    kinds: frozenset[str]  # revenue kinds left out of `revenue_opportunity`
    hands_off: bool  # False for `self_service`: its hold stays when the customer insists


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
    # What the bot finishes itself: flows by NLU intent (lower case) and by detected topic.
    flows_by_intent: dict[str, Flow]
    flows_by_topic: dict[str, tuple[Flow, ...]]

    def evaluate(self, signals: Signals, learned_score: float | None) -> list[TriggerHit]:
        """Every trigger that fires, in policy order, less what the turn's flows hold back."""
        return self.hold(signals, self.fired(signals, learned_score))[0]

    def fired(self, signals: Signals, learned_score: float | None) -> list[TriggerHit]:
        """Every trigger that fires, in policy order, before any flow holds one back."""
        hits = [hit for fire in self.evaluators if (hit := fire(signals)) is not None]
        if (
            self.learned_active
            and learned_score is not None
            and learned_score >= self.learned_threshold
        ):
            hits.append(
                TriggerHit(code="learned", value=learned_score, threshold=self.learned_threshold)
            )
        return hits

    def hold(self, signals: Signals, hits: list[TriggerHit]) -> tuple[list[TriggerHit], str]:
        """`hits` less what the turn's flows hold back, and what they held ("" for nothing)."""
        if hits and (self.flows_by_intent or self.flows_by_topic):
            flows = self.flows_of(signals)
            if flows:
                return _held_back(flows, signals, hits)
        return hits, ""

    def flows_of(self, signals: Signals) -> list[Flow]:
        """The flows a turn is in: named by its NLU intent, else by the topics detected."""
        intent = signals.intent
        if intent:
            # The bot named what the customer wants: only that flow, and none when it is not
            # one of the bot's (its topics do not stand in for an intent the bot reported).
            flow = self.flows_by_intent.get(intent.lower())
            if flow is None:
                return []
            least, confidence = flow.min_confidence, signals.confidence
            if least is not None and (confidence is None or confidence < least):
                return []
            return [flow]
        found: list[Flow] = []
        for topic in (*signals.revenue, *signals.risk):
            found.extend(self.flows_by_topic.get(topic, ()))
        return found

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
    by_intent, by_topic = _flows(policy, mandatory)
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
        flows_by_intent=by_intent,
        flows_by_topic=by_topic,
    )


def _held_back(
    flows: list[Flow], s: Signals, hits: list[TriggerHit]
) -> tuple[list[TriggerHit], str]:
    """`hits` less what `flows` hold back, unless the bot cannot finish or the customer insists;
    and what was held, for the decision's reason."""
    failed = s.system_boundary is not None and s.system_boundary.status is not BotStatus.ok
    if failed or s.human_request or s.repeat or any(hit.code == "frustration" for hit in hits):
        flows = [flow for flow in flows if not flow.hands_off]
        if not flows:
            return hits, ""
    if len(flows) == 1:
        held, families, kinds = flows[0].held, flows[0].families, flows[0].kinds
    else:
        held = frozenset().union(*(flow.held for flow in flows))
        families = frozenset().union(*(flow.families for flow in flows))
        kinds = frozenset().union(*(flow.kinds for flow in flows))
    kept: list[TriggerHit] = []
    dropped: list[str] = []
    for hit in hits:
        code = hit.code
        if code in held or (code.startswith("risk.") and code[5:] in families):
            dropped.append(code)
            continue
        if kinds and code == "revenue_opportunity" and isinstance(hit.value, list):
            rest = [kind for kind in hit.value if kind not in kinds]
            if len(rest) < len(hit.value):
                dropped.append(f"{code} ({', '.join(k for k in hit.value if k in kinds)})")
            if not rest:
                continue
            if len(rest) < len(hit.value):
                # An upgrade beside a covered purchase still fires, with what is left.
                hit = TriggerHit(code=code, value=rest, threshold=hit.threshold)
        kept.append(hit)
    if not dropped:
        return kept, ""
    names = ", ".join(dict.fromkeys(flow.name for flow in flows))
    return kept, f"the bot finishes it ({names}): {', '.join(dropped)}"


def _flows(
    policy: Policy, mandatory: frozenset[str]
) -> tuple[dict[str, Flow], dict[str, tuple[Flow, ...]]]:
    """The flows of `bot_capabilities` and `self_service`, by intent and by topic."""
    entries: list[tuple[Capability | SelfService, bool]] = [
        *((entry, True) for entry in policy.bot_capabilities),
        *((entry, False) for entry in policy.self_service),
    ]
    by_intent: dict[str, Flow] = {}
    by_topic: dict[str, list[Flow]] = {}
    for entry, hands_off in entries:
        # Validation refuses a mandatory trigger or topic; a policy changed in code
        # (model_copy does not validate) still never holds one back.
        topics = [
            topic
            for topic in (entry.topics if isinstance(entry, Capability) else [])
            if topic_trigger(topic) not in mandatory
        ]
        flow = Flow(
            name=entry.name,
            min_confidence=entry.min_confidence,
            held=frozenset(entry.defer) - mandatory,
            families=frozenset(t for t in topics if t not in REVENUE_KINDS),
            kinds=frozenset(t for t in topics if t in REVENUE_KINDS),
            hands_off=hands_off,
        )
        if not (flow.held or flow.families or flow.kinds):
            continue
        for intent in entry.intents:
            # Validation keeps each intent in one entry; in code, the first one listing it wins.
            by_intent.setdefault(intent.lower(), flow)
        for topic in topics:
            by_topic.setdefault(topic, []).append(flow)
    return by_intent, {topic: tuple(flows) for topic, flows in by_topic.items()}


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
