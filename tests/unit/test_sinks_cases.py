"""A handoff attaches to the customer's case on its topic, in every sink: Salesforce (against
the REST stand-in of tests/salesforce_mock.py), the file sink and the webhook payload."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from warmhandoff.streams.config.sink import SinkSettings
from warmhandoff.streams.contract.models import HandoffRequest, Identity, Summary, TriggerHit
from warmhandoff.streams.core.case import case_for, window_start
from warmhandoff.streams.policy.loader import PolicyError
from warmhandoff.streams.sinks.factory import build_sink, salesforce_config
from warmhandoff.streams.sinks.jsonl import FileSink
from warmhandoff.streams.sinks.retry import RetryPolicy, with_retries
from warmhandoff.streams.sinks.salesforce import SalesforceConfig, SalesforceSink
from warmhandoff.streams.sinks.salesforce_case import attached_comment, case_comment
from warmhandoff.streams.sinks.salesforce_config import CaseFields
from warmhandoff.streams.sinks.salesforce_lookup import lookup_query, place
from warmhandoff.streams.sinks.webhook import WebhookSink

from ..salesforce_mock import (
    CASE_KEY_FIELD,
    CLIENT_ID,
    CLIENT_SECRET,
    CUSTOMER_FIELD,
    EXT_FIELD,
    TOPIC_FIELD,
    SalesforceMock,
    serve_salesforce,
)
from ..sinkdata import T0, handoff_request
from ..webhook_receiver import serve_receiver

pytestmark = pytest.mark.timeout(60)

WINDOW = 72.0
#: The first instant of the attach window after T0's: handoffs either side have two keys.
BOUNDARY = datetime.fromtimestamp((window_start(T0, WINDOW) + 1) * WINDOW * 3600, UTC)
REFUND = ("human_request",)  # topic `service`
PAYMENT = ("risk.payments", "human_request")  # topic `payments`


def escalation(
    conversation_id: str,
    *,
    customer: str | None = "u-77",
    codes: Sequence[str] = REFUND,
    at: datetime = T0,
    window: float = WINDOW,
    wants: str = "where is my refund",
) -> HandoffRequest:
    """A handoff request as the worker builds it: the case from customer, triggers and time."""
    summary = Summary(wants=wants, tried="lookup (failed)", why="asked", text=f"Wants: {wants}.")
    base = handoff_request(
        conversation_id,
        identity=Identity(customer_id=customer, verified=True, tier="gold"),
        summary=summary,
    )
    case = case_for(customer, codes, at, window, handoff_id=base.handoff_id)
    return base.model_copy(
        update={
            "triggers": [TriggerHit(code=code, value=True) for code in codes],
            "first_unmet_need_at": at,
            "turn_ts": at,
            "case": case,
        }
    )


# --- Salesforce ---------------------------------------------------------------------------


class Clock:
    """The stand-in's CreatedDate for new Cases: set by the test, like the handoffs' times."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def mock(tmp_path: Path) -> AsyncIterator[SalesforceMock]:
    async with serve_salesforce(tmp_path) as m:
        m.clock = Clock()
        yield m


def config(mock: SalesforceMock, **changes: object) -> SalesforceConfig:
    values: dict[str, object] = {
        "login_url": mock.url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "ca_file": mock.ca_file,
        "timeout_seconds": 5.0,
        "attach_window_hours": WINDOW,
    }
    return SalesforceConfig(**(values | changes))  # type: ignore[arg-type]


@pytest.fixture
async def sink(mock: SalesforceMock) -> AsyncIterator[SalesforceSink]:
    s = SalesforceSink(config(mock))
    await s.start()
    yield s
    await s.close()


def bodies(mock: SalesforceMock, case_id: str) -> list[str]:
    return [c["CommentBody"] for c in mock.comments_of(case_id)]


async def test_two_escalations_on_one_topic_are_one_case_with_two_comments(
    sink: SalesforceSink, mock: SalesforceMock
) -> None:
    first = escalation("c-1")
    second = escalation("c-2", at=T0 + timedelta(hours=5), wants="refund still missing")
    opened = await sink.deliver(first)
    mock.clock.now = T0 + timedelta(hours=5)  # type: ignore[attr-defined]
    mock.requests.clear()
    attached = await sink.deliver(second)
    assert opened.created is True and attached.created is False
    (case,) = mock.cases.values()
    assert opened.reference == attached.reference == case["Id"]
    assert first.case is not None
    assert case[CASE_KEY_FIELD] == first.case.key
    assert (case[CUSTOMER_FIELD], case[TOPIC_FIELD]) == ("u-77", "service")
    assert case["Subject"] == "where is my refund" and EXT_FIELD not in case
    assert bodies(mock, case["Id"]) == [case_comment(first), attached_comment(second)]
    assert "refund still missing" in bodies(mock, case["Id"])[1]
    # The second handoff looked the case up and commented; it never touched the Case.
    assert [m for m, _ in mock.requests] == ["GET", "GET", "POST"]


