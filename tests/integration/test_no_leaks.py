"""No unredacted personal data leaves the pipeline: every output topic, every table changelog,
every dead letter, the worker's and the file sink's logs and the sink's file are scanned.

Traffic: the simulated bots (their catalogue holds a card read out in a sentence and e-mail
addresses) plus, through the BotClient, conversations whose customers type card numbers,
e-mails, phone numbers of several countries, IBANs and national ids from the redaction corpus
(streams/lab/eval/privacy.py) and then ask for a human, so the values reach handoff transcripts; plus
malformed records holding the same values, which become dead letters. Then everything the
deployment wrote is read back (dead letters' base64 values decoded) and searched for each
value as written and as its bare digits.

Known leaks (fields the redactor never sees) are listed in `KNOWN_LEAKS` and make the test
xfail with their exact path rather than pass silently; everything else must be clean.
"""

from __future__ import annotations

import base64
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from warmhandoff.agents.client import BotClient
from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.contract.models import Turn
from warmhandoff.streams.lab.eval.privacy import corpus

from .conftest import Deployment, Outputs, expected_handoffs, read_until, traffic
from .test_sinks_e2e import SinkProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

# Kinds the redactor covers today (`warmhandoff privacy`: 100% recall on them).
COVERED = (
    "card", "card_spoken", "email", "iban_de", "iban_fr", "iban_es", "iban_gb", "ssn", "nino",
    "dni", "phone_us", "phone_gb", "phone_es", "phone_fr", "phone_de", "phone_br",
)  # fmt: skip
LOCALES = {"US": "en-US", "GB": "en-GB", "ES": "es-ES", "FR": "fr-FR", "DE": "de-DE", "BR": "pt-BR"}
ASK_HUMAN = "this is not working, I want to talk to a human agent now"
CARD_IN_DETAIL = "5555 5555 5555 4444"  # a bot's own failure detail, never redacted
EMAIL_IN_ATTACHMENT = "attachment.owner@example.org"
# Values placed in free-text fields besides the turn's text (turn.bot.detail, attachment
# names): the detect stage redacts those too, so nothing is a known leak any more.
KNOWN_LEAKS: set[str] = set()
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def leak_turns(start: datetime) -> tuple[list[Turn], list[str]]:
    """Conversations that type sensitive values and then ask for a human; and the values."""
    samples = [s for s in corpus(3, seed=17) if s.kind in COVERED]
    turns: list[Turn] = []
    for i, sample in enumerate(samples):
        cid = f"leak-{i}"
        locale = LOCALES[sample.region]
        base: dict[str, Any] = {"conversation_id": cid, "channel": "chat", "locale": locale}
        texts = [
            ("customer", sample.text),
            ("bot", "Thanks, let me check that."),
            ("customer", ASK_HUMAN),
        ]
        for seq, (role, text) in enumerate(texts):
            turn: dict[str, Any] = {**base, "seq": seq, "role": role, "text": text}
            turn["ts"] = start + timedelta(seconds=i * 10 + seq)
            if seq == 0:
                turn["nlu"] = {
                    "intent": "payment",
                    "confidence": 0.9,
                    "slots": {"value": sample.value},
                }
            if seq == 1 and i == 0:
                turn["bot"] = {
                    "action": "charge_card",
                    "status": "failed",
                    "detail": f"card {CARD_IN_DETAIL} declined",
                }
                turn["attachments"] = [{"name": f"from {EMAIL_IN_ATTACHMENT}.pdf"}]
            turns.append(Turn.model_validate(turn))
    return turns, [s.value for s in samples]


def bad_records(values: list[str]) -> list[bytes]:
    """Records that cannot be decoded but hold sensitive values (each becomes a dead letter)."""
    card, email = values[0], next(v for v in values if "@" in v)
    return [
        orjson.dumps(
            {"conversation_id": "leak-dl", "seq": "x", "text": f"card {card}, mail {email}"}
        ),
        b"\xff\xfe not utf-8, card " + card.encode() + b" mail " + email.encode(),
        b'{"text": "card ' + card.encode() + b'", broken json',
    ]


def forms(value: str) -> set[str]:
    """The value as written and as bare digits (when it has enough to be recognisable)."""
    found = {value}
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 8:
        found.add(digits)
    return found


