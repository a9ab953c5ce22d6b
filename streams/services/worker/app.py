"""The Faust application: the one composition root of the worker.

Input topics: `conversation.turns` and `handoff.events` (key conversation_id, the same
partition count, so a conversation's turns and lifecycle events land on the same worker as its
table row). Output topics: `conversation.signals`, `escalation.decisions`, `handoff.requests`,
`bot.directives`, `handoff.events` (the pipeline's own: a customer's cancel, a failed
delivery, a re-route), `deadletter`, all keyed by conversation_id so one conversation stays
ordered on one partition end to end.

Detect, decide, prepare and transfer run in one agent, in process, for each turn: the stages
are separate pure modules (detection, policy.decide, prepare, transfer) and each publishes its
own topic, but the hot path does not pay a Kafka round trip between them. Per-conversation
state is one Faust table (RocksDB in real workers) written only by this agent
(concurrency=1). Idempotency: the state remembers the last applied `seq`, so a turn redelivered
after a crash changes nothing and produces nothing; the outputs of a turn are produced before
its offset is committed (Faust flushes the producer before each commit), so nothing is lost.
That is at-least-once, the default. Under WARMHANDOFF_PROCESSING_GUARANTEE=exactly_once the
outputs of an input record are sent in the Kafka transaction that commits its partition's
offset (`send`), so read_committed readers see them once they commit, or never.

Deadlines: a transfer waiting for fields, and a handoff waiting to be delivered or accepted,
is listed with its next deadline in the small `pending_transfers` table; a timer on each worker
publishes a tick for every overdue one to the internal timers topic (co-partitioned with the
turns), and the tick agent acts inside the conversation's partition, where the state can be
changed safely (streams/core/lifecycle.py: redeliver, fail, re-route, tell the customer).

Three agents write the `conversations` table (turns, handoff events, ticks), each with
concurrency=1 but as separate asyncio tasks on the same partitions. Each handler's
load-modify-publish-save runs under one per-worker asyncio.Lock: the publish awaits broker
acks before the save (kill -9 safety, `_publish_then_save`), and without the lock an event
applied during that await would be overwritten by the turn's older copy of the state.
Uncontended, the lock costs well under a microsecond per turn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import faust
import structlog
from aiokafka.errors import KafkaError
from pydantic import BaseModel

from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.models import (
    Action,
    HandoffEvent,
    HandoffEventType,
    Signals,
    Turn,
)
from warmhandoff.streams.contract.topics import Topics
from warmhandoff.streams.core import lifecycle
from warmhandoff.streams.core.codec import Rejected, dead_letter, decode, decode_turn, encode
from warmhandoff.streams.core.conversation import ConversationState
from warmhandoff.streams.core.lifecycle import Outcome, Timeouts
from warmhandoff.streams.core.pipeline import StepResult, expire_gather, new_state, process_turn
from warmhandoff.streams.core.replies import RankingError, ReplyRanking
from warmhandoff.streams.learning.features import features
from warmhandoff.streams.learning.scorer import MIN_EXAMPLES, LinearScorer, SnapshotError
from warmhandoff.streams.learning.survey import survey_directive
from warmhandoff.streams.policy.model import Policy
from warmhandoff.streams.runtime import metrics, partitioning, storage
from warmhandoff.streams.runtime.faust_app import faust_config, transactional_id
from warmhandoff.streams.runtime.learned_model import (
    REFRESH_SECONDS,
    REPLIES_KEY,
    SNAPSHOT_KEY,
    latest_snapshots,
)
from warmhandoff.streams.runtime.policy_reload import RELOAD_SECONDS, PolicyWatcher
from warmhandoff.streams.runtime.storage import ROCKSDB_OPTIONS

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
Sender = Callable[[str, bytes | None, bytes], Awaitable[Awaitable[object]]]


#: How often the worker measures its consumer lag (seconds).
LAG_INTERVAL_S = 5.0

#: Under exactly-once, the transaction the outputs of the record being handled join: the one
#: that commits its input partition's offset. None in timers and the HTTP intake, whose
#: records answer no input offset and must not wait for (or vanish with) a transaction.
_transaction: ContextVar[str | None] = ContextVar("transaction", default=None)


def utc_now() -> datetime:
    """The wall clock, tz-aware."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Outputs:
    """Real topic names of everything the pipeline publishes."""

    signals: str
    decisions: str
    handoffs: str
    directives: str
    deadletter: str
    timers: str
    events: str
    turns_repartition: str
    events_repartition: str
    audit: str | None  # audit.decisions, None when WARMHANDOFF_AUDIT_DECISIONS is off

    @classmethod
    def from_topics(cls, topics: Topics, *, audit: bool = True) -> Outputs:
        """Resolve names from topics.yaml."""
        return cls(
            signals=topics.name("conversation.signals"),
            decisions=topics.name("escalation.decisions"),
            handoffs=topics.name("handoff.requests"),
            directives=topics.name("bot.directives"),
            deadletter=topics.name("deadletter"),
            timers=topics.name("timers"),
            events=topics.name("handoff.events"),
            turns_repartition=topics.name("repartition.turns"),
            events_repartition=topics.name("repartition.events"),
            audit=topics.name("audit.decisions") if audit else None,
        )