async def test_two_topics_are_two_cases_and_no_customer_id_a_case_per_handoff(
    sink: SalesforceSink, mock: SalesforceMock
) -> None:
    await sink.deliver(escalation("c-1"))
    await sink.deliver(escalation("c-2", codes=PAYMENT))
    assert sorted(c[TOPIC_FIELD] for c in mock.cases.values()) == ["payments", "service"]
    anonymous = [escalation(f"c-{n}", customer=None) for n in (3, 4)]
    assert all(request.case is None for request in anonymous)
    results = [await sink.deliver(request) for request in anonymous]
    assert [r.created for r in results] == [True, True]
    assert len(mock.cases) == 4
    for request in anonymous:  # today's Case per handoff, keyed by its handoff id
        case = mock.case_by_handoff(request.handoff_id)
        assert case is not None and CASE_KEY_FIELD not in case


async def test_two_instances_racing_on_one_customer_make_one_case(mock: SalesforceMock) -> None:
    sinks = [SalesforceSink(config(mock)) for _ in range(2)]
    requests = [escalation("c-1"), escalation("c-2", at=T0 + timedelta(minutes=1))]
    mock.hold_lookups = 2  # both look before either writes: the upsert must settle it
    results = await asyncio.gather(*(s.deliver(r) for s, r in zip(sinks, requests, strict=True)))
    (case,) = mock.cases.values()
    assert sorted(bool(r.created) for r in results) == [False, True]
    assert {r.reference for r in results} == {case["Id"]}
    assert sum(1 for m, p in mock.requests if m == "PATCH" and CASE_KEY_FIELD in p) == 2
    comments = bodies(mock, case["Id"])
    assert [sum(r.handoff_id in body for body in comments) for r in requests] == [1, 1]
    for s in sinks:
        await s.close()


async def test_a_closed_case_is_not_reopened_a_new_one_takes_the_next_handoffs(
    sink: SalesforceSink, mock: SalesforceMock
) -> None:
    first = await sink.deliver(escalation("c-1"))
    assert first.reference is not None
    mock.close(first.reference)
    later = T0 + timedelta(hours=1)  # the same window: the same case key
    mock.clock.now = later  # type: ignore[attr-defined]
    second = await sink.deliver(escalation("c-2", at=later))
    third = await sink.deliver(escalation("c-3", at=later + timedelta(minutes=5)))
    assert second.created is True and second.reference != first.reference
    assert third.created is False and third.reference == second.reference
    key = escalation("c-2", at=later).case.key  # type: ignore[union-attr]
    assert mock.cases[str(second.reference)][CASE_KEY_FIELD] == f"{key}.2"
    assert len(bodies(mock, str(second.reference))) == 2


async def test_a_case_from_the_previous_window_attaches_while_younger_than_the_window(
    sink: SalesforceSink, mock: SalesforceMock
) -> None:
    before = escalation("c-1", at=BOUNDARY - timedelta(hours=1))
    after = escalation("c-2", at=BOUNDARY + timedelta(hours=1))
    assert before.case is not None and after.case is not None
    assert before.case.key != after.case.key
    mock.clock.now = BOUNDARY - timedelta(hours=1)  # type: ignore[attr-defined]
    opened = await sink.deliver(before)
    mock.clock.now = BOUNDARY + timedelta(hours=1)  # type: ignore[attr-defined]
    assert (await sink.deliver(after)).reference == opened.reference
    much_later = BOUNDARY + timedelta(hours=WINDOW)  # older than the window: a new case
    mock.clock.now = much_later  # type: ignore[attr-defined]
    fresh = await sink.deliver(escalation("c-3", at=much_later))
    assert fresh.created is True and fresh.reference != opened.reference
    assert len(mock.cases) == 2


