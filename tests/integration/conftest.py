"""Integration fixtures: real worker processes, a policy with short deadlines, traffic, and
what the pipeline's pure functions say must come out of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from warmhandoff.agents.scenarios import generate
from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.models import Turn
from warmhandoff.streams.contract.topics import Topics, load_topics
from warmhandoff.streams.core.pipeline import expire_gather, new_state, process_turn
from warmhandoff.streams.lab.bench.throughput import compare_with_replay
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.policy.model import Policy
from warmhandoff.streams.runtime.topic_admin import apply_topics

DEFAULT_POLICY = Path(__file__).resolve().parents[2] / "streams" / "policy" / "default.yaml"
GATHER_TIMEOUT_S = 3


class WorkerProcess:
    """`warmhandoff worker` as a child process, configured through its environment."""

    def __init__(self, settings: WorkerSettings, log_path: Path, web_port: int = 0) -> None:
        self.settings = settings
        self.log_path = log_path
        self.web_port = web_port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = dict(os.environ)
        env.update(
            {
                "WARMHANDOFF_BOOTSTRAP_SERVERS": self.settings.bootstrap_servers,
                "WARMHANDOFF_TOPIC_PREFIX": self.settings.topic_prefix,
                "WARMHANDOFF_APP_ID": self.settings.app_id,
                "WARMHANDOFF_DATA_DIR": str(self.settings.data_dir),
                "WARMHANDOFF_POLICY_FILE": str(self.settings.policy_file),
                "WARMHANDOFF_WEB_PORT": str(self.web_port),
                "WARMHANDOFF_WEB_HOST": "127.0.0.1",
                "WARMHANDOFF_LOG_FORMAT": "json",
            }
        )
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "warmhandoff.streams.cli", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """kill -9: no drain, no commit."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not stop in time."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@dataclass
class Outputs:
    """What the pipeline published, read back from the broker."""

    handoffs: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    directives: list[dict[str, Any]] = field(default_factory=list)
    deadletters: list[dict[str, Any]] = field(default_factory=list)

    def handoff_ids(self) -> set[str]:
        return {h["handoff_id"] for h in self.handoffs}


@dataclass
class Deployment:
    settings: WorkerSettings
    topics: Topics
    policy: Policy
    tmp: Path
    workers: list[WorkerProcess] = field(default_factory=list)

    def worker(self, web_port: int = 0, *, own_state: bool = False) -> WorkerProcess:
        """Start a worker; `own_state` gives it a state folder of its own, so it can run
        beside the others (RocksDB locks a table's folder)."""
        log = self.tmp / f"worker-{len(self.workers)}.log"
        settings = self.settings
        if own_state:
            state = self.tmp / f"state-{len(self.workers)}"
            settings = settings.model_copy(update={"data_dir": state})
        worker = WorkerProcess(settings, log, web_port)
        self.workers.append(worker)
        worker.start()
        return worker

    def logs(self) -> str:
        return "\n".join(w.log_path.read_text(errors="replace")[-3000:] for w in self.workers)


