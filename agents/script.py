"""The vocabulary of scripted conversations: scripted turns, customer profiles, scenarios.

A `Scenario` is a short script of customer and bot turns for one situation, with what the
pipeline is expected to do with it. Texts have variants and {placeholders} (order, account,
amount, ...) that `scenarios.generate` fills per conversation from a seeded RNG.

Conventions the detect stage relies on (streams/core/detection.py):
- `nlu` rides on customer turns: it is the bot's reading of what the customer wrote (intent,
  confidence, fallback when no intent matched). Bot turns carry no `nlu`, so a bot reply never
  resets or extends a low-confidence or fallback streak.
- `bot` (an action and its status) rides on the bot turn that reports the action's outcome.
- every turn carries the conversation's `locale`, `channel` and `customer` attributes.

`expect_triggers` lists codes that must fire; others may fire too (a furious customer who
repeats themselves is both `negative_sentiment` and `frustration`). `expect_queue` is the
queue the default policy should route to, or None when any queue is acceptable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from warmhandoff.streams.contract.models import BotStatus, Channel, Role

BENIGN = "benign"
"""The `family` of a conversation the bot handles alone."""


@dataclass(frozen=True)
class ScriptedTurn:
    """One turn of a script: text variants and the metadata the bot attaches."""

    role: Role
    texts: tuple[str, ...]
    intent: str | None = None
    confidence: float | None = None
    fallback: bool = False
    action: str | None = None
    statuses: tuple[BotStatus, ...] = (BotStatus.ok,)


@dataclass(frozen=True)
class Profile:
    """The customer attributes a bot passes along, as ranges a conversation draws from."""

    tiers: tuple[str | None, ...] = ("standard", None)
    verified: float = 0.6  # probability
    churn_risk: tuple[float, float] = (0.02, 0.3)
    lifetime_value: tuple[float, float] = (20.0, 900.0)
    accessibility: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """A scripted conversation and what the pipeline is expected to do with it."""

    name: str
    family: str  # a trigger code from DESIGN.md, or "benign"
    turns: tuple[ScriptedTurn, ...]
    expect_escalation: bool
    expect_triggers: frozenset[str]
    expect_queue: str | None
    # field -> (answer, slot value) templates, over `scenarios.DEFAULT_GATHER`
    on_gather: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    locale: str = "en-US"
    channels: tuple[Channel, ...] = (Channel.chat,)
    profile: Profile = Profile()


def customer_turn(
    *texts: str, intent: str | None = None, confidence: float | None = None, fallback: bool = False
) -> ScriptedTurn:
    """A customer turn."""
    return ScriptedTurn(Role.customer, texts, intent, confidence, fallback)


def bot_turn(
    *texts: str, action: str | None = None, statuses: Sequence[BotStatus] = ()
) -> ScriptedTurn:
    """A bot turn, optionally reporting an action (its status drawn from `statuses`)."""
    return ScriptedTurn(Role.bot, texts, action=action, statuses=tuple(statuses) or (BotStatus.ok,))


def escalating(
    name: str,
    family: str,
    *turns: ScriptedTurn,
    queue: str | None,
    also: Sequence[str] = (),
    locale: str = "en-US",
    channels: tuple[Channel, ...] = (Channel.chat,),
    profile: Profile = Profile(),
    on_gather: Mapping[str, tuple[str, str]] | None = None,
) -> Scenario:
    """A scenario that should escalate with its family's trigger (and the `also` ones)."""
    triggers = frozenset({family, *also})
    return Scenario(
        name, family, turns, True, triggers, queue, on_gather or {}, locale, channels, profile
    )


def benign(name: str, *turns: ScriptedTurn) -> Scenario:
    """A conversation the bot handles alone."""
    return Scenario(name, BENIGN, turns, False, frozenset(), None)