async def test_retries_of_an_attached_handoff_add_one_comment(
    sink: SalesforceSink, mock: SalesforceMock
) -> None:
    await sink.deliver(escalation("c-1"))
    mock.drop_after_commit["comment"] = 1
    second = escalation("c-2", at=T0 + timedelta(hours=2))
    policy = RetryPolicy(attempts=3, base_seconds=0.01, cap_seconds=0.02)

    async def no_wait(seconds: float) -> None:
        return None

    await with_retries(lambda: sink.deliver(second), policy, rng=random.Random(1), sleep=no_wait)
    await sink.deliver(second)  # and a redelivery of the same record
    (case,) = mock.cases.values()
    assert len(bodies(mock, case["Id"])) == 2


async def test_a_zero_window_or_cases_off_never_attach(mock: SalesforceMock) -> None:
    zero = SalesforceSink(config(mock, attach_window_hours=0.0))
    for name in ("c-1", "c-2"):
        await zero.deliver(escalation(name, window=0.0))
    assert len({c[CASE_KEY_FIELD] for c in mock.cases.values()}) == 2
    assert [m for m, _ in mock.requests] == ["PATCH", "POST"] * 2  # no lookup
    off = SalesforceSink(config(mock, cases=None))
    request = escalation("c-3")
    await off.deliver(request)
    await off.deliver(escalation("c-4"))
    assert len(mock.cases) == 4
    assert mock.case_by_handoff(request.handoff_id) is not None
    for s in (zero, off):
        await s.close()


def test_the_lookup_takes_the_newest_open_case_else_the_key_after_closed_ones() -> None:
    fields = CaseFields()
    ref = escalation("c-1").case
    assert ref is not None
    assert lookup_query(fields, ref, T0 - timedelta(hours=WINDOW)) == (
        "SELECT Id, IsClosed, Warmhandoff_Case_Key__c FROM Case"
        " WHERE Warmhandoff_Customer__c = 'u-77' AND Warmhandoff_Topic__c = 'service'"
        " AND CreatedDate >= 2026-11-22T16:00:00+00:00 ORDER BY CreatedDate DESC LIMIT 20"
    )

    def record(case_id: str, closed: bool, key: str) -> dict[str, object]:
        return {"Id": case_id, "IsClosed": closed, fields.key: key}

    assert place([], fields, ref).key == ref.key
    found = place([record("5002", True, "other"), record("5001", False, "other")], fields, ref)
    assert found.open_case_id == "5001"
    closed = [record("5003", True, f"{ref.key}.2"), record("5002", True, ref.key)]
    assert place(closed, fields, ref) == place(closed[::-1], fields, ref)
    assert place(closed, fields, ref).key == f"{ref.key}.3"
    assert place([record("5004", True, f"{ref.key}.x")], fields, ref).key == ref.key


def policy_with_window(tmp_path: Path, hours: float) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(
        'version: "cases-test"\n'
        "queues:\n  general: {skills: [general], sla: {target: 0.8, seconds: 60}}\n"
        "defaults: {queue: general}\n"
        f"cases: {{attach_window_hours: {hours}}}\n"
    )
    return path


def test_the_sinks_take_the_window_from_the_policy_and_the_fields_from_settings(
    tmp_path: Path,
) -> None:
    settings = SinkSettings(
        policy_file=policy_with_window(tmp_path, 24),
        sink_salesforce_client_id="key",
        sink_salesforce_client_secret="secret",  # type: ignore[arg-type]
        sink_salesforce_case_key_field="Case_Key__c",
        sink_file_path=tmp_path / "handoffs.jsonl",
    )
    config = salesforce_config(settings)
    assert config.attach_window_hours == 24
    assert config.cases == CaseFields(key="Case_Key__c")
    file_sink = build_sink("file", settings)
    assert isinstance(file_sink, FileSink)
    off = salesforce_config(settings.model_copy(update={"sink_salesforce_attach_cases": False}))
    assert off.cases is None
    broken = tmp_path / "broken.yaml"
    broken.write_text("cases: {attach_window_hours: -1}\n")
    with pytest.raises(PolicyError, match="attach_window_hours"):
        build_sink("file", settings.model_copy(update={"policy_file": broken}))


# --- file sink ----------------------------------------------------------------------------


def cases(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line)["case"] for line in path.read_bytes().splitlines()]


async def file_sink(path: Path, window: float = WINDOW) -> FileSink:
    sink = FileSink(path, attach_window_hours=window)
    await sink.start()
    return sink


