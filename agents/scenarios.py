"""Deterministic conversations from the scenario catalogue, for the demo, tests and benchmarks.

`generate` draws conversations from `catalogue.ESCALATING` and `catalogue.BENIGN_SCENARIOS`
with a seeded RNG: the escalating share is a parameter (default 20 %: most real conversations
never need a human), every scenario appears once per round so small runs still cover every
trigger family, and each conversation gets its own ids, amounts, customer attributes, channel,
text variants and timing. The same seed always gives the same conversations.

`gather_answer` is what a simulated customer says when the pipeline asks for fields.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from warmhandoff.agents.catalogue import BENIGN_SCENARIOS, ESCALATING, SCENARIOS, TRIGGER_FAMILIES
from warmhandoff.agents.script import BENIGN, Profile, Scenario, ScriptedTurn
from warmhandoff.streams.contract.models import BotAction, Customer, Nlu, Role, Turn

__all__ = [
    "BENIGN",
    "BENIGN_SCENARIOS",
    "DEFAULT_GATHER",
    "ESCALATING",
    "SCENARIOS",
    "TRIGGER_FAMILIES",
    "Conversation",
    "Profile",
    "Scenario",
    "ScriptedTurn",
    "by_name",
    "gather_answer",
    "generate",
]

#: What a customer answers when asked for a field (`gather`): the sentence and the slot value
#: the bot extracts from it, both templates over the conversation's facts. The field names
#: are the ones the default policy requires and the detect stage collects.
DEFAULT_GATHER: Mapping[str, tuple[str, str]] = {
    "order_id": ("The order number is {order}.", "{order}"),
    "account_id": ("My account number is {account}.", "{account}"),
    "customer_id": ("My customer number is {customer}.", "{customer}"),
    "case_id": ("The case number is {case}.", "{case}"),
    "invoice_id": ("The invoice is {invoice}.", "{invoice}"),
    "tracking_id": ("The tracking number is {tracking}.", "{tracking}"),
    "email": ("My email is {email}.", "{email}"),
    "phone": ("My phone number is {phone}.", "{phone}"),
    "name": ("My name is {name}.", "{name}"),
    # The bot ran its verification step (security question) and it passed.
    "verified_identity": ("Sure: my name is {name} and my account number is {account}.", "yes"),
    "consent": ("Yes, I consent.", "yes"),
    "disclosure_ack": ("Yes, I understand.", "yes"),
}

_NAMES = ("Alex Morgan", "Sam Patel", "Jordan Lee", "Maria Garcia", "Chris Novak", "Ana Souza")
_CITIES = ("Leeds", "Austin", "Toronto", "Dublin", "Denver", "Bristol")


@dataclass(frozen=True)
class Conversation:
    """One generated conversation: its id, scenario, facts and turns (seq 0, 1, ...)."""

    conversation_id: str
    scenario: Scenario
    turns: tuple[Turn, ...]
    facts: Mapping[str, str]  # the values its placeholders were filled with

    @property
    def id(self) -> str:
        """The conversation id (same as `conversation_id`)."""
        return self.conversation_id


def by_name(name: str) -> Scenario:
    """The scenario called `name` (KeyError when there is none)."""
    for scenario in SCENARIOS:
        if scenario.name == name:
            return scenario
    raise KeyError(name)


def generate(
    n: int,
    *,
    seed: int,
    escalating_share: float = 0.2,
    start: datetime,
    prefix: str = "c",
) -> list[Conversation]:
    """`n` conversations, deterministic for `seed`, about `escalating_share` of them escalating."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    if not 0.0 <= escalating_share <= 1.0:
        raise ValueError("escalating_share must be in [0, 1]")
    rng = random.Random(seed)
    n_escalating = round(n * escalating_share)
    picks = _cycle(ESCALATING, n_escalating, rng) + _cycle(BENIGN_SCENARIOS, n - n_escalating, rng)
    rng.shuffle(picks)
    # Conversations start spread over a window that grows with n, like real arrivals.
    window = max(60.0, n * 0.5)
    width = len(str(max(n - 1, 0)))
    # "c" gives c-0, c-1, ...; a prefix that already ends in a separator is used as is.
    stem = prefix if prefix[-1:] in ("-", "_", ".", ":", "/") else f"{prefix}-"
    conversations = []
    for index, scenario in enumerate(picks):
        conversation_id = f"{stem}{index:0{width}d}"
        begin = start + timedelta(seconds=rng.uniform(0.0, window))
        conversations.append(_conversation(conversation_id, scenario, begin, rng))
    return conversations


