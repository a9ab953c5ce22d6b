"""The customer's case through real sink processes on a real broker: `warmhandoff sink
salesforce` and `warmhandoff sink file`, with the attach window read from the policy file
named by WARMHANDOFF_POLICY_FILE."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from warmhandoff.streams.contract.models import HandoffRequest, TriggerHit
from warmhandoff.streams.core.case import case_for

from ..salesforce_mock import CLIENT_ID, CLIENT_SECRET, TOPIC_FIELD, serve_salesforce
from ..sinkdata import T0, handoff_request
from .conftest import Deployment
from .test_sinks_e2e import SinkProcess, publish, read, record

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

WINDOW = 24.0  # not the default 72: the sinks must have read the policy file


def escalation(conversation_id: str, hours: float, codes: Sequence[str]) -> HandoffRequest:
    at = T0 + timedelta(hours=hours)
    base = handoff_request(conversation_id)
    case = case_for("u-77", codes, at, WINDOW, handoff_id=base.handoff_id)
    return base.model_copy(
        update={
            "triggers": [TriggerHit(code=code, value=True) for code in codes],
            "first_unmet_need_at": at,
            "case": case,
        }
    )


def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(
        'version: "cases-e2e"\n'
        "queues:\n  general: {skills: [general], sla: {target: 0.8, seconds: 60}}\n"
        "defaults: {queue: general}\n"
        f"cases: {{attach_window_hours: {WINDOW}}}\n"
    )
    return path


async def test_sink_processes_attach_within_the_policys_window(
    deployment: Deployment, tmp_path: Path
) -> None:
    handoffs = [
        escalation("c-1", 0, ["human_request"]),  # opens the service case
        escalation("c-2", 20, ["human_request"]),  # 20 h later, next window: attaches
        escalation("c-3", 1, ["risk.payments"]),  # another topic: another case
        escalation("c-4", 30, ["human_request"]),  # 30 h after the opening: a new case
    ]
    path = tmp_path / "handoffs.jsonl"
    async with serve_salesforce(tmp_path) as salesforce:
        now = {"at": T0}
        salesforce.clock = lambda: now["at"]
        shared = {"WARMHANDOFF_POLICY_FILE": str(policy(tmp_path))}
        env = shared | {
            "WARMHANDOFF_SINK_SALESFORCE_LOGIN_URL": salesforce.url,
            "WARMHANDOFF_SINK_SALESFORCE_CLIENT_ID": CLIENT_ID,
            "WARMHANDOFF_SINK_SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
            "WARMHANDOFF_SINK_SALESFORCE_CA_FILE": str(salesforce.ca_file),
        }
        sinks = [
            SinkProcess(deployment, ["salesforce"], tmp_path / "salesforce.log", env),
            SinkProcess(deployment, ["file", "--path", str(path)], tmp_path / "file.log", shared),
        ]
        try:
            await asyncio.gather(*(s.wait_ready(within=90) for s in sinks))
            # One at a time, each settled by both sinks before the next: the Cases' CreatedDate
            # follows the handoffs' times, as it would live.
            for n, request in enumerate(handoffs, start=1):
                now["at"] = request.first_unmet_need_at

                def settled(out: dict[str, list[dict[str, Any]]], n: int = n) -> bool:
                    return len(out["events"]) >= 2 * n

                await publish(deployment, [record(request)])
                out = await read(deployment, settled, within=90)
                assert settled(out), [s.log.read_text()[-2000:] for s in sinks]
        finally:
            codes = [await asyncio.to_thread(s.stop) for s in sinks]
        assert codes == [0, 0], [s.log.read_text()[-2000:] for s in sinks]
        assert {e["type"] for e in out["events"]} == {"delivered"}
        topics = sorted(c[TOPIC_FIELD] for c in salesforce.cases.values())
        assert topics == ["payments", "service", "service"]
        per_case = sorted(len(salesforce.comments_of(c)) for c in salesforce.cases)
        assert per_case == [1, 1, 2]

    filed = {
        line["conversation_id"]: line["case"]
        for line in map(orjson.loads, path.read_bytes().splitlines())
    }
    assert filed["c-2"]["key"] == filed["c-1"]["key"] and filed["c-2"]["attached"] is True
    assert len({filed[c]["key"] for c in ("c-1", "c-3", "c-4")}) == 3
    assert not any(filed[c]["attached"] for c in ("c-1", "c-3", "c-4"))
    assert datetime.fromisoformat(filed["c-4"]["opened_at"]) == T0 + timedelta(hours=30)
