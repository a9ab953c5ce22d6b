"""The contact centre as routing sees it: agents (from `agent.presence`), queues (from the
policy) and the handoffs waiting for a human.

Who may take a handoff (`serves`) is the one rule every routing decision goes through:
- the agent speaks the handoff's language (never relaxed);
- the agent serves the customer's entitlement tier when the handoff carries one (never
  relaxed); an agent with no `tiers` serves customers without an entitlement only;
- the agent works the handoff's channel (an agent listing no channels works every channel);
- the agent has every mandatory skill of at least one queue the handoff may be served by:
  its own queue (with the rule's skills, plus the optional skills until a relax step drops
  them), and the queues it was widened or overflowed to (their skills).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from warmhandoff.streams.contract.models import AgentPresence, HandoffRequest, PresenceState
from warmhandoff.streams.policy.hours import BusinessHours, parse_hours
from warmhandoff.streams.policy.model import Policy, RelaxStep, RightChannel
from warmhandoff.streams.routing.exceptions import UnknownQueue

ON_SHIFT = frozenset({PresenceState.available, PresenceState.busy})


def _language(code: str | None) -> str | None:
    """Agents and handoffs are matched on the primary language subtag, lower case."""
    if not code:
        return None
    return code.replace("_", "-").split("-", 1)[0].lower()


@dataclass(frozen=True, slots=True)
class Agent:
    """One human agent's routing-relevant presence."""

    agent_id: str
    state: PresenceState
    skills: Mapping[str, int]
    languages: frozenset[str]
    channels: frozenset[str]  # empty: every channel
    capacity: int
    active: int
    tiers: frozenset[str]  # entitlement tiers served, lower case

    @classmethod
    def from_presence(cls, presence: AgentPresence) -> Agent:
        """The agent as an `agent.presence` event describes it."""
        return cls(
            agent_id=presence.agent_id,
            state=presence.state,
            skills=dict(presence.skills),
            languages=frozenset(x for x in map(_language, presence.languages) if x),
            channels=frozenset(c.value for c in presence.channels),
            capacity=presence.capacity,
            active=presence.active,
            tiers=frozenset(t.lower() for t in presence.tiers),
        )

    @property
    def on_shift(self) -> bool:
        """Logged in and working (available or busy), so it will take work soon."""
        return self.state in ON_SHIFT

    @property
    def free(self) -> int:
        """Chats this agent can start now."""
        if self.state is not PresenceState.available:
            return 0
        return max(0, self.capacity - self.active)


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """A policy queue, with what routing needs precomputed."""

    name: str
    skills: frozenset[str]
    optional_skills: frozenset[str]
    languages: frozenset[str]
    channels: frozenset[str]
    tiers: frozenset[str]
    sla_target: float
    sla_seconds: int
    overflow: str | None
    hours: BusinessHours | None
    relax: tuple[RelaxStep, ...]
    right_channel: RightChannel | None
    ticket_response_seconds: int

    def is_open(self, at: datetime) -> bool:
        """Whether the queue is within its business hours at `at`."""
        return self.hours is None or self.hours.is_open(at)

    def admits(self, handoff: Waiting) -> str | None:
        """Why this queue cannot take `handoff` (language, tier, channel), or None."""
        if self.languages and handoff.language not in self.languages:
            return f"{self.name} does not serve language {handoff.language}"
        if self.tiers and (handoff.entitlement is None or handoff.entitlement not in self.tiers):
            return f"{self.name} does not serve tier {handoff.entitlement}"
        if self.channels and handoff.channel and handoff.channel not in self.channels:
            return f"{self.name} does not serve channel {handoff.channel}"
        return None


def queues_from_policy(policy: Policy) -> dict[str, QueueSpec]:
    """Every queue of the policy, by name."""
    return {
        name: QueueSpec(
            name=name,
            skills=frozenset(q.skills),
            optional_skills=frozenset(q.optional_skills),
            languages=frozenset(q.languages),
            channels=frozenset(c.value for c in q.channels),
            tiers=frozenset(t.lower() for t in q.entitlement),
            sla_target=q.sla.target,
            sla_seconds=q.sla.seconds,
            overflow=q.overflow,
            hours=parse_hours(q.hours) if q.hours else None,
            relax=tuple(q.relax),
            right_channel=q.right_channel,
            ticket_response_seconds=q.ticket_response_seconds,
        )
        for name, q in policy.queues.items()
    }


