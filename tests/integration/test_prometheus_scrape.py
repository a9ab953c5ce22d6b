"""A real Prometheus server scrapes a real worker: escalations are queryable through its API."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from warmhandoff.agents.client import BotClient
from warmhandoff.streams.runtime.broker import free_port

from .conftest import Deployment, expected_handoffs, read_until, traffic
from .test_worker_ops import wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PROMETHEUS = shutil.which("prometheus")


async def query(prom_port: int, promql: str) -> float | None:
    """The value of a scalar-ish PromQL query, or None when it has no result yet."""
    url = f"http://127.0.0.1:{prom_port}/api/v1/query"
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
        session.get(url, params={"query": promql}) as response,
    ):
        body = await response.json()
    assert body["status"] == "success", body
    result = body["data"]["result"]
    return float(result[0]["value"][1]) if result else None


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """A Prometheus server scraping 127.0.0.1:<worker port> every second: (prom, worker)."""
    if PROMETHEUS is None:
        pytest.skip(
            "the prometheus server is not installed (Debian package `prometheus`; .ci/run "
            "installs it)"
        )
    worker_port, prom_port = free_port(), free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: warmhandoff\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{worker_port}']}}]\n"
    )
    with (tmp_path / "prometheus.log").open("wb") as log:
        prom = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield prom_port, worker_port
        finally:
            prom.terminate()
            prom.wait(timeout=30)


async def test_prometheus_scrapes_escalations_from_a_worker(
    deployment: Deployment, prometheus: tuple[int, int], tmp_path: Path
) -> None:
    prom_port, worker_port = prometheus
    deployment.worker(web_port=worker_port)
    await wait_for_status(worker_port, "/readyz", 200, within=60)
    turns = traffic(30, seed=41)
    expected = expected_handoffs(turns, deployment.policy)
    async with BotClient(deployment.settings, topics=deployment.topics, bot_id="p") as client:
        await client.publish_many(turns)
    await read_until(deployment, lambda o: o.handoff_ids() >= set(expected), within=60)
    wanted = float(len(expected))
    deadline = time.monotonic() + 60
    got: float | None = None
    while time.monotonic() < deadline:
        try:
            got = await query(prom_port, "sum(warmhandoff_handoffs_requested_total)")
        except aiohttp.ClientError:
            got = None
        if got == wanted:
            break
        await asyncio.sleep(0.5)
    assert got == wanted, (tmp_path / "prometheus.log").read_text()[-2000:]
    by_trigger = await query(
        prom_port, 'sum(warmhandoff_escalations_total{trigger="human_request"})'
    )
    assert by_trigger is not None and by_trigger >= 1
    assert await query(prom_port, 'up{job="warmhandoff"}') == 1.0
