"""`warmhandoff sink file` as a real process on the embedded broker: each handoff lands once,
a `delivered` event reaches handoff.events, bad records are dead-lettered, SIGTERM commits, and
a restart neither redelivers nor appends a handoff twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.contract.models import HandoffRequest
from warmhandoff.streams.core.codec import encode
from warmhandoff.streams.runtime.broker import free_port

from ..salesforce_mock import CLIENT_ID, CLIENT_SECRET, serve_salesforce
from ..sinkdata import handoff_request
from ..webhook_receiver import serve_receiver
from .conftest import Deployment

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


class SinkProcess:
    """`warmhandoff sink KIND ...` as a child process, configured through its environment."""

    def __init__(
        self, dep: Deployment, args: list[str], log: Path, extra: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        env = dict(os.environ)
        env.update(
            {
                "WARMHANDOFF_BOOTSTRAP_SERVERS": dep.settings.bootstrap_servers,
                "WARMHANDOFF_TOPIC_PREFIX": dep.settings.topic_prefix,
                "WARMHANDOFF_APP_ID": dep.settings.app_id,
                "WARMHANDOFF_WEB_PORT": str(self.port),
                "WARMHANDOFF_WEB_HOST": "127.0.0.1",
                "WARMHANDOFF_LOG_FORMAT": "json",
                **(extra or {}),
            }
        )
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "warmhandoff.streams.cli", "sink", *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    async def get(self, path: str) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
            session.get(f"http://127.0.0.1:{self.port}{path}") as response,
        ):
            return response.status, await response.text()

    async def wait_ready(self, within: float) -> None:
        deadline = time.monotonic() + within
        last = "no answer"
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                status, body = await self.get("/readyz")
            except aiohttp.ClientError as exc:
                last = repr(exc)
            else:
                if status == 200:
                    return
                last = body
            await asyncio.sleep(0.2)
        raise AssertionError(f"the sink was not ready in {within} s: {last}")

    async def metric(self, name: str, **labels: str) -> float:
        _, text = await self.get("/metrics")
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total


async def publish(dep: Deployment, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(**aiokafka_kwargs(dep.settings), acks="all")
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(dep.topics.name("handoff.requests"), value, key=key)
    finally:
        await producer.stop()


async def read(dep: Deployment, done: Any, within: float) -> dict[str, list[dict[str, Any]]]:
    """handoff.events and deadletter from the start, until `done(out)` or the timeout."""
    names = {dep.topics.name("handoff.events"): "events", dep.topics.name("deadletter"): "dead"}
    out: dict[str, list[dict[str, Any]]] = {"events": [], "dead": []}
    consumer = AIOKafkaConsumer(
        *names, **aiokafka_kwargs(dep.settings), auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    deadline = time.monotonic() + within
    try:
        while not done(out) and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    out[names[record.topic]].append(orjson.loads(record.value))
    finally:
        await consumer.stop()
    return out


def record(request: HandoffRequest) -> tuple[bytes, bytes]:
    return request.conversation_id.encode(), encode(request)


def file_ids(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [orjson.loads(line)["handoff_id"] for line in path.read_bytes().splitlines()]


async def test_file_sink_delivers_each_handoff_once_and_reports_it(
    deployment: Deployment, tmp_path: Path
) -> None:
    path = tmp_path / "handoffs.jsonl"
    a, b = handoff_request("c-a"), handoff_request("c-b")
    sink = SinkProcess(deployment, ["file", "--path", str(path)], tmp_path / "sink-1.log")
    try:
        await sink.wait_ready(within=60)
        # `a` twice, as an at-least-once producer may send it, and a record that is not JSON.
        await publish(deployment, [record(a), record(a), (b"c-x", b"{not json"), record(b)])

        def settled(out: dict[str, list[dict[str, Any]]]) -> bool:
            return len(out["events"]) >= 3 and len(out["dead"]) >= 1

        out = await read(deployment, settled, within=60)
        assert settled(out), sink.log.read_text()[-3000:]
        assert {e["type"] for e in out["events"]} == {"delivered"}
        assert {e["source"] for e in out["events"]} == {"sink:file"}
        by_handoff = {e["handoff_id"]: e["event_id"] for e in out["events"]}
        assert set(by_handoff) == {a.handoff_id, b.handoff_id}
        assert len({e["event_id"] for e in out["events"]}) == 2  # the duplicate's event repeats
        (letter,) = out["dead"]
        assert letter["reason"] == "not_json" and letter["stage"] == "sink:file"
        assert sorted(file_ids(path)) == sorted([a.handoff_id, b.handoff_id])
        assert await sink.metric("warmhandoff_sink_deliveries_total", sink="file") == 3
        assert await sink.metric("warmhandoff_dead_letters_total", stage="sink:file") == 1
    finally:
        assert sink.stop() == 0, sink.log.read_text()[-3000:]

    # A restart starts after the committed offsets and keeps the file free of repeats.
    again = SinkProcess(deployment, ["file", "--path", str(path)], tmp_path / "sink-2.log")
    try:
        await again.wait_ready(within=60)
        await publish(deployment, [record(a)])
        out = await read(deployment, lambda o: len(o["events"]) >= 4, within=60)
        assert len(out["events"]) == 4, again.log.read_text()[-3000:]
        assert await again.metric("warmhandoff_sink_deliveries_total", sink="file") == 1
        assert await again.metric("warmhandoff_dead_letters_total", stage="sink:file") == 0
        assert sorted(file_ids(path)) == sorted([a.handoff_id, b.handoff_id])
    finally:
        assert again.stop() == 0, again.log.read_text()[-3000:]


async def test_webhook_sink_retries_a_dropped_answer_and_dead_letters_a_refusal(
    deployment: Deployment, tmp_path: Path
) -> None:
    secret = b"integration-secret"
    a, refused = handoff_request("c-a"), handoff_request("c-r")
    async with serve_receiver(secret, tmp_path) as receiver:
        receiver.drop_after_commit = 1  # the first record is stored, its answer lost
        receiver.refuse_keys = {refused.handoff_id}
        assert receiver.ca_file is not None
        env = {
            "WARMHANDOFF_SINK_WEBHOOK_SECRET": secret.decode(),
            "WARMHANDOFF_SINK_WEBHOOK_CA_FILE": str(receiver.ca_file),
            "WARMHANDOFF_SINK_BACKOFF_BASE_SECONDS": "0.05",
            "WARMHANDOFF_SINK_BACKOFF_CAP_SECONDS": "0.2",
        }
        sink = SinkProcess(
            deployment, ["webhook", "--url", receiver.url], tmp_path / "sink.log", env
        )
        try:
            await sink.wait_ready(within=60)
            await publish(deployment, [record(a)])
            out = await read(deployment, lambda o: len(o["events"]) >= 1, within=60)
            await publish(deployment, [record(refused)])
            out = await read(
                deployment, lambda o: len(o["events"]) >= 2 and len(o["dead"]) >= 1, within=60
            )
            assert len(out["events"]) == 2, sink.log.read_text()[-3000:]
            types = {e["handoff_id"]: e["type"] for e in out["events"]}
            assert types == {a.handoff_id: "delivered", refused.handoff_id: "failed"}
            (letter,) = out["dead"]
            assert letter["reason"] == "delivery_failed" and letter["stage"] == "sink:webhook"
            assert letter["error"] == "webhook: HTTP 422 (gave up after 1 attempt)"
            assert list(receiver.records) == [a.handoff_id]
            tries = [t for t in receiver.attempts if t.key == a.handoff_id]
            assert len(tries) == 2 and all(t.signature_ok for t in tries)
            assert tries[0].body == tries[1].body == encode(a)
            assert await sink.metric("warmhandoff_sink_deliveries_total", sink="webhook") == 1
            failures = await sink.metric(
                "warmhandoff_sink_failures_total", sink="webhook", reason="rejected"
            )
            assert failures == 1
        finally:
            code = await asyncio.to_thread(sink.stop)
            assert code == 0, sink.log.read_text()[-3000:]


async def test_a_handoff_waiting_for_a_down_receiver_survives_a_sigterm(
    deployment: Deployment, tmp_path: Path
) -> None:
    secret = b"integration-secret"
    a = handoff_request("c-down")
    async with serve_receiver(secret, tmp_path) as receiver:
        receiver.scripted = [(503, {})] * 1000  # down until the list is cleared
        env = {
            "WARMHANDOFF_SINK_WEBHOOK_SECRET": secret.decode(),
            "WARMHANDOFF_SINK_WEBHOOK_CA_FILE": str(receiver.ca_file),
            "WARMHANDOFF_SINK_BACKOFF_BASE_SECONDS": "5",
            "WARMHANDOFF_SINK_BACKOFF_CAP_SECONDS": "5",
            "WARMHANDOFF_SINK_RETRY_ATTEMPTS": "50",
        }
        args = ["webhook", "--url", receiver.url]
        first = SinkProcess(deployment, args, tmp_path / "sink-1.log", env)
        try:
            await first.wait_ready(within=60)
            await publish(deployment, [record(a)])
            await asyncio.wait_for(receiver.arrived.wait(), 60)  # an attempt failed: retrying
        finally:
            started = time.monotonic()
            code = await asyncio.to_thread(first.stop)
        assert code == 0, first.log.read_text()[-3000:]
        assert time.monotonic() - started < 10  # the retry wait does not hold up the stop
        assert receiver.records == {}

        receiver.scripted.clear()  # the receiver is back
        second = SinkProcess(deployment, args, tmp_path / "sink-2.log", env)
        try:
            await second.wait_ready(within=60)
            out = await read(deployment, lambda o: len(o["events"]) >= 1, within=60)
        finally:
            assert await asyncio.to_thread(second.stop) == 0, second.log.read_text()[-3000:]
        assert [(e["handoff_id"], e["type"]) for e in out["events"]] == [
            (a.handoff_id, "delivered")
        ]
        assert out["dead"] == []
        assert list(receiver.records) == [a.handoff_id]


async def test_salesforce_sink_process_upserts_one_case_configured_from_the_environment(
    deployment: Deployment, tmp_path: Path
) -> None:
    a = handoff_request("c-sf")
    async with serve_salesforce(tmp_path) as salesforce:
        env = {
            "WARMHANDOFF_SINK_SALESFORCE_LOGIN_URL": salesforce.url,
            "WARMHANDOFF_SINK_SALESFORCE_CLIENT_ID": CLIENT_ID,
            "WARMHANDOFF_SINK_SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
            "WARMHANDOFF_SINK_SALESFORCE_CA_FILE": str(salesforce.ca_file),
            "WARMHANDOFF_SINK_SALESFORCE_PRIORITIES": '{"2": "Urgent"}',
        }
        sink = SinkProcess(deployment, ["salesforce"], tmp_path / "sink.log", env)
        try:
            await sink.wait_ready(within=60)
            await publish(deployment, [record(a), record(a)])
            out = await read(deployment, lambda o: len(o["events"]) >= 2, within=60)
        finally:
            code = await asyncio.to_thread(sink.stop)
        assert code == 0, sink.log.read_text()[-3000:]
        assert [e["type"] for e in out["events"]] == ["delivered", "delivered"]
        assert {e["source"] for e in out["events"]} == {"sink:salesforce"}
        (case,) = salesforce.cases.values()
        assert case["Priority"] == "Urgent"
        assert len(salesforce.comments_of(case["Id"])) == 1
        assert CLIENT_SECRET not in sink.log.read_text()
