"""The client a bot embeds: publish conversation turns, obey the pipeline's directives.

A bot publishes every turn (the customer's and its own) with `publish`, keyed by
`conversation_id` so a conversation stays on one partition, in order. It reads the directives
for its conversations from `bot.directives` with `directives()` (every watched conversation)
or `next_directive(conversation_id, timeout)` (one conversation), and obeys them:

- `status`: tell the customer where they stand: `message` says they are being transferred,
  with `wait` (an honest estimate) and `position` when known. Show it as is.
- `gather`: ask the customer for `fields` (`message` is a ready-made question), then publish
  the answer as a customer turn, with the values in `nlu.slots` under the field names when
  the bot extracted them. The transfer waits for them, bounded by the policy's timeout.
- `disclose`: show the disclosure `message` before the transfer (compliance queues).
- `clarify`: the bot's understanding was shaky: ask a clarifying question (`message` is one).
- `pause`: a human owns the conversation now: stop answering; stay in the channel for
  look-ups only (assist mode), and keep publishing the customer's turns.
- `resume`: the bot owns the conversation again: answer as usual.

Delivery is at-least-once: a directive can arrive twice (same `directive_id`); a bot that
must not repeat itself remembers the ids it has obeyed.

Directives are read in the consumer group `{app_id}-bot-{bot_id}`. With the default
`auto_offset_reset="latest"`, `start()` returns once the group has its partitions and their
positions are fixed, so every directive produced after that is seen; a restarted bot resumes
from its group's committed offsets. Processes sharing a `bot_id` share the partitions, so each
sees only part of the directives: give every process its own `bot_id` unless conversations
are assigned to processes by the same partitioning.

No ordering traps: publishing a turn starts buffering that conversation's directives, so
`next_directive` after `publish` sees them however late it is called; directives that arrive
before any `directives()` stream is open wait for the first one (both bounded). Answers the
customer gives to what a directive asked (a callback or ticket offer, the survey) go back with
`answer_offer` and `answer_survey`.

A directive that does not parse is logged (no customer text), counted in
`stats.directives_invalid` and skipped; the iterator never ends because of one. Unknown
fields are ignored, because the directive schema only ever grows (models.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import weakref
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal, Self

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    UnknownError,
    UnsupportedVersionError,
)
from pydantic import ValidationError

from warmhandoff.agents.directives import parse_directive
from warmhandoff.agents.exceptions import BotClientError, InvalidTurnError
from warmhandoff.agents.turns import as_turn, describe
from warmhandoff.streams.config.connection import (
    ConnectionSettings,
    aiokafka_kwargs,
    load_settings,
    topics_for,
)
from warmhandoff.streams.contract.models import (
    Directive,
    DirectiveType,
    HandoffEvent,
    HandoffEventType,
    Turn,
)
from warmhandoff.streams.contract.topics import Topics


class _Log:
    """Log lines through the standard library (`event key=value ...`), so the bot's own
    logging set-up decides where they go; an unconfigured structlog would print to stdout."""

    def __init__(self, name: str) -> None:
        self._logger = logging.getLogger(name)

    def _emit(self, level: int, event: str, fields: dict[str, Any]) -> None:
        if self._logger.isEnabledFor(level):
            shown = " ".join(f"{key}={value}" for key, value in fields.items())
            self._logger.log(level, "%s %s", event, shown)

    def info(self, event: str, **fields: Any) -> None:
        self._emit(logging.INFO, event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._emit(logging.WARNING, event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._emit(logging.ERROR, event, fields)


log = _Log(__name__)

OffsetReset = Literal["latest", "earliest"]
OfferChoice = Literal["callback", "ticket", "keep_waiting"]

#: Ids of the events a bot reports are derived from the directive they answer, so a retried
#: answer is the same event (the pipeline deduplicates on `event_id`).
ANSWER_NAMESPACE = uuid.UUID("0b6f8d8e-2f4e-5c1e-9a57-6b0f1f3f3c11")


@dataclass(slots=True)
class ClientStats:
    """Counters a bot can export as metrics."""

    turns_published: int = 0
    directives_received: int = 0  # parsed, for a watched conversation
    directives_invalid: int = 0  # did not parse: logged and skipped
    directives_dropped: int = 0  # a reader fell more than `queue_size` behind
    conversations_forgotten: int = 0  # watched conversations dropped past `max_watched`
    events_published: int = 0  # answers and other handoff events


class _End:
    """Queued after the last directive: the client stopped or the consumer failed."""


_END = _End()


class DirectiveStream:
    """An async iterator over the directives of watched conversations (see `directives`)."""

    def __init__(self, client: BotClient, queue_size: int) -> None:
        self._client = client
        self._queue: asyncio.Queue[Directive | _End] = asyncio.Queue(queue_size)
        self._done = False

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Directive:
        if self._done:
            raise StopAsyncIteration
        item = await self._queue.get()
        if isinstance(item, _End):
            self._done = True
            self._client._raise_if_failed()
            raise StopAsyncIteration
        return item

    async def aclose(self) -> None:
        """Stop receiving directives on this stream (a waiting reader sees the end)."""
        self._client._streams.discard(self)
        self._client._offer(self._queue, _END)


class BotClient:
    """Publishes turns and receives directives for a bot; use as an async context manager."""

    def __init__(
        self,
        bootstrap: str | ConnectionSettings | None = None,
        *,
        topics: Topics | None = None,
        bot_id: str = "bot",
        conversations: Iterable[str] | None = None,
        auto_offset_reset: OffsetReset = "latest",
        listen: bool = True,
        session_timeout_ms: int = 6000,
        linger_ms: int = 5,
        timeout: float = 30.0,
        queue_size: int = 1000,
        max_watched: int = 10_000,
    ) -> None:
        """`bootstrap`: "host:port[,host:port]", full connection settings, or None for the
        environment (WARMHANDOFF_BOOTSTRAP_SERVERS and the TLS/SASL settings beside it)."""
        if isinstance(bootstrap, ConnectionSettings):
            settings = bootstrap
        elif bootstrap is None:
            settings = load_settings(ConnectionSettings)
        else:
            settings = load_settings(ConnectionSettings, bootstrap_servers=bootstrap)
        self._settings = settings
        self._topics = topics or topics_for(settings)
        self.bot_id = bot_id
        self.group_id = f"{settings.app_id}-bot-{bot_id}"
        self._turns_topic = self._topics.name("conversation.turns")
        self._directives_topic = self._topics.name("bot.directives")
        self._events_topic = self._topics.name("handoff.events")
        self._watch_all = conversations is None
        # Least recently used first, so a bot that never unwatches stays bounded.
        self._watched: OrderedDict[str, asyncio.Queue[Directive | _End]] = OrderedDict()
        self._max_watched = max_watched
        # Directives received while no `directives()` stream is open, for the first one.
        self._backlog: deque[Directive] = deque(maxlen=queue_size)
        self._auto_offset_reset = auto_offset_reset
        self._listen = listen
        # Tansu forms a group in about session_timeout/2; 6 s is real Kafka's minimum default.
        self._session_timeout_ms = session_timeout_ms
        self._linger_ms = linger_ms
        self._timeout = timeout
        self._queue_size = queue_size
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._pump: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None
        self._streams: weakref.WeakSet[DirectiveStream] = weakref.WeakSet()
        self.idempotent = False
        self.stats = ClientStats()
        for conversation_id in conversations or ():
            self.watch(conversation_id)

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect the producer and, when listening, join the directives consumer group."""
        if self._producer is not None:
            return
        self._producer = await self._start_producer()
        if self._listen:
            try:
                self._consumer = await self._start_consumer()
            except BaseException:
                await self._producer.stop()
                self._producer = None
                raise
            self._pump = asyncio.create_task(self._pump_directives(self._consumer))
            self._pump.add_done_callback(self._pump_done)
        log.info(
            "bot_client.started",
            bot_id=self.bot_id,
            group=self.group_id,
            idempotent=self.idempotent,
            listening=self._listen,
        )

    async def stop(self) -> None:
        """Flush and close everything (in reverse order of `start`); readers see the end."""
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        self._end_readers()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- turns ----------------------------------------------------------------------------

    async def publish(self, turn: Turn | Mapping[str, Any] | None = None, /, **fields: Any) -> Turn:
        """Publish one turn and wait until the broker has it; the turn as published.

        The turn is a `Turn`, a dict of its fields, or keyword arguments (`conversation_id`,
        `seq`, `role`, `text` and any optional field); `ts` defaults to now. From now on the
        conversation's directives are buffered for `next_directive`.
        """
        (published,) = await self.publish_many([as_turn(turn, **fields)])
        return published

    async def publish_many(self, turns: Iterable[Turn | Mapping[str, Any]]) -> list[Turn]:
        """Publish turns in order (per conversation) as batches; wait until all are delivered."""
        producer = self._require_producer()
        ready = [as_turn(turn) for turn in turns]
        if self._listen:
            for turn in ready:
                self.watch(turn.conversation_id)
        futures = []
        for turn in ready:
            futures.append(
                await producer.send(
                    self._turns_topic,
                    key=turn.conversation_id.encode(),
                    value=turn.model_dump_json(exclude_none=True).encode(),
                )
            )
        if not futures:
            return ready
        try:
            await asyncio.wait_for(asyncio.gather(*futures), self._timeout)
        except TimeoutError:
            raise BotClientError(
                f"turns not delivered to {self._turns_topic} within {self._timeout:.0f} s"
            ) from None
        self.stats.turns_published += len(futures)
        return ready

    # --- answers --------------------------------------------------------------------------

    async def answer_offer(self, directive: Directive, choice: OfferChoice) -> HandoffEvent:
        """The customer's answer to a callback or ticket offer (a `status` directive of the
        router): `callback` or `ticket` leaves the queue, `keep_waiting` stays in line."""
        if choice not in ("callback", "ticket", "keep_waiting"):
            raise InvalidTurnError(f"choice must be callback, ticket or keep_waiting: {choice!r}")
        return await self._answer(
            directive, HandoffEventType.queued, f"offer:{choice}", reason=choice
        )

    async def answer_survey(self, directive: Directive, score: int) -> HandoffEvent:
        """The customer's answer (1 to 5) to a `survey` directive."""
        if directive.type is not DirectiveType.survey:
            raise InvalidTurnError(f"not a survey directive: {directive.type.value}")
        return await self._answer(directive, HandoffEventType.csat, "survey", csat=score)

    async def report_event(
        self, event: HandoffEvent | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> HandoffEvent:
        """Publish any handoff event (`event_id` and `ts` default to new ones, `source` to
        this bot) keyed by its conversation, and wait until the broker has it."""
        data: dict[str, Any] = (
            event.model_dump() if isinstance(event, HandoffEvent) else dict(event or {})
        )
        data.update(fields)
        data.setdefault("event_id", str(uuid.uuid4()))
        data.setdefault("ts", datetime.now(UTC))
        data.setdefault("source", f"bot:{self.bot_id}")
        try:
            checked = HandoffEvent.model_validate(data)
        except ValidationError as exc:
            raise InvalidTurnError(f"not a handoff event: {describe(exc)}") from None
        producer = self._require_producer()
        ack = await producer.send(
            self._events_topic,
            key=checked.conversation_id.encode(),
            value=checked.model_dump_json(exclude_none=True).encode(),
        )
        try:
            await asyncio.wait_for(ack, self._timeout)
        except TimeoutError:
            raise BotClientError(
                f"event not delivered to {self._events_topic} within {self._timeout:.0f} s"
            ) from None
        self.stats.events_published += 1
        return checked

    async def _answer(
        self, directive: Directive, kind: HandoffEventType, what: str, **fields: Any
    ) -> HandoffEvent:
        if directive.handoff_id is None:
            raise InvalidTurnError(f"the {directive.type.value} directive names no handoff")
        return await self.report_event(
            event_id=str(uuid.uuid5(ANSWER_NAMESPACE, f"{directive.directive_id}/{what}")),
            handoff_id=directive.handoff_id,
            conversation_id=directive.conversation_id,
            type=kind,
            **fields,
        )

    # --- directives -----------------------------------------------------------------------

    @property
    def watching_all(self) -> bool:
        """True when every conversation's directives are received (`conversations=None`)."""
        return self._watch_all

    def watch(self, conversation_id: str) -> None:
        """Receive directives for `conversation_id` (and buffer them for `next_directive`)."""
        if conversation_id in self._watched:
            self._watched.move_to_end(conversation_id)
            return
        self._watched[conversation_id] = asyncio.Queue(self._queue_size)
        while len(self._watched) > self._max_watched:
            self._watched.popitem(last=False)
            self.stats.conversations_forgotten += 1

    def unwatch(self, conversation_id: str) -> None:
        """Stop buffering directives for `conversation_id` (and, unless watching all, receiving)."""
        self._watched.pop(conversation_id, None)

    def directives(self) -> DirectiveStream:
        """Every directive for watched conversations (all of them in watch-all mode), in order.

        Each stream sees every directive from when it is opened; the first one opened also gets
        the directives that arrived while none was open.
        """
        stream = DirectiveStream(self, self._queue_size)
        while self._backlog:
            stream._queue.put_nowait(self._backlog.popleft())
        if self._pump is None or self._pump.done():
            stream._queue.put_nowait(_END)
        else:
            self._streams.add(stream)
        return stream

    # The timeout bounds only the wait for a directive, so it is a parameter of this call
    # rather than a caller-side `asyncio.timeout` (the brief's API, simple for bots).
    async def next_directive(self, conversation_id: str, timeout: float) -> Directive:  # noqa: ASYNC109
        """The next directive for `conversation_id` (watching it from now if need be)."""
        self.watch(conversation_id)
        queue = self._watched[conversation_id]
        if queue.empty() and (self._pump is None or self._pump.done()):
            self._raise_if_failed()
            raise BotClientError("the bot client is not listening for directives")
        try:
            item = await asyncio.wait_for(queue.get(), timeout)
        except TimeoutError:
            raise TimeoutError(f"no directive for {conversation_id} within {timeout:g} s") from None
        if isinstance(item, _End):
            self._raise_if_failed()
            raise BotClientError("the bot client stopped")
        return item

    # --- internals ------------------------------------------------------------------------

    async def _start_producer(self) -> AIOKafkaProducer:
        """A producer with acks=all, idempotent when the broker allows it."""
        try:
            with _quiet_refusal():
                producer = await self._new_producer(idempotent=True)
            self.idempotent = True
        except (UnknownError, UnsupportedVersionError, ClusterAuthorizationFailedError) as exc:
            # Tansu (the embedded broker) answers InitProducerId with an unknown error, and
            # some clusters deny idempotent writes; retries may then duplicate a turn, which
            # the pipeline skips by `seq`.
            log.info("bot_client.not_idempotent", reason=type(exc).__name__)
            producer = await self._new_producer(idempotent=False)
        return producer

    async def _new_producer(self, *, idempotent: bool) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            **aiokafka_kwargs(self._settings),
            acks="all",
            enable_idempotence=idempotent,
            linger_ms=self._linger_ms,
            request_timeout_ms=int(self._timeout * 1000),
            client_id=f"{self.group_id}-producer",
        )
        try:
            await asyncio.wait_for(producer.start(), self._timeout)
        except BaseException:
            await producer.stop()
            raise
        return producer

    async def _start_consumer(self) -> AIOKafkaConsumer:
        """Join the group and pin the positions, so `latest` means "from now".

        Tansu answers ListOffsets(latest) with the base offset of the last record batch plus
        one, so there `latest` can replay the rest of that last batch (a few old directives).
        """
        consumer = AIOKafkaConsumer(
            self._directives_topic,
            **aiokafka_kwargs(self._settings),
            group_id=self.group_id,
            client_id=f"{self.group_id}-consumer",
            auto_offset_reset=self._auto_offset_reset,
            enable_auto_commit=True,
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=max(100, self._session_timeout_ms // 3),
            request_timeout_ms=int(self._timeout * 1000) + 10_000,
        )
        try:
            await asyncio.wait_for(consumer.start(), self._timeout)
            for partition in consumer.assignment():
                await asyncio.wait_for(consumer.position(partition), self._timeout)
        except TimeoutError:
            await consumer.stop()
            raise BotClientError(
                f"could not join consumer group {self.group_id} on "
                f"{self._directives_topic} within {self._timeout:.0f} s"
            ) from None
        except BaseException:
            await consumer.stop()
            raise
        return consumer

    async def _pump_directives(self, consumer: AIOKafkaConsumer) -> None:
        """Move directives from the consumer to the streams and per-conversation buffers."""
        while True:
            batch = await consumer.getmany(timeout_ms=500, max_records=500)
            for records in batch.values():
                for record in records:
                    self._dispatch(record.key, record.value, record.partition, record.offset)

    def _dispatch(
        self, key: bytes | None, value: bytes | None, partition: int, offset: int
    ) -> None:
        """Parse one directive record and hand it to whoever wants it."""
        if key is not None and not self._wants(key.decode("utf-8", "replace")):
            return  # cheap filter: not ours, not worth parsing
        directive = self._parse(value, partition, offset)
        if directive is None or not self._wants(directive.conversation_id):
            return
        self.stats.directives_received += 1
        queue = self._watched.get(directive.conversation_id)
        if queue is not None:
            self._offer(queue, directive)
        streams = list(self._streams)
        if not streams:
            self._backlog.append(directive)  # for the first stream; bounded, oldest dropped
        for stream in streams:
            self._offer(stream._queue, directive)

    def _parse(self, value: bytes | None, partition: int, offset: int) -> Directive | None:
        """A directive, or None (logged and counted) when the record is not one."""
        try:
            return parse_directive(value)
        except ValueError as exc:
            self.stats.directives_invalid += 1
            log.warning(
                "bot_client.directive_invalid",
                topic=self._directives_topic,
                partition=partition,
                offset=offset,
                error=str(exc),
            )
            return None

    def _wants(self, conversation_id: str) -> bool:
        return self._watch_all or conversation_id in self._watched

    def _offer(self, queue: asyncio.Queue[Directive | _End], item: Directive | _End) -> None:
        """Queue without blocking the pump: a reader that fell behind loses its oldest item."""
        if queue.full():
            queue.get_nowait()
            self.stats.directives_dropped += 1
        queue.put_nowait(item)

    def _pump_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._failure = task.exception()
            log.error("bot_client.directives_failed", error=type(self._failure).__name__)
        self._end_readers()

    def _end_readers(self) -> None:
        for stream in list(self._streams):
            self._offer(stream._queue, _END)
        self._streams = weakref.WeakSet()
        for queue in self._watched.values():
            if queue.empty():
                # Wakes a waiting `next_directive`; buffered directives stay readable.
                queue.put_nowait(_END)

    def _raise_if_failed(self) -> None:
        if self._failure is not None:
            raise BotClientError(
                f"directives consumer failed: {type(self._failure).__name__}"
            ) from self._failure

    def _require_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise BotClientError("the bot client is not started")
        return self._producer


class _RefusalFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Unexpected error during InitProducerIdRequest")


@contextlib.contextmanager
def _quiet_refusal() -> Iterator[None]:
    """Hide aiokafka's error line for a refused idempotent producer: we log our own warning."""
    logger = logging.getLogger("aiokafka.producer.sender")
    refusal = _RefusalFilter()
    logger.addFilter(refusal)
    try:
        yield
    finally:
        logger.removeFilter(refusal)