class Pipeline:
    """The wired worker: app, tables and agents for one settings/topics/policy triple."""

    def __init__(
        self,
        settings: WorkerSettings,
        topics: Topics,
        policy: Policy,
        *,
        clock: Clock = utc_now,
        app: faust.App | None = None,
        sender: Sender | None = None,
        consistency_check: bool = True,
    ) -> None:
        self.settings = settings
        self.topics = topics
        self.policy = policy
        self.clock = clock
        self._sender = sender
        self.out = Outputs.from_topics(topics, audit=settings.audit_decisions)
        self.app = app or faust.App(
            topics.faust_app_id,
            **faust_config(settings, topics, consistency_check=consistency_check),
        )
        self.timeouts = Timeouts(
            delivery_seconds=settings.delivery_timeout_seconds,
            accept_seconds=settings.accept_timeout_seconds,
            max_delivery_attempts=settings.max_delivery_attempts,
        )
        self.overflow = {name: queue.overflow for name, queue in policy.queues.items()}
        self._state_lock = asyncio.Lock()
        # The learned trigger's model (streams/learning): restored from `learning.model` once
        # the worker is ready and refreshed periodically; until then turns are not scored.
        self.learned: LinearScorer | None = None
        # The suggested replies' ranking, read with the model; None: the policy's set alone.
        self.replies: ReplyRanking | None = None
        # A configured policy file is watched and reloaded between turns.
        self.policy_watcher = (
            PolicyWatcher(settings.policy_file, policy) if settings.policy_file else None
        )
        self.joined = False
        self._pipeline_seconds = metrics.STAGE_SECONDS.labels("pipeline")
        self._publish_seconds = metrics.STAGE_SECONDS.labels("publish")
        self._declare_tables()
        self._declare_agents()
        self._schedule()
        self._start_counters_at_zero()

    def _declare_tables(self) -> None:
        """The conversation state and the deadlines index, co-partitioned with the turns."""
        partitions = self.topics.spec("conversation.turns").partitions
        # Bounded RocksDB stores sharing one memory budget (streams/runtime/storage.py); other
        # stores take no options.
        store_options = None
        if self.settings.store.startswith("rocksdb"):
            store_options = ROCKSDB_OPTIONS
            budget = storage.use_memory_budget(self.settings.state_memory_mb * storage.MIB)
            metrics.watch_state_memory(budget.used_bytes, budget.total_bytes)
        self.conversations = self.app.Table(
            "conversations",
            default=None,
            partitions=partitions,
            options=store_options,
            changelog_topic=self._topic("changelog.conversations", compacting=True),
            key_type=bytes,
            value_type=bytes,
        )
        self.pending = self.app.Table(
            "pending_transfers",
            default=None,
            partitions=partitions,
            options=store_options,
            changelog_topic=self._topic("changelog.pending_transfers", compacting=True),
            key_type=bytes,
            value_type=bytes,
        )

    def _declare_agents(self) -> None:
        """One agent per input topic, each the only writer of its partitions' state."""
        self.turns_topic = self._topic("conversation.turns")
        self.timers_topic = self._topic("timers")
        self.events_topic = self._topic("handoff.events")
        self.turns_agent = self.app.agent(self.turns_topic, name="turns", concurrency=1)(
            self._turns
        )
        self.timers_agent = self.app.agent(self.timers_topic, name="timers", concurrency=1)(
            self._timers
        )
        self.events_agent = self.app.agent(self.events_topic, name="handoff_events", concurrency=1)(
            self._events
        )
        # What a producer put on another partition than its conversation's comes back through
        # these, to the worker that holds the conversation (streams/runtime/partitioning.py).
        self.turns_repartition_topic = self._topic("repartition.turns")
        self.events_repartition_topic = self._topic("repartition.events")
        # Under exactly-once they are not consumed: with their agents, a worker killed with
        # kill -9 left turns undecided (tests/faults, measured), so misplaced records are then
        # dead-lettered instead (`mispartitioned_action`).
        if self.mispartitioned_action == "repartition":
            self.app.agent(self.turns_repartition_topic, name="turns_repartition", concurrency=1)(
                self._turns
            )
            self.app.agent(self.events_repartition_topic, name="events_repartition", concurrency=1)(
                self._events
            )
        self._partitions = self.topics.spec("conversation.turns").partitions
        self._warned_misplaced: set[str] = set()

    def _schedule(self) -> None:
        """Timers and tasks: overdue deadlines, lag, the learned model, the policy file."""
        self.app.timer(self.settings.timer_interval_seconds)(self._tick_overdue)
        self.app.timer(LAG_INTERVAL_S)(self._measure_lag)
        self.app.task(self._refresh_learned)
        self.app.timer(REFRESH_SECONDS)(self._refresh_learned)
        if self.policy_watcher is not None:
            self.app.timer(RELOAD_SECONDS)(self.reload_policy)
        # mode types receivers with a positional-only sender; this one takes it by position too.
        self.app.on_rebalance_complete.connect(self._on_rebalance_complete)  # type: ignore[arg-type]

    def _start_counters_at_zero(self) -> None:
        """Counters an alert watches start at zero, so a worker's first increment is a change
        (`increase()` does not see a series that is born at 1)."""
        for topic in self._input_topics():
            metrics.CONSUMER_OFFSET_GAPS.labels(topic.get_topic_name())
        for kind in ("turns", "events"):
            for action in ("repartitioned", "dead_lettered"):
                metrics.MISPARTITIONED.labels(kind, action)
        for outcome in lifecycle.DEADLINE_OUTCOMES:
            metrics.HANDOFF_DEADLINES.labels(outcome)
        for kind in HandoffEventType:
            metrics.HANDOFF_EVENTS.labels(kind.value)

    async def _on_rebalance_complete(
        self, sender: Any, *_: Any, signal: Any = None, **__: Any
    ) -> None:
        """Faust signals this once partitions are assigned and tables recovered."""
        self.joined = True
        metrics.READY.set(1)
        log.info("worker.ready", partitions=len(self.app.consumer.assignment()))

    def readiness(self) -> str | None:
        """None when ready to process; otherwise why not (for /readyz)."""
        if not self.joined:
            return "joining the consumer group and recovering tables"
        if self.app.rebalancing:
            return "rebalancing"
        return None

    async def _measure_lag(self) -> None:
        """Consumer lag per input topic: high-water mark minus the next offset to read."""
        consumer = self.app.consumer
        inputs = {topic.get_topic_name() for topic in self._input_topics()}
        lag: dict[str, int] = dict.fromkeys(inputs, 0)
        for tp in consumer.assignment():
            if tp.topic not in inputs:
                continue  # changelogs are read during recovery, not consumed as a stream
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            read = getattr(consumer, "_read_offset", {}).get(tp)  # Faust's private, read only
            behind = highwater - (read + 1 if read is not None else 0)
            lag[tp.topic] = lag.get(tp.topic, 0) + max(0, behind)
        metrics.observe_lag(lag)

    @property
    def mispartitioned_action(self) -> str:
        """What happens to a misplaced record: `WARMHANDOFF_MISPARTITIONED`, except that under
        exactly-once it is always dead-lettered (see `_declare_agents`)."""
        if self.settings.processing_guarantee == "exactly_once":
            return "dead_letter"
        return self.settings.mispartitioned

    def _input_topics(self) -> tuple[faust.TopicT, ...]:
        """Every topic an agent consumes."""
        return (
            self.turns_topic,
            self.events_topic,
            self.timers_topic,
            self.turns_repartition_topic,
            self.events_repartition_topic,
        )

    def _topic(self, key: str, *, compacting: bool = False) -> faust.TopicT:
        """A Faust topic bound to a topics.yaml entry (raw bytes, no Faust envelope)."""
        spec = self.topics.spec(key)
        return self.app.topic(
            self.topics.name(key),
            partitions=spec.partitions,
            key_serializer="raw",
            value_serializer="raw",
            compacting=compacting or None,
            internal=False,
        )

    async def _turns(self, stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        """Agent: every turn through detect → decide → prepare → transfer."""
        decode_seconds = metrics.STAGE_SECONDS.labels("decode")
        async for event in stream.events():
            msg = event.message
            _transaction.set(transactional_id(self.app, msg.topic, msg.partition))
            now = self.clock()
            started = time.perf_counter()
            try:
                turn = decode_turn(msg.value, max_bytes=self.settings.max_turn_bytes)
            except Rejected as rejected:
                await self._dead_letter(rejected, msg, now)
                yield None
                continue
            decode_seconds.observe(time.perf_counter() - started)
            if msg.topic != self.out.turns_repartition and (
                why := self._misplaced(turn.conversation_id, msg.partition)
            ):
                await self._divert(msg, turn.conversation_id, why, now, stage="detect")
                yield None
                continue
            with structlog.contextvars.bound_contextvars(conversation_id=turn.conversation_id):
                async with self._state_lock:
                    await self.handle_turn(turn, now)
            yield None

    async def handle_turn(self, turn: Turn, now: datetime) -> StepResult | None:
        """Apply one decoded turn: state in, outputs out, state saved (hold `_state_lock`)."""
        key = turn.conversation_id.encode()
        raw = self.conversations.get(key)
        state = ConversationState.loads(raw) if raw else new_state(turn.conversation_id)
        had_deadline = state.pending is not None or state.handoff_deadline is not None
        started = time.perf_counter()
        result = process_turn(
            state,
            turn,
            self.policy,
            now=now,
            timeouts=self.timeouts,
            scorer=self._score
            if self.learned is not None and self.policy.triggers.learned.enabled
            else None,
            replies=self.replies,
        )
        self._pipeline_seconds.observe(time.perf_counter() - started)
        if result is None:
            metrics.TURNS_REPLAYED.inc()
            log.debug("turn.redelivered", seq=turn.seq)
            return None
        started = time.perf_counter()
        await self._publish_then_save(key, result, state, had_deadline)
        self._publish_seconds.observe(time.perf_counter() - started)
        metrics.observe_step(result, self.clock())
        return result

    async def reload_policy(self) -> bool:
        """Swap in the policy file's new version if it changed and is valid (off the loop)."""
        if self.policy_watcher is None:
            return False
        policy = await asyncio.to_thread(self.policy_watcher.poll)
        if policy is None:
            return False
        self.policy = policy
        self.overflow = {name: queue.overflow for name, queue in policy.queues.items()}
        return True

    def _score(self, signals: Signals, state: ConversationState) -> float:
        """The learned model's score of a turn (a dot product: a few microseconds)."""
        assert self.learned is not None
        return self.learned.score(features(signals, state))

    async def _refresh_learned(self) -> None:
        """Load the newest learned-model snapshot and replies' ranking; keep the current one
        of each on any failure."""
        try:
            found = await latest_snapshots(self.settings, self.topics, (SNAPSHOT_KEY, REPLIES_KEY))
        except (KafkaError, OSError) as exc:
            log.warning("learned.refresh_failed", error=str(exc)[:200])
            return
        if (ranking := found.get(REPLIES_KEY)) is not None:
            try:
                self.replies = ReplyRanking.from_json(ranking)
            except RankingError as exc:
                log.warning("replies.refresh_failed", error=str(exc)[:200])
        try:
            data = found.get(SNAPSHOT_KEY)
            if data is None:
                return
            scorer = LinearScorer.from_snapshot(data)
        except SnapshotError as exc:
            log.warning("learned.refresh_failed", error=str(exc)[:200])
            return
        if scorer.examples < MIN_EXAMPLES:
            return  # too young to score anything
        if self.learned is None or self.learned.version != scorer.version:
            log.info("learned.loaded", version=scorer.version, examples=scorer.examples)
        self.learned = scorer

    async def _publish_then_save(
        self, key: bytes, result: StepResult, state: ConversationState, had_deadline: bool
    ) -> None:
        """Publish a step's outputs, then store the state that marks the turn as applied.

        The state is written to RocksDB at once while the outputs sit in the producer until
        the next flush, so a kill -9 in between would leave a turn applied (and skipped on
        redelivery) with its outputs lost. For turns that act (a clarify, gather, handoff or
        directive) the state is therefore saved only once the broker has the outputs. Ordinary
        turns are saved without waiting: the ~95% of turns that decide nothing keep full speed,
        and what a crash can cost there is the audit records of the last few milliseconds.
        """
        acks = await self._publish(key, result)
        decision = result.decision
        if result.handoff or result.directives or (decision and decision.action is not Action.none):
            await asyncio.gather(*acks)
        self.conversations[key] = state.dumps()
        self._track_deadline(key, state, had_deadline)

    async def _timers(self, stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        """Agent: a tick for a conversation whose gather may be overdue."""
        async for event in stream.events():
            key = event.key
            msg = event.message
            _transaction.set(transactional_id(self.app, msg.topic, msg.partition))
            with structlog.contextvars.bound_contextvars(
                conversation_id=key.decode(errors="replace")
            ):
                async with self._state_lock:
                    await self.handle_tick(key)
            yield None

    async def handle_tick(self, key: bytes) -> None:
        """Act on whatever deadline of the conversation passed: a gather, a handoff not
        delivered or not accepted in time (hold `_state_lock`)."""
        raw = self.conversations.get(key)
        if not raw:
            if self.pending.get(key) is not None:
                del self.pending[key]
            return
        state = ConversationState.loads(raw)
        now = self.clock()
        result = expire_gather(
            state, self.policy, now=now, timeouts=self.timeouts, replies=self.replies
        )
        if result is not None:
            handoff_id = result.handoff.handoff_id if result.handoff else None
            log.info("gather.expired", handoff_id=handoff_id)
            await asyncio.gather(*await self._publish(key, result))
            self.conversations[key] = state.dumps()
            metrics.GATHER_TIMEOUTS.inc()
            metrics.observe_step(result, self.clock(), turn=False)
        handoff_id = state.handoff_id
        outcome = lifecycle.expire(state, now, self.timeouts, self.overflow)
        if outcome is not None:
            log.info("handoff.deadline", handoff_id=handoff_id, **lifecycle.describe(outcome))
            await asyncio.gather(*await self._publish_outcome(key, outcome))
            self.conversations[key] = state.dumps()
            metrics.HANDOFF_DEADLINES.labels(outcome.deadline or "none").inc()
        self._track_deadline(key, state, True)

    async def _events(self, stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        """Agent: lifecycle events from sinks, CRMs and the contact centre."""
        async for event in stream.events():
            msg = event.message
            _transaction.set(transactional_id(self.app, msg.topic, msg.partition))
            now = self.clock()
            try:
                handoff_event = decode(
                    msg.value, HandoffEvent, max_bytes=self.settings.max_turn_bytes
                )
            except Rejected as rejected:
                await self._dead_letter(rejected, msg, now, stage="lifecycle")
                yield None
                continue
            if msg.key is not None and msg.key != handoff_event.conversation_id.encode():
                # Keyed otherwise, it sits on another partition than its conversation's state.
                wrong = Rejected("wrong_key", "the record key is not the event's conversation_id")
                await self._dead_letter(wrong, msg, now, stage="lifecycle")
                yield None
                continue
            if msg.topic != self.out.events_repartition and (
                why := self._misplaced(handoff_event.conversation_id, msg.partition)
            ):
                await self._divert(msg, handoff_event.conversation_id, why, now, stage="lifecycle")
                yield None
                continue
            with structlog.contextvars.bound_contextvars(
                conversation_id=handoff_event.conversation_id
            ):
                async with self._state_lock:
                    await self.handle_event(handoff_event, now)
            yield None

    async def handle_event(self, event: HandoffEvent, now: datetime) -> Outcome:
        """Apply one lifecycle event to its conversation (hold `_state_lock`)."""
        if event.type is HandoffEventType.csat and event.handoff_id == event.conversation_id:
            # The answer to the survey after a conversation the bot kept (the learner's,
            # streams/learning/survey.py): no handoff to apply it to, and not a rejection.
            log.debug("handoff.contained_csat", conversation_id=event.conversation_id)
            return Outcome()
        key = event.conversation_id.encode()
        raw = self.conversations.get(key)
        state = ConversationState.loads(raw) if raw else new_state(event.conversation_id)
        outcome = lifecycle.apply_event(state, event, now, self.timeouts)
        if outcome.rejected == "echo":
            # The pipeline's own event (a cancel, a failed delivery, a re-route) read back:
            # already applied when it was published; not a rejection worth counting.
            log.debug("handoff.event_echo", handoff_id=event.handoff_id, type=event.type.value)
            return outcome
        if outcome.rejected is not None:
            metrics.HANDOFF_EVENTS_REJECTED.labels(outcome.rejected).inc()
            log.warning(
                "handoff.event_rejected",
                handoff_id=event.handoff_id,
                type=event.type.value,
                source=event.source,
                reason=outcome.rejected,
                status=state.handoff_status,
            )
            return outcome
        metrics.HANDOFF_EVENTS.labels(event.type.value).inc()
        if event.type is HandoffEventType.resolved:
            # After the bot takes over again: the one-question CSAT survey.
            seq = max(0, state.last_seq)
            survey = survey_directive(event.conversation_id, event.handoff_id, seq, now)
            outcome.directives.append(survey)
        if outcome.time_to_accept is not None:
            metrics.TIME_TO_ACCEPT.observe(outcome.time_to_accept)
        log.info(
            "handoff.event",
            handoff_id=event.handoff_id,
            type=event.type.value,
            source=event.source,
            csat=event.csat,
            **lifecycle.describe(outcome),
        )
        await asyncio.gather(*await self._publish_outcome(key, outcome))
        self.conversations[key] = state.dumps()
        self._track_deadline(key, state, True)
        return outcome

    async def _publish_outcome(self, key: bytes, outcome: Outcome) -> list[Awaitable[object]]:
        """Send what a lifecycle step produced: the desk first, then the bot."""
        sends: list[tuple[str, BaseModel]] = [(self.out.handoffs, r) for r in outcome.requests]
        sends.extend((self.out.events, e) for e in outcome.events)
        sends.extend((self.out.directives, d) for d in outcome.directives)
        for directive in outcome.directives:
            metrics.DIRECTIVES.labels(directive.type.value).inc()
        return [await self.send(topic, key, encode(model)) for topic, model in sends]

    async def _tick_overdue(self) -> None:
        """Timer: publish a tick for each local pending transfer past its deadline."""
        now = self.clock()
        overdue = [
            key
            for key, deadline in list(self.pending.items())
            if deadline and datetime.fromisoformat(deadline.decode()) <= now
        ]
        for key in overdue:
            await self.send(self.out.timers, key, b"tick")

    def _track_deadline(self, key: bytes, state: ConversationState, had_deadline: bool) -> None:
        """Keep the small deadlines index (`pending_transfers`) in step with the state."""
        if not had_deadline and state.pending is None and state.handoff_deadline is None:
            return  # the common case: nothing waits on a clock
        deadline = lifecycle.next_deadline(state)
        if deadline is not None:
            encoded = deadline.encode()
            if self.pending.get(key) != encoded:
                self.pending[key] = encoded
        elif had_deadline and self.pending.get(key) is not None:
            del self.pending[key]

    async def _publish(self, key: bytes, result: StepResult) -> list[Awaitable[object]]:
        """Send a step's outputs; Faust flushes them before committing the turn's offset."""
        sends: list[tuple[str, bytes, bytes]] = []
        if result.signals is not None:
            sends.append((self.out.signals, key, encode(result.signals)))
        if result.decision is not None:
            decision = encode(result.decision)
            sends.append((self.out.decisions, key, decision))
            if self.out.audit is not None:
                # The same bytes, keyed by decision_id: compaction keeps one per decision.
                sends.append((self.out.audit, result.decision.decision_id.encode(), decision))
        # Directives before the handoff: disclosure and status reach the customer first.
        sends.extend((self.out.directives, key, encode(d)) for d in result.directives)
        sends.extend((self.out.events, key, encode(e)) for e in result.events)
        if result.handoff is not None:
            sends.append((self.out.handoffs, key, encode(result.handoff)))
            log.info(
                "handoff.requested",
                handoff_id=result.handoff.handoff_id,
                queue=result.handoff.routing.queue,
                priority=result.handoff.routing.priority,
            )
        return [await self.send(topic, k, value) for topic, k, value in sends]

    def _misplaced(self, conversation_id: str, partition: int) -> str | None:
        """Why a record of this conversation does not belong on `partition` (None: it does);
        a cached look-up on the hot path, no coroutine."""
        return partitioning.misplaced(conversation_id.encode(), partition, self._partitions)

    async def _divert(
        self, msg: Any, conversation_id: str, why: str, now: datetime, *, stage: str
    ) -> None:
        """Forward a misplaced record to its conversation's partition, or dead-letter it
        (`mispartitioned_action`); count it either way."""
        kind = "turns" if stage == "detect" else "events"
        if self.mispartitioned_action == "dead_letter":
            metrics.MISPARTITIONED.labels(kind, "dead_lettered").inc()
            await self._dead_letter(Rejected(partitioning.REASON, why), msg, now, stage=stage)
            return
        metrics.MISPARTITIONED.labels(kind, "repartitioned").inc()
        if msg.topic not in self._warned_misplaced:
            # Once per input topic and process: the counter and its alert carry the rest.
            self._warned_misplaced.add(msg.topic)
            log.warning("input.repartitioned", topic=msg.topic, partition=msg.partition, why=why)
        forward = self.out.turns_repartition if kind == "turns" else self.out.events_repartition
        await self.send(forward, conversation_id.encode(), msg.value)

    async def _dead_letter(
        self, rejected: Rejected, msg: Any, now: datetime, *, stage: str = "detect"
    ) -> None:
        """Publish a rejected input with its reason; the partition keeps flowing."""
        letter = dead_letter(
            rejected,
            stage=stage,
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            key=msg.key,
            value=msg.value,
            now=now,
        )
        name = "turn.rejected" if stage == "detect" else "handoff_event.rejected"
        log.warning(name, reason=rejected.reason, offset=msg.offset)
        metrics.DEAD_LETTERS.labels(rejected.reason, stage).inc()
        await self.send(self.out.deadletter, msg.key, encode(letter))

    async def publish_events(self, events: list[HandoffEvent]) -> None:
        """Publish lifecycle events received over HTTP (streams/runtime/intake.py) to
        handoff.events, keyed by conversation_id; returns once the broker acknowledged every one."""
        acks = [
            await self.send(self.out.events, e.conversation_id.encode(), encode(e)) for e in events
        ]
        await asyncio.gather(*acks)

    async def send(self, topic: str, key: bytes | None, value: bytes) -> Awaitable[object]:
        """Queue one record on the app's producer (or the injected sender in stage tests), in
        the input record's transaction under exactly-once (`_transaction`); the returned
        awaitable completes when the broker has acknowledged it."""
        if self._sender is not None:
            return await self._sender(topic, key, value)
        return await self.app.producer.send(
            topic, key, value, None, None, None, transactional_id=_transaction.get()
        )
