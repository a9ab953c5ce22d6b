"""A real worker process seen as SREs see it: health endpoints, metrics, and a clean SIGTERM."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
import pytest

from warmhandoff.agents.client import BotClient
from warmhandoff.streams.runtime.broker import free_port

from .conftest import Deployment, Outputs, read_until, traffic

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


async def get(port: int, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
        session.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.text()


async def wait_for_status(port: int, path: str, status: int, within: float) -> str:
    deadline = time.monotonic() + within
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            code, body = await get(port, path)
        except aiohttp.ClientError as exc:
            last = repr(exc)
        else:
            if code == status:
                return body
            last = f"{code} {body}"
        await asyncio.sleep(0.2)
    raise AssertionError(f"{path} did not answer {status} in {within} s: {last}")


async def metrics_once(port: int, holds: Callable[[str], bool], within: float = 30) -> str:
    """The worker's /metrics text once `holds(text)`, or the last one after `within` s."""
    deadline = time.monotonic() + within
    while True:
        _, text = await get(port, "/metrics")
        if holds(text) or time.monotonic() > deadline:
            return text
        await asyncio.sleep(0.1)


def sample(metrics_text: str, name: str) -> float:
    total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_health_metrics_and_sigterm_commits(deployment: Deployment) -> None:
    port = free_port()
    worker = deployment.worker(web_port=port)
    await wait_for_status(port, "/livez", 200, within=30)
    await wait_for_status(port, "/readyz", 200, within=60)
    turns = traffic(40, seed=31)
    async with BotClient(deployment.settings, topics=deployment.topics, bot_id="ops") as client:
        await client.publish_many(turns)
    n = len(turns)
    wanted = {(t.conversation_id, t.seq) for t in turns}

    def all_decided(o: Outputs) -> bool:
        # By turn, not by decision id: gather timers decide too, so counting decisions could
        # be satisfied while a turn is still undecided.
        return {(d["conversation_id"], d["seq"]) for d in o.decisions} >= wanted

    outputs = await read_until(deployment, all_decided, within=60)
    assert all_decided(outputs)
    # The worker counts a turn once the broker has acknowledged its outputs, which a reader
    # may see first: the counter catches up a moment later.
    text = await metrics_once(port, lambda t: sample(t, "warmhandoff_turns_processed_total") >= n)
    assert sample(text, "warmhandoff_turns_processed_total") >= n
    assert sample(text, "warmhandoff_escalations_total") >= 1
    assert sample(text, "warmhandoff_decision_latency_seconds_count") >= 1
    assert sample(text, "warmhandoff_worker_ready") == 1

    # SIGTERM: the worker drains and commits, so a successor sees no redelivered turn.
    assert worker.stop() == 0, deployment.logs()
    port2 = free_port()
    successor = deployment.worker(web_port=port2)
    await wait_for_status(port2, "/readyz", 200, within=60)
    last = traffic(1, seed=32)
    async with BotClient(deployment.settings, topics=deployment.topics, bot_id="ops2") as client:
        await client.publish_many(last)

    def last_decided(o: Outputs) -> bool:
        seqs = {d["seq"] for d in o.decisions if d["conversation_id"] == last[0].conversation_id}
        return len(seqs) == len(last)

    outputs: Outputs = await read_until(deployment, last_decided, within=60)
    assert last_decided(outputs)
    _, text = await get(port2, "/metrics")
    assert successor.alive()
    assert sample(text, "warmhandoff_turns_redelivered_total") == 0
    assert sample(text, "warmhandoff_turns_processed_total") == len(last)
