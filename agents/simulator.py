"""Simulated bots: drive generated conversations against a running pipeline.

`SimulatedBot.run` publishes each conversation's turns in order through a `BotClient` at an
overall pace (turns per second), many conversations at once so their turns interleave, and
reacts to the pipeline's directives the way DESIGN.md asks a bot to:

- `gather`: the simulated customer answers with the requested fields, as a customer turn
  with the values in `nlu.slots` (`scenarios.gather_answer`), before the next scripted turn;
- `clarify`: nothing to invent: the script's next turns are the bot's clarifying question and
  the customer's rephrasing;
- `status` and `pause`: a human is taking over, so the bot stops answering: scripted bot turns
  are skipped from then on (the customer's turns still go out); `resume` undoes that;
- `disclose`: recorded (a real bot shows the text).

Turns are renumbered (`seq` 0, 1, ... as published, since answers are inserted and bot turns
dropped) and restamped with the current time, so latency measured from `ts` is real. After
its script, a conversation lingers `settle` seconds for a late `gather`. Everything is bounded
by `deadline`, a `clock()` value (time.monotonic by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import structlog

from warmhandoff.agents.client import ClientStats
from warmhandoff.agents.scenarios import Conversation, gather_answer
from warmhandoff.streams.contract.models import Directive, DirectiveType, Nlu, Role, Turn

log = structlog.get_logger(__name__)

#: A human owns the conversation after these: the bot stops answering.
_SILENCING = frozenset({DirectiveType.status, DirectiveType.pause})


class DirectiveFeed(Protocol):
    """What `BotClient.directives()` returns: an async iterator that can be closed."""

    def __aiter__(self) -> AsyncIterator[Directive]: ...

    async def aclose(self) -> None: ...


class BotConnection(Protocol):
    """The part of `BotClient` a simulated bot uses (tests pass a fake)."""

    stats: ClientStats

    @property
    def watching_all(self) -> bool: ...

    def watch(self, conversation_id: str) -> None: ...

    def unwatch(self, conversation_id: str) -> None: ...

    def directives(self) -> DirectiveFeed: ...

    async def publish(self, turn: Turn, /) -> object: ...


@dataclass
class ConversationReport:
    """What happened to one conversation during a run."""

    conversation_id: str
    scenario: str
    family: str
    expect_escalation: bool
    turns_published: int = 0
    directives: list[tuple[DirectiveType, float]] = field(default_factory=list)  # (type, s)
    first_status_latency: float | None = None  # s from the causing turn to its status
    gathers_answered: int = 0
    finished: bool = False  # the whole script went out before the deadline


@dataclass
class SimulationReport:
    """The outcome of `SimulatedBot.run`."""

    conversations: int
    turns_published: int
    directives_by_type: dict[str, int]
    first_status_latency: dict[str, float]  # conversation_id -> seconds
    per_conversation: dict[str, ConversationReport]
    unfinished: int
    duration: float
    directives_invalid: int

    def escalated(self) -> set[str]:
        """Conversations that were told they are being transferred (a `status` directive)."""
        return set(self.first_status_latency)


class _Pacer:
    """Hands out publish slots at `rate` per second, first come first served."""

    def __init__(self, rate: float, clock: Callable[[], float]) -> None:
        self._interval = 1.0 / rate
        self._clock = clock
        self._next = clock()

    async def slot(self, deadline: float) -> bool:
        """Wait for the next publish slot; False (at once) when it would be past `deadline`."""
        now = self._clock()
        at = max(now, self._next)
        if at >= deadline:
            return False
        self._next = at + self._interval
        if at > now:
            await asyncio.sleep(at - now)  # pacing, not synchronisation
        return True


@dataclass
class _Sim:
    """A conversation in flight."""

    conversation: Conversation
    report: ConversationReport
    script: deque[Turn]
    answers: deque[Turn] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    silenced: bool = False
    seq: int = 0
    published_at: dict[int, float] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)

    def next_turn(self) -> Turn | None:
        """The next turn to publish: a pending answer first, then the script."""
        if self.answers:
            return self.answers.popleft()
        while self.script:
            turn = self.script.popleft()
            if turn.role is Role.bot and self.silenced:
                continue  # a human owns the conversation: the bot stays quiet
            return turn
        return None


class SimulatedBot:
    """Drives conversations through a `BotClient` and obeys the directives that come back."""

    def __init__(
        self,
        client: BotConnection,
        *,
        max_active: int = 100,
        turn_gap: float = 0.2,
        settle: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._max_active = max_active
        self._turn_gap = turn_gap  # least time between two turns of one conversation
        self._settle = settle
        self._clock = clock
        self._now = now
        self._sims: dict[str, _Sim] = {}
        self._by_type: Counter[str] = Counter()
        self._started = 0.0

    async def run(
        self, conversations: Iterable[Conversation], *, rate: float, deadline: float
    ) -> SimulationReport:
        """Publish every conversation at `rate` turns/s overall, react, and report by `deadline`.

        `deadline` is a `clock()` value (time.monotonic by default), not a duration.
        """
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._started = self._clock()
        self._by_type = Counter()
        # Conversations enter in the order their customers arrived.
        ordered = sorted(conversations, key=lambda c: (c.turns[0].ts, c.conversation_id))
        self._sims = {c.conversation_id: _new_sim(c) for c in ordered}
        stream = self._client.directives()  # registered now: before the first turn goes out
        watched = [] if self._client.watching_all else list(self._sims)
        for cid in watched:
            self._client.watch(cid)
        reader = asyncio.create_task(self._read(stream))
        pacer = _Pacer(rate, self._clock)
        active = asyncio.Semaphore(self._max_active)
        try:
            async with asyncio.TaskGroup() as group:
                for sim in self._sims.values():
                    group.create_task(self._drive(sim, pacer, active, deadline))
        except ExceptionGroup as failed:
            # One publish failed (the broker is gone): report that error, not a group of one.
            raise failed.exceptions[0] from None
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            await stream.aclose()
            for cid in watched:
                self._client.unwatch(cid)
        report = self._report()
        log.info(
            "simulation.done",
            conversations=report.conversations,
            turns=report.turns_published,
            unfinished=report.unfinished,
            directives=sum(report.directives_by_type.values()),
        )
        return report

    async def _drive(
        self, sim: _Sim, pacer: _Pacer, active: asyncio.Semaphore, deadline: float
    ) -> None:
        """Publish one conversation's turns, then linger for a late `gather`."""
        async with active:
            while (turn := sim.next_turn()) is not None:
                if not await pacer.slot(deadline):
                    return
                await self._publish(sim, turn)
                await self._wait(sim, min(self._turn_gap, deadline - self._clock()))
        sim.report.finished = True
        linger_until = min(deadline, self._clock() + self._settle)
        while self._clock() < linger_until:
            await self._wait(sim, linger_until - self._clock())
            while (turn := sim.next_turn()) is not None:
                if not await pacer.slot(deadline):
                    return
                await self._publish(sim, turn)

    async def _publish(self, sim: _Sim, scripted: Turn) -> None:
        turn = scripted.model_copy(update={"seq": sim.seq, "ts": self._now()})
        sim.published_at[sim.seq] = self._clock()
        sim.seq += 1
        await self._client.publish(turn)
        sim.report.turns_published += 1

    async def _wait(self, sim: _Sim, seconds: float) -> None:
        """Wait up to `seconds`, sooner when a directive gave this conversation something to say."""
        if seconds > 0 and not sim.answers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sim.wake.wait(), seconds)
        else:
            await asyncio.sleep(0)  # let the directive reader and other conversations run
        sim.wake.clear()

    async def _read(self, stream: DirectiveFeed) -> None:
        async for directive in stream:
            sim = self._sims.get(directive.conversation_id)
            if sim is not None and directive.directive_id not in sim.seen:
                sim.seen.add(directive.directive_id)  # at-least-once: obey each id once
                self._obey(sim, directive)

    def _obey(self, sim: _Sim, directive: Directive) -> None:
        """Record the directive and react as a bot would."""
        received = self._clock()
        sim.report.directives.append((directive.type, received - self._started))
        self._by_type[directive.type.value] += 1
        if directive.type is DirectiveType.status and sim.report.first_status_latency is None:
            produced = sim.published_at.get(directive.seq)
            if produced is not None:
                sim.report.first_status_latency = received - produced
        if directive.type in _SILENCING:
            sim.silenced = True
        elif directive.type is DirectiveType.resume:
            sim.silenced = False
        elif directive.type is DirectiveType.gather:
            sim.answers.append(self._answer(sim, directive.fields))
            sim.report.gathers_answered += 1
            sim.wake.set()

    def _answer(self, sim: _Sim, fields: list[str]) -> Turn:
        """The customer's answer to a `gather` (seq and ts are set when it is published)."""
        text, slots = gather_answer(sim.conversation, fields)
        first = sim.conversation.turns[0]
        return Turn(
            conversation_id=first.conversation_id,
            seq=0,
            ts=self._now(),
            channel=first.channel,
            role=Role.customer,
            text=text,
            locale=first.locale,
            customer=first.customer,
            nlu=Nlu(intent="provide_details", confidence=0.95, slots=slots),
        )

    def _report(self) -> SimulationReport:
        reports = {cid: sim.report for cid, sim in self._sims.items()}
        latencies = {
            cid: r.first_status_latency
            for cid, r in reports.items()
            if r.first_status_latency is not None
        }
        return SimulationReport(
            conversations=len(reports),
            turns_published=sum(r.turns_published for r in reports.values()),
            directives_by_type=dict(self._by_type),
            first_status_latency=latencies,
            per_conversation=reports,
            unfinished=sum(not r.finished for r in reports.values()),
            duration=self._clock() - self._started,
            directives_invalid=self._client.stats.directives_invalid,
        )


def _new_sim(conversation: Conversation) -> _Sim:
    scenario = conversation.scenario
    report = ConversationReport(
        conversation_id=conversation.conversation_id,
        scenario=scenario.name,
        family=scenario.family,
        expect_escalation=scenario.expect_escalation,
    )
    return _Sim(conversation, report, deque(conversation.turns))