async def test_file_two_escalations_on_one_topic_share_the_first_ones_case(
    tmp_path: Path,
) -> None:
    path = tmp_path / "handoffs.jsonl"
    sink = await file_sink(path)
    first, second = escalation("c-1"), escalation("c-2", at=T0 + timedelta(hours=3))
    other_topic = escalation("c-3", codes=PAYMENT, at=T0 + timedelta(hours=4))
    for request in (first, second, other_topic):
        assert (await sink.deliver(request)).created is True
    assert first.case is not None and other_topic.case is not None
    one, two, three = cases(path)
    assert one == {
        "key": first.case.key,
        "customer_id": "u-77",
        "topic": "service",
        "attached": False,
        "handoffs": 1,
        "opened_at": T0.isoformat(),
    }
    assert two == one | {"attached": True, "handoffs": 2}
    assert three["key"] == other_topic.case.key and three["attached"] is False
    # Additive: the rest of each line is the request as published.
    line = orjson.loads(path.read_bytes().splitlines()[1])
    published = orjson.loads(second.model_dump_json(exclude_none=True))
    assert {k: v for k, v in line.items() if k != "case"} == {
        k: v for k, v in published.items() if k != "case"
    }


async def test_file_the_window_slides_from_the_cases_opening(tmp_path: Path) -> None:
    path = tmp_path / "handoffs.jsonl"
    sink = await file_sink(path)
    before = escalation("c-1", at=BOUNDARY - timedelta(hours=1))
    after = escalation("c-2", at=BOUNDARY + timedelta(hours=1))
    late = escalation("c-3", at=BOUNDARY + timedelta(hours=WINDOW))
    for request in (before, after, late):
        await sink.deliver(request)
    assert before.case is not None and late.case is not None
    one, two, three = cases(path)
    assert two["key"] == one["key"] == before.case.key and two["attached"] is True
    assert three["key"] == late.case.key and three["attached"] is False


async def test_file_a_restart_and_a_second_process_keep_the_cases(tmp_path: Path) -> None:
    path = tmp_path / "handoffs.jsonl"
    await (await file_sink(path)).deliver(escalation("c-1"))
    restarted, other = await file_sink(path), await file_sink(path)
    await restarted.deliver(escalation("c-2", at=T0 + timedelta(hours=1)))
    await other.deliver(escalation("c-3", at=T0 + timedelta(hours=2)))  # reads c-2's line first
    assert [(c["attached"], c["handoffs"]) for c in cases(path)] == [
        (False, 1),
        (True, 2),
        (True, 3),
    ]
    assert len({c["key"] for c in cases(path)}) == 1


async def test_file_two_sinks_racing_on_one_customer_file_one_case(tmp_path: Path) -> None:
    path = tmp_path / "handoffs.jsonl"
    a, b = await file_sink(path), await file_sink(path)
    requests = [escalation(f"c-{n}", at=T0 + timedelta(minutes=n)) for n in range(4)]
    await asyncio.gather(*(s.deliver(r) for s, r in zip((a, b, a, b), requests, strict=True)))
    filed = cases(path)
    assert len({c["key"] for c in filed}) == 1
    assert sorted(c["handoffs"] for c in filed) == [1, 2, 3, 4]  # type: ignore[type-var]
    assert [c["attached"] for c in filed].count(False) == 1


async def test_file_no_customer_id_or_a_zero_window_never_join(tmp_path: Path) -> None:
    path = tmp_path / "handoffs.jsonl"
    sink = await file_sink(path, window=0.0)
    for name in ("c-1", "c-2"):
        await sink.deliver(escalation(name, window=0.0))
    for name in ("c-3", "c-4"):
        await sink.deliver(escalation(name, customer=None))
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert [line["case"]["attached"] for line in lines[:2]] == [False, False]
    assert lines[0]["case"]["key"] != lines[1]["case"]["key"]
    assert all("case" not in line for line in lines[2:])


# --- webhook ------------------------------------------------------------------------------


async def test_the_webhook_payload_carries_the_case_for_the_receiver_to_upsert_on(
    tmp_path: Path,
) -> None:
    secret = b"shared"
    async with serve_receiver(secret, tmp_path) as receiver:
        sink = WebhookSink(receiver.url, secret, timeout_seconds=5, ca_file=receiver.ca_file)
        await sink.start()
        first, second = escalation("c-1"), escalation("c-2", at=T0 + timedelta(hours=1))
        for request in (first, second):
            await sink.deliver(request)
        await sink.close()
    sent = [orjson.loads(attempt.body)["case"] for attempt in receiver.attempts]
    assert first.case is not None
    assert sent == [first.case.model_dump()] * 2