async def read_all(
    dep: Deployment, names: list[str]
) -> dict[str, list[tuple[bytes | None, bytes | None]]]:
    """Every record (key and value) of the named topics, up to their current end."""
    consumer = AIOKafkaConsumer(
        **aiokafka_kwargs(dep.settings), group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    found: dict[str, list[tuple[bytes | None, bytes | None]]] = {name: [] for name in names}
    try:
        partitions = [
            TopicPartition(name, p)
            for name in names
            for p in (consumer.partitions_for_topic(name) or await _partitions(consumer, name))
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        pending = {tp for tp in partitions if ends[tp] > 0}
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    found[tp.topic].append((record.key, record.value))
                    if record.offset + 1 >= ends[tp]:
                        pending.discard(tp)
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
    finally:
        await consumer.stop()
    return found


async def _partitions(consumer: AIOKafkaConsumer, name: str) -> set[int]:
    await consumer._client.force_metadata_update()  # the topic may be new to this client
    return consumer.partitions_for_topic(name) or set()


def texts_of(topic: str, key: bytes | None, raw: bytes | None) -> list[str]:
    """The record's key and value as text, plus a dead letter's decoded original bytes."""
    texts = [part.decode("utf-8", "replace") for part in (key, raw) if part]
    if topic.endswith("deadletter") and raw:
        letter = orjson.loads(raw)
        for field in ("value_b64", "key_b64"):
            if letter.get(field):
                texts.append(base64.b64decode(letter[field]).decode("latin-1"))
    return texts


async def test_no_sensitive_value_leaves_the_pipeline(
    deployment: Deployment, tmp_path: Path
) -> None:
    dep = deployment
    start = datetime.now(UTC) - timedelta(hours=1)
    simulated = traffic(40, seed=31)
    extra, values = leak_turns(start)
    turns = simulated + extra
    expected = expected_handoffs(turns, dep.policy)
    assert {h for h, c in expected.items() if c.startswith("leak-")}, (
        "leak conversations must hand off"
    )
    # The catalogue's own sensitive values: its test card and customers' e-mail addresses.
    catalogue = {m.group() for t in simulated for m in _EMAIL.finditer(t.text)}
    catalogue |= {"4111 1111 1111 1111"} if any("4111 1111" in t.text for t in simulated) else set()
    sensitive = set(values) | catalogue | KNOWN_LEAKS
    bad = bad_records(values)

    worker = dep.worker()
    sink_file = tmp_path / "handoffs.jsonl"
    sink = SinkProcess(dep, ["file", "--path", str(sink_file)], tmp_path / "sink.log")
    try:
        async with BotClient(dep.settings, topics=dep.topics, bot_id="leaks") as client:
            await client.publish_many(turns)
            producer = client._require_producer()
            for raw in bad:
                await producer.send_and_wait(
                    dep.topics.name("conversation.turns"), raw, key=b"leak-dl"
                )

        def done(o: Outputs) -> bool:
            return o.handoff_ids() >= set(expected) and len(o.deadletters) >= len(bad)

        outputs = await read_until(dep, done, within=150)
        assert worker.alive(), dep.logs()
        assert outputs.handoff_ids() >= set(expected), dep.logs()
        assert len(outputs.deadletters) == len(bad)
        await _wait_delivered(dep, set(expected), within=60)
    finally:
        sink.stop()
        worker.stop()

    # Every topic but the input, the changelogs and the internal timers topic included.
    turns_topic = dep.topics.name("conversation.turns")
    names = [dep.topics.name(key) for key, _ in dep.topics.items()]
    records = await read_all(dep, names)
    # The control: the scan finds every value in the input topic, where they are by design.
    inputs = "\n".join(t for k, v in records.pop(turns_topic) for t in texts_of(turns_topic, k, v))
    assert all(any(form in inputs for form in forms(value)) for value in sensitive)
    assert records[dep.topics.name("handoff.requests")] and records[dep.topics.name("deadletter")]
    places: list[tuple[str, str]] = [
        (f"topic {name}", text)
        for name, pairs in records.items()
        for key, raw in pairs
        for text in texts_of(name, key, raw)
    ]
    places += [
        (f"log {w.log_path.name}", w.log_path.read_text(errors="replace")) for w in dep.workers
    ]
    places += [("log sink.log", (tmp_path / "sink.log").read_text(errors="replace"))]
    places += [("sink file", sink_file.read_text())]

    leaks: dict[str, set[str]] = {}
    for value in sensitive:
        for where, text in places:
            if any(form in text for form in forms(value)):
                leaks.setdefault(value, set()).add(where)
    unexpected = {v: sorted(w) for v, w in leaks.items() if v not in KNOWN_LEAKS}
    assert not unexpected, f"unredacted values found: {unexpected}"
    known = {v: sorted(w) for v, w in leaks.items() if v in KNOWN_LEAKS}
    if known:
        pytest.xfail(f"known leaks of fields the redactor does not read: {known}")


async def _wait_delivered(dep: Deployment, handoff_ids: set[str], within: float) -> None:
    """Until the sink reported every handoff `delivered` on handoff.events (it writes first)."""
    consumer = AIOKafkaConsumer(
        dep.topics.name("handoff.events"),
        **aiokafka_kwargs(dep.settings),
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    delivered: set[str] = set()
    deadline = time.monotonic() + within
    try:
        while not delivered >= handoff_ids and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    event = orjson.loads(record.value)
                    if event.get("type") == "delivered":
                        delivered.add(event["handoff_id"])
    finally:
        await consumer.stop()
    missing = handoff_ids - delivered
    assert not missing, f"the file sink did not deliver {len(missing)} handoffs in {within} s"