def gather_answer(conversation: Conversation, fields: Sequence[str]) -> tuple[str, dict[str, str]]:
    """What the customer answers when asked for `fields`: the text and the NLU slots."""
    answers = {**DEFAULT_GATHER, **conversation.scenario.on_gather}
    sentences: list[str] = []
    slots: dict[str, str] = {}
    for name in fields:
        if name not in answers:
            # An honest "I don't know" rather than a made-up value: the transfer then goes
            # ahead at the gather timeout with the field marked missing.
            sentences.append(f"I'm not sure what my {name.replace('_', ' ')} is.")
            continue
        sentence, slot = answers[name]
        sentences.append(sentence.format_map(conversation.facts))
        slots[name] = slot.format_map(conversation.facts)
    return " ".join(sentences) or "Okay.", slots


def _cycle(scenarios: Sequence[Scenario], count: int, rng: random.Random) -> list[Scenario]:
    """`count` scenarios: every one once per round (shuffled), so all appear when count allows."""
    picks: list[Scenario] = []
    while len(picks) < count:
        round_ = list(scenarios)
        rng.shuffle(round_)
        picks.extend(round_[: count - len(picks)])
    return picks


def _facts(rng: random.Random) -> dict[str, str]:
    """Per-conversation values for the placeholders (ids look like real ones, none are)."""
    name = rng.choice(_NAMES)
    return {
        "order": f"A-{rng.randint(10000, 99999)}",
        "account": f"AC-{rng.randint(100000, 999999)}",
        "customer": f"u-{rng.randint(1000, 9999)}",
        "case": f"CS-{rng.randint(10000, 99999)}",
        "invoice": f"INV-{rng.randint(100000, 999999)}",
        "tracking": f"1Z{rng.randint(10**9, 10**10 - 1)}",
        "amount": f"${rng.randint(12, 480)}.{rng.randint(0, 99):02d}",
        "seats": str(rng.choice((25, 40, 50, 80, 120))),
        "city": rng.choice(_CITIES),
        "name": name,
        "email": f"{name.split()[0].lower()}{rng.randint(1, 99)}@example.com",
        "phone": f"+1 555 01{rng.randint(10, 99)}",
    }


def _customer(profile: Profile, facts: Mapping[str, str], rng: random.Random) -> Customer:
    return Customer(
        id=facts["customer"],
        tier=rng.choice(profile.tiers),
        verified=rng.random() < profile.verified,
        churn_risk=round(rng.uniform(*profile.churn_risk), 2),
        lifetime_value=round(rng.uniform(*profile.lifetime_value), 2),
        accessibility=list(profile.accessibility),
    )


def _conversation(
    conversation_id: str, scenario: Scenario, begin: datetime, rng: random.Random
) -> Conversation:
    facts = _facts(rng)
    customer = _customer(scenario.profile, facts, rng)
    channel = rng.choice(scenario.channels)
    ts = begin
    turns: list[Turn] = []
    for seq, scripted in enumerate(scenario.turns):
        if seq:
            # Customers take a while to type; bots answer within a couple of seconds.
            gap = (
                rng.uniform(4.0, 30.0) if scripted.role is Role.customer else rng.uniform(0.5, 2.5)
            )
            ts += timedelta(seconds=gap)
        turns.append(
            Turn(
                conversation_id=conversation_id,
                seq=seq,
                ts=ts,
                channel=channel,
                role=scripted.role,
                text=rng.choice(scripted.texts).format_map(facts),
                locale=scenario.locale,
                customer=customer,
                nlu=_nlu(scripted, rng),
                bot=_bot(scripted, rng),
            )
        )
    return Conversation(conversation_id, scenario, tuple(turns), facts)


def _nlu(scripted: ScriptedTurn, rng: random.Random) -> Nlu | None:
    if scripted.role is not Role.customer:
        return None
    if scripted.intent is None and not scripted.fallback:
        return None
    confidence = None
    if scripted.confidence is not None:
        jitter = rng.uniform(-0.04, 0.04)
        confidence = round(min(1.0, max(0.0, scripted.confidence + jitter)), 2)
    return Nlu(intent=scripted.intent, confidence=confidence, fallback=scripted.fallback)


def _bot(scripted: ScriptedTurn, rng: random.Random) -> BotAction | None:
    if scripted.action is None:
        return None
    return BotAction(action=scripted.action, status=rng.choice(scripted.statuses))
