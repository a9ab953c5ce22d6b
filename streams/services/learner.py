"""`warmhandoff learner`: learn from outcomes as they stream in, publish the model.

Inputs: `escalation.decisions` and `handoff.events` (key conversation_id), consumer group
`<app id>-learner`. Outputs: `learning.examples` (key conversation_id, deterministic
`example_id`), `learning.model` (compacted; key "learned": the model snapshot as JSON; key
"replies": the suggested replies' ranking, streams/learning/replies.py) and
`bot.directives` (key conversation_id: the `survey` after a conversation the bot kept, with a
stable `directive_id`; checked for every `EXPIRE_SECONDS`, so sent within that of going idle).
One learner process runs per deployment (it owns one model); `Learner` (learner.py) holds
the logic.

Restart safety: at start the learner restores the latest snapshots, and it commits its input
offsets only after they are acknowledged, so the model, the replies' tallies and the offsets
move together (the ranking holds the best replies of each trigger and topic: the tallies of the
rest start over).
Episodes still open in memory at a crash or restart are lost, not double-learned (their
decisions are behind the committed offsets): at most the conversations open at that time go
unlabelled. Workers read the latest snapshot at start and every `REFRESH_SECONDS`
(`latest_snapshot`, no consumer group: every worker reads the one partition).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge

from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.config.learner import LearnerSettings
from warmhandoff.streams.contract.errors import WarmhandoffError
from warmhandoff.streams.contract.models import Decision, Directive, HandoffEvent, LearningExample
from warmhandoff.streams.contract.topics import Topics
from warmhandoff.streams.core.codec import Rejected, decode, encode
from warmhandoff.streams.core.replies import RankingError, ReplyRanking
from warmhandoff.streams.learning.kpis import KpiWindow
from warmhandoff.streams.learning.learner import Learner
from warmhandoff.streams.learning.model import LearnedModel
from warmhandoff.streams.learning.replies import ReplyFold
from warmhandoff.streams.learning.scorer import SnapshotError
from warmhandoff.streams.learning.shadow import ShadowPolicy
from warmhandoff.streams.learning.survey import ContainedSurvey
from warmhandoff.streams.policy.model import Policy
from warmhandoff.streams.runtime.learned_model import REPLIES_KEY, SNAPSHOT_KEY, latest_snapshots
from warmhandoff.streams.runtime.metrics import KPI, REGISTRY
from warmhandoff.streams.services.startup import begin, run_service, serve

log = structlog.get_logger(__name__)

SNAPSHOT_SECONDS = 60.0  # how often the learner publishes one (when it learned anything)
EXPIRE_SECONDS = 30.0
MAX_BYTES = 1_000_000

EXAMPLES = Counter(
    "warmhandoff_learning_examples_total",
    "Labelled examples produced, by label",
    ["label"],
    registry=REGISTRY,
)
MODEL_EXAMPLES = Gauge(
    "warmhandoff_learning_model_examples",
    "Turns the published learned model has learned",
    registry=REGISTRY,
)
KPI_GAUGES = {
    "csat": Gauge(
        "warmhandoff_kpi_csat_score",
        "Mean CSAT answer (1-5) over the learner's last labelled conversations",
        registry=REGISTRY,
    ),
    "handle_time_seconds": Gauge(
        "warmhandoff_kpi_handle_time_seconds",
        "Mean handle time (resolved less accepted) over the last labelled handoffs",
        registry=REGISTRY,
    ),
    "speed_of_answer_seconds": Gauge(
        "warmhandoff_kpi_speed_of_answer_seconds",
        "Mean time from the escalating turn to acceptance over the last labelled handoffs",
        registry=REGISTRY,
    ),
    "customer_effort_turns": Gauge(
        "warmhandoff_kpi_customer_effort_turns",
        "Mean customer turns up to the decision point over the last labelled conversations",
        registry=REGISTRY,
    ),
}
SHADOW_DISAGREEMENTS = Counter(
    "warmhandoff_shadow_disagreements_total",
    "Turns on which the shadow policy decided otherwise than the active one",
    ["active", "shadow"],
    registry=REGISTRY,
)
SHADOW_QUALITY = Gauge(
    "warmhandoff_shadow_quality_ratio",
    "Escalation precision and recall of the active and shadow policies on labelled outcomes",
    ["policy", "measure"],
    registry=REGISTRY,
)
SURVEYS = Counter(
    "warmhandoff_learning_surveys_total",
    "Survey directives sent after conversations the bot kept",
    registry=REGISTRY,
)
OPEN_EPISODES = Gauge(
    "warmhandoff_learning_open_episodes",
    "Conversations waiting for their outcome label",
    registry=REGISTRY,
)


def utc_now() -> datetime:
    """The wall clock, tz-aware."""
    return datetime.now(UTC)


class LearnerProcess:
    """The consume → learn → publish loop around `Learner`."""

    def __init__(
        self,
        settings: LearnerSettings,
        topics: Topics,
        *,
        clock: Callable[[], datetime] = utc_now,
        snapshot_seconds: float = SNAPSHOT_SECONDS,
        expire_seconds: float = EXPIRE_SECONDS,
        shadow: Policy | None = None,
    ) -> None:
        self.settings, self.topics, self.clock = settings, topics, clock
        self.snapshot_seconds, self.expire_seconds = snapshot_seconds, expire_seconds
        self.consumed = 0  # input records applied
        self.produced = 0  # examples sent to learning.examples
        self.surveyed = 0  # survey directives sent to bot.directives
        self.progress = asyncio.Condition()  # notified after every batch (`wait_until`)
        self.group_id = f"{topics.faust_app_id}-learner"
        self._stop = asyncio.Event()
        self.shadow = ShadowPolicy(shadow) if shadow is not None else None
        self._exported: dict[tuple[str, str], int] = {}  # disagreements already counted
        survey = ContainedSurvey(
            idle=timedelta(seconds=settings.learner_survey_idle_seconds),
            sample=settings.learner_survey_sample,
        )
        self.learner = Learner(LearnedModel(), shadow=self.shadow, survey=survey)
        self.replies = ReplyFold()
        self._replies_published = 0  # `replies.counted` when the ranking was last published
        self.kpis = KpiWindow()
        self._published = -1
        self._polled = False  # the model is restored and the group answered a first poll

    def stop(self) -> None:
        """Finish the batch in flight, publish a snapshot, commit, return."""
        self._stop.set()

    def readiness(self) -> str | None:
        """None once the model is restored and the consumer polls; otherwise why not."""
        if self._stop.is_set():
            return "stopping"
        if not self._polled:
            return "restoring the model and joining the consumer group"
        return None

    async def serve(self) -> None:
        """Run until `stop()`, as the process does."""
        log.info("learner.starting", group=self.group_id)
        try:
            await self.run()
        except KafkaError as exc:
            raise WarmhandoffError(f"learner: Kafka: {exc}") from None

    async def run(self) -> None:
        """Restore, then consume until `stop()`."""
        snapshots = await latest_snapshots(self.settings, self.topics, (SNAPSHOT_KEY, REPLIES_KEY))
        found = snapshots.get(SNAPSHOT_KEY)
        if found is not None:
            try:
                self.learner.model = LearnedModel.restore(found)  # the shadow keeps its place
                self._published = self.learner.model.examples
                log.info("learner.restored", examples=self.learner.model.examples)
            except SnapshotError as exc:
                log.warning("learner.snapshot_unreadable", error=str(exc))
        if (ranking := snapshots.get(REPLIES_KEY)) is not None:
            try:
                self.replies.restore(ReplyRanking.from_json(ranking))
            except RankingError as exc:
                log.warning("learner.replies_unreadable", error=str(exc))
        producer = AIOKafkaProducer(
            **aiokafka_kwargs(self.settings), acks="all", client_id=f"{self.group_id}-producer"
        )
        consumer = AIOKafkaConsumer(
            **aiokafka_kwargs(self.settings),
            group_id=self.group_id,
            client_id=f"{self.group_id}-consumer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # A learner that replaces a killed one is assigned once the group gives up on the
            # dead member: after this timeout on Apache Kafka, not aiokafka's default (the
            # session timeout). The embedded broker takes its own time either way.
            rebalance_timeout_ms=int(self.settings.rebalance_timeout_seconds * 1000),
        )
        names = {self.topics.name("escalation.decisions"): "decision"}
        names[self.topics.name("handoff.events")] = "event"
        consumer.subscribe(list(names))
        await producer.start()
        try:
            await consumer.start()
            try:
                await self._loop(consumer, producer, names)
            finally:
                await consumer.stop()
        finally:
            await producer.stop()

    async def _loop(
        self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, names: dict[str, str]
    ) -> None:
        last_snapshot = last_expire = time.monotonic()
        while True:
            stopping = self._stop.is_set()
            batches = await consumer.getmany(timeout_ms=500, max_records=2000)
            self._polled = True
            examples: list[LearningExample] = []
            surveys: list[Directive] = []
            for records in batches.values():
                for record in records:
                    examples.extend(self._apply(names[record.topic], record.value))
                    self.consumed += 1
            now = time.monotonic()
            if now - last_expire >= self.expire_seconds or stopping:
                examples.extend(self.learner.expire(self.clock()))
                self.replies.settle(self.clock())
                surveys = self.learner.surveys_due(self.clock())
                last_expire = now
            for example in examples:
                EXAMPLES.labels(example.label).inc()
                self.kpis.add(example)
                self.produced += 1
                await producer.send(
                    self.topics.name("learning.examples"),
                    encode(example),
                    key=example.conversation_id.encode(),
                )
            returns = self.learner.take_returns()  # after `add`: a row may be this batch's
            for conversation_id in returns:
                self.kpis.returned(conversation_id)
            for directive in surveys:
                SURVEYS.inc()
                self.surveyed += 1
                await producer.send(
                    self.topics.name("bot.directives"),
                    encode(directive),
                    key=directive.conversation_id.encode(),
                )
            OPEN_EPISODES.set(len(self.learner.episodes))
            if examples or returns:
                self._export_kpis()
            self._export_shadow()
            async with self.progress:
                self.progress.notify_all()
            if now - last_snapshot >= self.snapshot_seconds or stopping:
                await self._snapshot(producer)
                await consumer.commit()
                last_snapshot = now
            if stopping:
                return

    def _export_shadow(self) -> None:
        if self.shadow is None:
            return
        for pair, count in self.shadow.stats.disagreements.items():
            new = count - self._exported.get(pair, 0)
            if new:
                SHADOW_DISAGREEMENTS.labels(*pair).inc(new)
                self._exported[pair] = count
        for name, value in self.shadow.stats.quality().items():
            if value is not None:
                who, measure = name.split("_", 1)
                SHADOW_QUALITY.labels(who, measure).set(value)

    def _export_kpis(self) -> None:
        for name, value in self.kpis.values().items():
            if value is None:
                continue
            if name in KPI_GAUGES:
                KPI_GAUGES[name].set(value)
            else:  # the ratios share the worker's `warmhandoff_kpi_ratio{kpi}`
                KPI.labels(name).set(value)

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Return once `condition()` holds after a batch (callers bound it with a timeout)."""
        async with self.progress:
            await self.progress.wait_for(condition)

    def _apply(self, kind: str, raw: bytes | None) -> list[LearningExample]:
        try:
            if kind == "decision":
                decision = decode(raw, Decision, max_bytes=MAX_BYTES)
                self.replies.on_decision(decision)
                return self.learner.on_decision(decision, self.clock())
            event = decode(raw, HandoffEvent, max_bytes=MAX_BYTES)
        except Rejected as rejected:
            # Producers (the worker, sinks) already dead-letter bad input: count and skip.
            log.warning("learner.record_rejected", kind=kind, reason=rejected.reason)
            return []
        self.replies.on_event(event)
        return self.learner.on_event(event, self.clock())

    async def _snapshot(self, producer: AIOKafkaProducer) -> None:
        await self._publish_replies(producer)
        model = self.learner.model
        if model.examples == self._published:
            return
        version = f"{self.clock().strftime('%Y%m%dT%H%M%SZ')}-n{model.examples}"
        await (
            await producer.send(
                self.topics.name("learning.model"),
                model.snapshot(version=version),
                key=SNAPSHOT_KEY,
            )
        )
        self._published = model.examples
        MODEL_EXAMPLES.set(model.examples)
        log.info("learner.snapshot", version=version, examples=model.examples)

    async def _publish_replies(self, producer: AIOKafkaProducer) -> None:
        """The suggested replies' ranking, when a reply's outcome was counted since the last."""
        counted = self.replies.counted
        if counted == self._replies_published:
            return
        version = f"{self.clock().strftime('%Y%m%dT%H%M%SZ')}-r{counted}"
        ranking = self.replies.ranking(version)
        await (
            await producer.send(
                self.topics.name("learning.model"), ranking.to_json(), key=REPLIES_KEY
            )
        )
        self._replies_published = counted
        log.info("learner.replies", version=version, pairs=len(ranking.replies))


def run_learner(settings: LearnerSettings, *, shadow: Policy | None = None) -> int:
    """Run the learner in the foreground until SIGTERM or SIGINT."""
    topics = begin(settings)
    process = LearnerProcess(settings, topics, shadow=shadow)
    return run_service(
        lambda: serve(
            settings, topics, run=process.serve, stop=process.stop, readiness=process.readiness
        )
    )
