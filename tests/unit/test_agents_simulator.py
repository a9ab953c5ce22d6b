"""The simulated bot (warmhandoff.agents.simulator) against a loopback fake of the pipeline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest

from warmhandoff.agents.client import ClientStats
from warmhandoff.agents.scenarios import Conversation, generate
from warmhandoff.agents.simulator import BotConnection, SimulatedBot
from warmhandoff.streams.contract.models import Directive, DirectiveType, Role, Turn

pytestmark = pytest.mark.timeout(30)

START = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


class LoopbackPipeline:
    """A fake `BotConnection`: every published turn may produce directives at once."""

    def __init__(self, react: Callable[[Turn], list[Directive]]) -> None:
        self.stats = ClientStats()
        self.watching_all = True
        self.published: list[Turn] = []
        self._react = react
        self._queue: asyncio.Queue[Directive] = asyncio.Queue()

    def watch(self, conversation_id: str) -> None:
        pass

    def unwatch(self, conversation_id: str) -> None:
        pass

    def directives(self) -> AsyncIterator[Directive]:
        return self._feed()

    async def _feed(self) -> AsyncIterator[Directive]:
        while True:
            yield await self._queue.get()

    async def publish(self, turn: Turn) -> None:
        self.published.append(turn)
        for directive in self._react(turn):
            self._queue.put_nowait(directive)

    def of(self, conversation_id: str) -> list[Turn]:
        return [t for t in self.published if t.conversation_id == conversation_id]


def directive(turn: Turn, kind: DirectiveType, *fields: str) -> Directive:
    return Directive(
        directive_id=f"{turn.conversation_id}:{turn.seq}:{kind.value}",
        conversation_id=turn.conversation_id,
        type=kind,
        ts=turn.ts,
        seq=turn.seq,
        message="...",
        fields=list(fields),
    )


def pick(name: str, n: int = 200) -> Conversation:
    return next(c for c in generate(n, seed=1, start=START) if c.scenario.name == name)


def gather_then_status(turn: Turn) -> list[Directive]:
    """A tiny pipeline: a payment complaint needs the order id, then is transferred."""
    if turn.role is not Role.customer:
        return []
    if turn.nlu is not None and "order_id" in turn.nlu.slots:
        return [directive(turn, DirectiveType.status)]
    if "charged twice" in turn.text:
        # At-least-once delivery: the same directive twice must be obeyed once.
        return [directive(turn, DirectiveType.gather, "order_id")] * 2
    return []


def test_the_fake_is_a_bot_connection() -> None:
    fake: BotConnection = LoopbackPipeline(lambda _: [])
    assert fake.watching_all


async def test_gather_is_answered_and_status_silences_the_bot() -> None:
    conversation = pick("card_read_aloud")
    pipeline = LoopbackPipeline(gather_then_status)
    # A short gap between a conversation's turns leaves room for the directive to arrive.
    bot = SimulatedBot(pipeline, turn_gap=0.05, settle=0.2)
    report = await bot.run([conversation], rate=500, deadline=time.monotonic() + 10)

    turns = pipeline.of(conversation.conversation_id)
    assert [t.seq for t in turns] == list(range(len(turns)))
    first, answer = turns[0], turns[1]
    assert "charged twice" in first.text
    assert answer.role is Role.customer
    assert answer.nlu is not None
    assert answer.nlu.slots == {"order_id": conversation.facts["order"]}
    assert conversation.facts["order"] in answer.text
    # After the status directive the bot stays quiet; the customer's turns still go out.
    assert all(t.role is Role.customer for t in turns[1:])
    assert len(turns) == len(conversation.turns) - 1 + 1  # one bot turn dropped, one answer

    record = report.per_conversation[conversation.conversation_id]
    assert [kind for kind, _ in record.directives] == [DirectiveType.gather, DirectiveType.status]
    assert record.gathers_answered == 1
    assert record.finished
    assert report.directives_by_type == {"gather": 1, "status": 1}
    assert report.escalated() == {conversation.conversation_id}
    assert 0.0 <= report.first_status_latency[conversation.conversation_id] < 5.0
    assert report.turns_published == len(turns)
    assert report.unfinished == 0


async def test_late_gather_after_the_script_is_answered() -> None:
    conversation = pick("human_request_en")
    last = conversation.turns[-1]

    def late(turn: Turn) -> list[Directive]:
        if turn.seq == last.seq and turn.role is Role.customer:
            return [directive(turn, DirectiveType.gather, "account_id")]
        return []

    pipeline = LoopbackPipeline(late)
    report = await SimulatedBot(pipeline, turn_gap=0.0, settle=0.3).run(
        [conversation], rate=500, deadline=time.monotonic() + 10
    )
    turns = pipeline.of(conversation.conversation_id)
    assert len(turns) == len(conversation.turns) + 1
    assert turns[-1].nlu is not None
    assert turns[-1].nlu.slots == {"account_id": conversation.facts["account"]}
    assert report.per_conversation[conversation.conversation_id].gathers_answered == 1


async def test_benign_conversations_publish_their_script_in_order() -> None:
    conversations = [
        c for c in generate(30, seed=2, start=START) if not c.scenario.expect_escalation
    ]
    pipeline = LoopbackPipeline(lambda _: [])
    report = await SimulatedBot(pipeline, max_active=5, turn_gap=0.0, settle=0.0).run(
        conversations, rate=2000, deadline=time.monotonic() + 10
    )
    assert report.conversations == len(conversations)
    assert report.turns_published == sum(len(c.turns) for c in conversations)
    assert report.directives_by_type == {}
    assert report.unfinished == 0
    for conversation in conversations:
        published = pipeline.of(conversation.conversation_id)
        assert [t.text for t in published] == [t.text for t in conversation.turns]
        assert [t.seq for t in published] == [t.seq for t in conversation.turns]
        assert all(t.ts.tzinfo is not None for t in published)
    # Conversations interleave: some conversation's turns are not back to back.
    positions: dict[str, list[int]] = {}
    for index, published in enumerate(pipeline.published):
        positions.setdefault(published.conversation_id, []).append(index)
    assert any(p[-1] - p[0] >= len(p) for p in positions.values())


async def test_pace_is_respected() -> None:
    conversations = generate(6, seed=3, escalating_share=0.0, start=START)
    total = sum(len(c.turns) for c in conversations)
    pipeline = LoopbackPipeline(lambda _: [])
    rate = 40.0
    started = time.monotonic()
    await SimulatedBot(pipeline, turn_gap=0.0, settle=0.0).run(
        conversations, rate=rate, deadline=time.monotonic() + 20
    )
    assert time.monotonic() - started >= (total - 1) / rate * 0.9


async def test_deadline_stops_the_run() -> None:
    conversations = generate(50, seed=4, start=START)
    pipeline = LoopbackPipeline(lambda _: [])
    started = time.monotonic()
    report = await SimulatedBot(pipeline, settle=0.0).run(
        conversations, rate=20, deadline=time.monotonic() + 0.5
    )
    assert time.monotonic() - started < 3.0
    assert report.unfinished > 0
    assert report.turns_published < sum(len(c.turns) for c in conversations)


async def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        await SimulatedBot(LoopbackPipeline(lambda _: [])).run(
            [], rate=0, deadline=time.monotonic() + 1
        )