@pytest.fixture
async def deployment(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[Deployment]:
    """Fresh topics, a policy with a short gather deadline, and workers stopped at the end."""
    policy_file = tmp_path / "policy.yaml"
    text = DEFAULT_POLICY.read_text()
    assert "gather_timeout_seconds: 120" in text
    policy_file.write_text(
        text.replace("gather_timeout_seconds: 120", f"gather_timeout_seconds: {GATHER_TIMEOUT_S}")
    )
    settings = WorkerSettings(
        bootstrap_servers=kafka_bootstrap,
        topic_prefix=topic_prefix,
        app_id="wh",
        data_dir=tmp_path / "state",
        policy_file=policy_file,
        web_port=0,
    )
    topics = load_topics(prefix=topic_prefix, app_id="wh")
    report = await apply_topics(topics, settings)
    assert report.ok, report
    dep = Deployment(settings, topics, load_policy(policy_file), tmp_path)
    try:
        yield dep
    finally:
        for worker in dep.workers:
            worker.stop()


def run_module(module: str, *args: str, timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run `python -m warmhandoff.streams.<module> ARGS` as a user would, on an embedded broker
    of its own (a bootstrap address in the environment would point it elsewhere)."""
    env = {k: v for k, v in os.environ.items() if k != "WARMHANDOFF_BOOTSTRAP_SERVERS"}
    return subprocess.run(
        [sys.executable, "-m", f"warmhandoff.streams.{module}", *args],
        capture_output=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def traffic(n: int, seed: int) -> list[Turn]:
    """Generated conversations' turns in arrival order, all stamped at least an hour ago, so
    every gather deadline has already passed on the wall clock and the timer path runs at once.

    Many conversations span more than an hour; their turns are shifted back as one block (the
    spacing kept). Stamped after the wall clock, a gather would wait for a deadline the test
    never reaches: the long fault run counted 337 such transfers as lost handoffs."""
    now = datetime.now(UTC)
    convs = generate(n, seed=seed, start=now - timedelta(hours=1), prefix=f"s{seed}")
    turns = sorted((t for c in convs for t in c.turns), key=lambda t: t.ts)
    late = turns[-1].ts - (now - timedelta(hours=1)) if turns else timedelta(0)
    if late > timedelta(0):
        turns = [t.model_copy(update={"ts": t.ts - late}) for t in turns]
    return turns


def expected_handoffs(turns: list[Turn], policy: Policy) -> dict[str, str]:
    """handoff_id → conversation_id, by the pipeline's own pure functions (replay semantics,
    plus the gather timer firing for transfers still pending at the end)."""
    states: dict[str, Any] = {}
    out: dict[str, str] = {}
    for turn in turns:
        state = states.setdefault(turn.conversation_id, new_state(turn.conversation_id))
        result = process_turn(state, turn, policy, now=turn.ts)
        if result is not None and result.handoff is not None:
            out[result.handoff.handoff_id] = turn.conversation_id
    far = datetime.now(UTC) + timedelta(days=1)
    for state in states.values():
        result = expire_gather(state, policy, now=far)
        if result is not None and result.handoff is not None:
            out[result.handoff.handoff_id] = state.conversation_id
    return out


async def read_until(
    dep: Deployment, done: Any, *, within: float, outputs: Outputs | None = None
) -> Outputs:
    """Read every output topic from the start until `done(outputs)` or the timeout."""
    outputs = outputs or Outputs()
    t = dep.topics
    by_topic = {
        t.name("handoff.requests"): outputs.handoffs,
        t.name("escalation.decisions"): outputs.decisions,
        t.name("bot.directives"): outputs.directives,
        t.name("deadletter"): outputs.deadletters,
    }
    consumer = AIOKafkaConsumer(
        *by_topic, **aiokafka_kwargs(dep.settings), auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    deadline = time.monotonic() + within
    try:
        while not done(outputs) and time.monotonic() < deadline:
            if not any(w.alive() for w in dep.workers):
                break
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    by_topic[record.topic].append(orjson.loads(record.value))
    finally:
        await consumer.stop()
    return outputs


def first_seen_seqs(decisions: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Per conversation, the seq of each turn's decision in the order it was first published
    (decisions taken by the gather timer refer back to an earlier turn and are left out)."""
    seen: set[str] = set()
    seqs: dict[str, list[int]] = {}
    for d in decisions:
        if d["decision_id"] in seen or d["signals"]["role"] == "system":
            continue
        seen.add(d["decision_id"])
        seqs.setdefault(d["conversation_id"], []).append(d["seq"])
    return seqs


async def decided_as_replay(dep: Deployment, turns: list[Turn], *, within: float = 120) -> Outputs:
    """Read until every turn is decided; assert the handoffs, and each turn's decision (action,
    triggers, handoff id), are what the pipeline's own replay of the same turns gives."""
    expected = expected_handoffs(turns, dep.policy)
    assert expected, "the traffic must contain escalations"
    n_turns = len({(t.conversation_id, t.seq) for t in turns})

    def done(o: Outputs) -> bool:
        return (
            o.handoff_ids() >= set(expected)
            and len({d["decision_id"] for d in o.decisions}) >= n_turns
        )

    outputs = await read_until(dep, done, within=within)
    assert all(w.alive() for w in dep.workers), dep.logs()
    assert outputs.handoff_ids() == set(expected), dep.logs()
    check, _ = compare_with_replay(turns, outputs.decisions, dep.policy)
    assert check == {"compared": n_turns, "differ": 0, "missing": 0}, check
    return outputs
