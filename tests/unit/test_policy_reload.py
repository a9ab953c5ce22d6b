"""Hot reload of the policy: a valid edit is picked up between turns, a broken one is not."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.topics import load_topics
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.runtime.partitioning import partition_for
from warmhandoff.streams.runtime.policy_reload import PolicyWatcher
from warmhandoff.streams.services.worker.app import Pipeline

DEFAULT = Path(__file__).resolve().parents[2] / "streams" / "policy" / "default.yaml"
T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


def write(path: Path, version: str, *, sentiment_enabled: bool = True) -> None:
    text = DEFAULT.read_text().replace('version: "', f'version: "{version}-', 1)
    if not sentiment_enabled:
        text = text.replace(
            "  negative_sentiment:\n", "  negative_sentiment:\n    enabled: false\n", 1
        )
    path.write_text(text)


def test_the_watcher_returns_a_changed_valid_policy_once(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    write(path, "a")
    watcher = PolicyWatcher(path, load_policy(path))
    assert watcher.poll() is None  # unchanged
    write(path, "b")
    new = watcher.poll()
    assert new is not None and new.version.startswith("b-")
    assert watcher.poll() is None and watcher.current is new


def test_a_broken_edit_keeps_the_running_policy(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    write(path, "a")
    running = load_policy(path)
    watcher = PolicyWatcher(path, running)
    path.write_text("version: x\ntriggers: {nope: {}}\n")
    assert watcher.poll() is None
    assert watcher.current is running and watcher.last_error
    write(path, "c")  # fixed: picked up
    fixed = watcher.poll()
    assert fixed is not None and fixed.version.startswith("c-") and watcher.last_error is None


async def test_a_worker_decides_with_the_new_version_without_restarting(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    write(path, "v1")
    sent: list[tuple[str, bytes]] = []

    async def sender(topic: str, key: bytes | None, value: bytes) -> Any:
        sent.append((topic, value))
        acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        acked.set_result(None)
        return acked

    settings = WorkerSettings(
        store="memory://", data_dir=tmp_path, web_port=0, app_id="stage", policy_file=path
    )
    topics = load_topics(prefix="st.", app_id="stage")
    pipeline = Pipeline(settings, topics, load_policy(path), sender=sender)
    pipeline.app.finalize()
    pipeline.app.flow_control.resume()

    def angry(cid: str) -> bytes:
        return orjson.dumps(
            {
                "conversation_id": cid,
                "seq": 0,
                "ts": T0.isoformat(),
                "role": "customer",
                "text": "This is the worst service ever, I am furious and disgusted.",
            }
        )

    def last_decision() -> dict[str, Any]:
        return [orjson.loads(v) for t, v in sent if t.endswith("escalation.decisions")][-1]

    async with pipeline.turns_agent.test_context() as agent:
        await agent.put(key=b"c-1", partition=partition_for(b"c-1", 8), value=angry("c-1"))
        first = last_decision()
        assert first["policy_version"].startswith("v1-") and first["action"] == "escalate"
        write(path, "v2", sentiment_enabled=False)
        assert await pipeline.reload_policy() is True
        await agent.put(key=b"c-2", partition=partition_for(b"c-2", 8), value=angry("c-2"))
        second = last_decision()
        assert second["policy_version"].startswith("v2-") and second["action"] == "none"
        assert await pipeline.reload_policy() is False  # nothing changed since