@dataclass(slots=True)
class Waiting:
    """A handoff waiting for a human: its requirements and where routing has taken it."""

    handoff_id: str
    conversation_id: str
    origin: str  # the queue the decision chose
    queue: str  # the queue it is reported in now (origin, or where it overflowed)
    skills: frozenset[str]  # the origin's mandatory skills (the rule's, when it gave some)
    optional: frozenset[str]  # the origin's optional skills
    optional_required: bool  # until a drop_optional_skills step is taken
    language: str | None
    entitlement: str | None
    channel: str | None
    priority: int
    sla_start: datetime  # the customer's first unmet need: the SLA clock
    sla_seconds: int
    enqueued_at: datetime
    accepted: tuple[str, ...] = ()  # queues whose agents may take it, origin first
    steps_taken: int = 0  # relax steps of the origin queue already taken
    offered: bool = False  # the right-channel offer was made
    overflowed: frozenset[str] = field(default_factory=frozenset)
    credit_seconds: float = 0.0  # credited waiting: counts as waited this much more

    @classmethod
    def from_request(
        cls,
        request: HandoffRequest,
        queues: Mapping[str, QueueSpec],
        now: datetime,
        credits: Mapping[int, float] | None = None,
    ) -> Waiting:
        """A handoff request entering routing at `now`, with its priority's credited waiting."""
        routing = request.routing
        spec = queues.get(routing.queue)
        if spec is None:
            raise UnknownQueue(f"handoff names unknown queue {routing.queue!r}")
        optional = spec.optional_skills - frozenset(routing.skills)
        drops = any(step.drop_optional_skills for step in spec.relax)
        channel = routing.channel or request.channel
        return cls(
            handoff_id=request.handoff_id,
            conversation_id=request.conversation_id,
            origin=routing.queue,
            queue=routing.queue,
            skills=frozenset(routing.skills) or spec.skills,
            optional=optional,
            # Optional skills are required only while a step to drop them is still ahead;
            # a queue that never drops them treats them as a preference.
            optional_required=bool(optional) and drops,
            language=_language(routing.language),
            entitlement=routing.entitlement.lower() if routing.entitlement else None,
            channel=channel.value if channel else None,
            priority=routing.priority,
            sla_start=request.first_unmet_need_at,
            sla_seconds=routing.sla_seconds,
            enqueued_at=now,
            accepted=(routing.queue,),
            credit_seconds=(credits or {}).get(routing.priority, 0.0),
        )

    def required_skills(self, queue: str, queues: Mapping[str, QueueSpec]) -> frozenset[str]:
        """The skills an agent needs to take this handoff as part of `queue`."""
        if queue == self.origin:
            return self.skills | self.optional if self.optional_required else self.skills
        return queues[queue].skills

    def sla_deadline(self) -> datetime:
        """When the SLA is broken if nobody has answered."""
        return self.sla_start + timedelta(seconds=self.sla_seconds)


def serves(agent: Agent, handoff: Waiting, queues: Mapping[str, QueueSpec]) -> bool:
    """Whether `agent` may take `handoff` at all (capacity aside): see the module docstring."""
    if handoff.language is not None and handoff.language not in agent.languages:
        return False
    if handoff.entitlement is not None and handoff.entitlement not in agent.tiers:
        return False
    if handoff.channel is not None and agent.channels and handoff.channel not in agent.channels:
        return False
    skills = agent.skills.keys()
    return any(handoff.required_skills(q, queues) <= skills for q in handoff.accepted)


def eligible(
    agents: Iterable[Agent], handoff: Waiting, queues: Mapping[str, QueueSpec]
) -> list[Agent]:
    """The agents on shift who may take `handoff`."""
    return [a for a in agents if a.on_shift and serves(a, handoff, queues)]


def next_opening(hours: BusinessHours, at: datetime) -> datetime:
    """The next time at or after `at` when `hours` are open (`at` itself when open)."""
    if hours.always or hours.zone is None or hours.is_open(at):
        return at
    local = at.astimezone(hours.zone)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        starts = sorted(w.start for w in hours.windows if w.day == day.weekday())
        for minute in starts:
            start = datetime.combine(day, time(), tzinfo=hours.zone) + timedelta(minutes=minute)
            if start > at:
                return start
    return at  # no window at all: parse_hours never builds such hours
