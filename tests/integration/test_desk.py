"""The desk page's process on Apache Kafka with a real worker: a conversation escalates, the
handoff shows up in the agent's and the supervisor's views, accept pauses the bot, the first
reply and the resolution land on `handoff.events`, and a restarted desk shows the same."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from .conftest import Deployment
from .desk_process import DeskProcess, escalate, login, publish_presence, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

CSRF = {"X-Warmhandoff-Desk": "1"}


async def view_until(
    session: aiohttp.ClientSession, desk: DeskProcess, ok: Any, *, within: float = 60
) -> dict[str, Any]:
    """Poll the person's view until `ok(view)`."""
    deadline = time.monotonic() + within
    view: dict[str, Any] = {}
    while time.monotonic() < deadline:
        async with session.get(f"{desk.url}/api/view") as response:
            assert response.status == 200, await response.text()
            view = await response.json()
        if ok(view):
            return view
        await asyncio.sleep(0.2)  # polling interval, not a wait for state
    raise AssertionError(f"the view never matched: {view}\n{desk.log()}")


def general(view: dict[str, Any]) -> dict[str, Any]:
    return next(q for q in view["queues"] if q["queue"] == "general")


async def test_a_handoff_is_worked_from_the_desk_and_survives_a_desk_restart(
    deployment: Deployment,
) -> None:
    deployment.worker()
    desk = DeskProcess(deployment)
    await desk.start()
    await publish_presence(deployment, "ana", {"customer_care": 5})
    cid = await escalate(deployment, "cust-desk-1")
    request = await read_topic(
        deployment, "handoff.requests", lambda r: r["conversation_id"] == cid, within=90
    )
    hid = request["handoff_id"]
    agent = await login(desk, "ana")
    boss = await login(desk, "sue", "supervisor")
    try:
        async with (
            aiohttp.ClientSession() as anonymous,
            anonymous.get(f"{desk.url}/api/view") as response,
        ):
            assert response.status == 401
        view = await view_until(
            agent, desk, lambda v: any(h["handoff_id"] == hid for h in v["waiting"])
        )
        assert "general" in view["queues"] and view["presence"] == "available"
        before = await view_until(boss, desk, lambda v: general(v)["waiting"] == 1)
        assert general(before)["agents"]["available"] == 1

        async with agent.get(f"{desk.url}/api/handoffs/{hid}") as response:
            shown = await response.json()
        assert shown["transcript"][0]["text"] == "my parcel never arrived"
        assert shown["identity"]["customer_id"] == "cust-desk-1"

        url = f"{desk.url}/api/handoffs/{hid}"
        async with agent.post(f"{url}/accept") as response:
            assert response.status == 403  # no CSRF header: a cross-site form cannot act
        async with agent.post(f"{url}/accept", headers=CSRF) as response:
            assert response.status == 200, await response.text()
        await read_topic(
            deployment,
            "bot.directives",
            lambda d: d["conversation_id"] == cid and d["type"] == "pause",
            within=60,
        )
        after = await view_until(boss, desk, lambda v: general(v)["waiting"] == 0)
        assert general(after)["in_progress"] == 1

        async with agent.post(
            f"{url}/reply", json={"reply": "Hi, I'm Ana. I can see the tracking."}, headers=CSRF
        ) as response:
            assert response.status == 200, await response.text()
        async with agent.post(f"{url}/resolve", json={"outcome": "solved"}, headers=CSRF) as r:
            assert r.status == 200, await r.text()
        replied = await read_topic(
            deployment,
            "handoff.events",
            lambda e: e["handoff_id"] == hid and e["type"] == "replied",
            within=30,
        )
        assert replied["agent_id"] == "ana" and replied["reply"].startswith("Hi, I'm Ana")
        resolved = await read_topic(
            deployment,
            "handoff.events",
            lambda e: e["handoff_id"] == hid and e["type"] == "resolved",
            within=30,
        )
        assert resolved["reason"] == "solved" and resolved["source"] == "desk"
        await read_topic(
            deployment,
            "bot.directives",
            lambda d: d["conversation_id"] == cid and d["type"] == "resume",
            within=60,
        )

        desk.stop()
        await desk.start()  # the same port, secret and topics: the view is rebuilt from them
        rebuilt = await view_until(
            agent, desk, lambda v: any(h["handoff_id"] == hid for h in v["recent"])
        )
        assert rebuilt["recent"][0]["status"] == "resolved"
        async with agent.get(f"{desk.url}/api/handoffs/{hid}") as response:
            again = await response.json()
        assert again["outcome"] == "solved" and again["reply"].startswith("Hi, I'm Ana")
    finally:
        await agent.close()
        await boss.close()
        desk.stop()
