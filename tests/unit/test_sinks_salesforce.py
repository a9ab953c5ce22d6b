"""The Salesforce sink against a local server answering Salesforce's REST calls
(tests/salesforce_mock.py), and the Case mapping on its own."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from warmhandoff.streams.config.sink import SinkSettings
from warmhandoff.streams.contract.models import Channel
from warmhandoff.streams.sinks.exceptions import (
    PermanentDeliveryError,
    SinkConfigError,
    TransientDeliveryError,
)
from warmhandoff.streams.sinks.factory import build_sink, salesforce_config
from warmhandoff.streams.sinks.retry import RetryPolicy, with_retries
from warmhandoff.streams.sinks.salesforce import SalesforceConfig, SalesforceSink
from warmhandoff.streams.sinks.salesforce_case import (
    CaseMapping,
    case_comment,
    case_fields,
    comment_marker,
)

from ..salesforce_mock import (
    CLIENT_ID,
    CLIENT_SECRET,
    EXT_FIELD,
    SalesforceMock,
    error,
    serve_salesforce,
)
from ..sinkdata import handoff_request

pytestmark = pytest.mark.timeout(60)

POLICY = RetryPolicy(attempts=3, base_seconds=0.01, cap_seconds=0.02)


@pytest.fixture
async def mock(tmp_path: Path) -> AsyncIterator[SalesforceMock]:
    async with serve_salesforce(tmp_path) as m:
        yield m


def config(mock: SalesforceMock, **changes: object) -> SalesforceConfig:
    values: dict[str, object] = {
        "login_url": mock.url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "ca_file": mock.ca_file,
        "timeout_seconds": 5.0,
    }
    values.update(changes)
    return SalesforceConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
async def sink(mock: SalesforceMock) -> AsyncIterator[SalesforceSink]:
    s = SalesforceSink(config(mock))
    await s.start()
    yield s
    await s.close()


async def no_wait(seconds: float) -> None:
    return None


async def retried(sink: SalesforceSink, **kw: object) -> object:
    request = handoff_request(**kw)  # type: ignore[arg-type]
    return await with_retries(
        lambda: sink.deliver(request), POLICY, rng=random.Random(1), sleep=no_wait
    )


async def test_creates_one_case_by_external_id_with_its_comment(
    sink: SalesforceSink, mock: SalesforceMock
) -> None:
    request = handoff_request()
    result = await sink.deliver(request)
    assert result.created is True
    case = mock.case_by_handoff(request.handoff_id)
    assert case is not None and result.reference == case["Id"]
    assert case["Subject"] == request.bundle.summary.wants
    assert case["Priority"] == "High" and case["Origin"] == "Chat" and case["Status"] == "New"
    assert request.bundle.summary.text in case["Description"]
    assert "Check the refund's processing date." in case["Description"]
    (comment,) = mock.comments_of(case["Id"])
    assert comment["CommentBody"] == case_comment(request)
    assert comment["IsPublished"] is False
    assert mock.requests == [
        ("PATCH", f"/services/data/v62.0/sobjects/Case/{EXT_FIELD}/{request.handoff_id}"),
        ("POST", "/services/data/v62.0/sobjects/CaseComment/"),
    ]
    assert mock.token_requests == [
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "client_credentials"}
    ]


async def test_a_republished_handoff_updates_the_case_and_a_reroute_adds_a_comment(
    sink: SalesforceSink, mock: SalesforceMock
) -> None:
    await sink.deliver(handoff_request())
    again = await sink.deliver(handoff_request())
    assert again.created is False
    rerouted = await sink.deliver(handoff_request(queue="retention", priority=4))
    assert len(mock.cases) == 1
    (case,) = mock.cases.values()
    assert case["Priority"] == "Low"
    bodies = [c["CommentBody"] for c in mock.comments_of(case["Id"])]
    assert len(bodies) == 2 and "Queue: retention" in bodies[1]
    assert rerouted.reference == case["Id"]


async def test_an_upsert_committed_then_dropped_is_retried_into_one_case_and_one_comment(
    sink: SalesforceSink, mock: SalesforceMock
) -> None:
    mock.drop_after_commit["upsert"] = 1
    await retried(sink)
    assert len(mock.cases) == 1
    (case,) = mock.cases.values()
    assert len(mock.comments_of(case["Id"])) == 1
    patches = [r for r in mock.requests if r[0] == "PATCH"]
    assert len(patches) == 2


async def test_a_comment_committed_then_dropped_is_found_on_retry_not_written_twice(
    sink: SalesforceSink, mock: SalesforceMock
) -> None:
    mock.drop_after_commit["comment"] = 1
    await retried(sink)
    (case,) = mock.cases.values()
    assert len(mock.comments_of(case["Id"])) == 1
    assert ("GET", "/services/data/v62.0/query/") in mock.requests


async def test_two_concurrent_deliveries_of_one_handoff_make_one_case(
    mock: SalesforceMock,
) -> None:
    sinks = [SalesforceSink(config(mock)) for _ in range(2)]
    request = handoff_request()
    results = await asyncio.gather(*(s.deliver(request) for s in sinks))
    assert len(mock.cases) == 1
    assert sorted(r.created for r in results if r.created is not None) == [False, True]
    assert len({r.reference for r in results}) == 1
    # The comment check and write are two calls, so two deliveries racing may both write it
    # (docs/crm-integration.md); the Case, keyed by the handoff id, is never doubled.
    (case,) = mock.cases.values()
    assert 1 <= len(mock.comments_of(case["Id"])) <= 2
    for s in sinks:
        await s.close()


async def test_an_expired_token_is_renewed_on_the_next_attempt(
    sink: SalesforceSink, mock: SalesforceMock
) -> None:
    await sink.deliver(handoff_request("c-1"))
    mock.expire_tokens()
    with pytest.raises(TransientDeliveryError) as caught:
        await sink.deliver(handoff_request("c-2"))
    assert caught.value.reason == "unauthorized"
    await sink.deliver(handoff_request("c-2"))
    assert len(mock.token_requests) == 2 and len(mock.cases) == 2


async def test_503_and_lock_contention_are_retried_and_a_bad_request_is_not(
    sink: SalesforceSink, mock: SalesforceMock
) -> None:
    mock.scripted = [
        error(503, "SERVER_UNAVAILABLE", "try later"),
        error(400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record"),
    ]
    await retried(sink)
    assert len(mock.cases) == 1
    mock.scripted = [error(400, "INVALID_FIELD", "No such column 'customer text here'", ["X"])]
    with pytest.raises(PermanentDeliveryError) as caught:
        await retried(sink, conversation_id="c-2")
    assert str(caught.value) == "salesforce: HTTP 400 INVALID_FIELD"  # no message: may quote data
    assert caught.value.reason == "rejected"


async def test_api_limits_are_throttling_and_a_missing_field_is_a_refusal(
    mock: SalesforceMock,
) -> None:
    mock.scripted = [error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")]
    limited = SalesforceSink(config(mock))
    with pytest.raises(TransientDeliveryError) as caught:
        await limited.deliver(handoff_request())
    assert caught.value.reason == "throttled"
    wrong_field = SalesforceSink(config(mock, external_id_field="Handoff__c"))
    with pytest.raises(PermanentDeliveryError, match="HTTP 404 NOT_FOUND"):
        await wrong_field.deliver(handoff_request())


async def test_refused_credentials_and_a_dead_server_are_retriable(
    mock: SalesforceMock, tmp_path: Path
) -> None:
    bad = SalesforceSink(config(mock, client_secret="wrong"))
    with pytest.raises(
        TransientDeliveryError, match="token request refused: HTTP 400 invalid_client"
    ):
        await bad.deliver(handoff_request())
    dead = SalesforceSink(config(mock, login_url="https://127.0.0.1:9"))
    with pytest.raises(TransientDeliveryError) as caught:
        await dead.deliver(handoff_request())
    assert caught.value.reason == "unavailable"


async def test_the_username_password_flow_appends_the_security_token(mock: SalesforceMock) -> None:
    s = SalesforceSink(
        config(mock, username="integration@example.com", password="pw", security_token="TOKEN")
    )
    await s.deliver(handoff_request())
    assert mock.token_requests[0]["grant_type"] == "password"
    assert len(mock.cases) == 1


async def test_an_old_api_version_answering_204_is_looked_up_by_query(
    sink: SalesforceSink, mock: SalesforceMock
) -> None:
    await sink.deliver(handoff_request())
    mock.legacy_204 = True
    result = await sink.deliver(handoff_request())
    (case,) = mock.cases.values()
    assert result.reference == case["Id"] and result.created is False


def test_case_fields_map_priority_origin_and_only_valid_contact_data() -> None:
    mapping = CaseMapping()
    fields = case_fields(handoff_request(priority=3, channel=Channel.voice), mapping)
    assert fields["Priority"] == "Medium" and fields["Origin"] == "Phone"
    assert "ContactId" not in fields and "SuppliedEmail" not in fields and "Status" not in fields
    rich = handoff_request(
        fields={"email": "jane@example.com", "contact_id": "003000000000001AAA"},
        entities={"phone": ["+44 20 7946 0000"], "contact_id": ["not-an-id"]},
    )
    fields = case_fields(rich, mapping)
    assert fields["ContactId"] == "003000000000001AAA"
    assert fields["SuppliedEmail"] == "jane@example.com"
    assert fields["SuppliedPhone"] == "+44 20 7946 0000"
    long = handoff_request()
    long.bundle.summary.wants = "x" * 400
    assert len(case_fields(long, mapping)["Subject"]) == 255
    custom = CaseMapping(priorities={2: "Urgent"}, origins={})
    fields = case_fields(handoff_request(), custom)
    assert fields["Priority"] == "Urgent" and "Origin" not in fields


def test_the_comment_fits_salesforce_and_keeps_the_newest_turns() -> None:
    from warmhandoff.streams.contract.models import Role, TranscriptLine

    from ..sinkdata import T0

    turns = [
        TranscriptLine(seq=i, ts=T0, role=Role.customer, text=f"turn {i} " + "y" * 300)
        for i in range(40)
    ]
    request = handoff_request(transcript=turns)
    body = case_comment(request)
    assert len(body) <= 4000
    assert body.startswith(comment_marker(request))
    assert "turn 39 " in body and "turn 0 " not in body and "earlier turns omitted" in body
    assert comment_marker(request) != comment_marker(handoff_request(queue="retention"))


def test_settings_build_the_sink_and_never_show_secrets() -> None:
    settings = SinkSettings(
        sink_salesforce_client_id="key",
        sink_salesforce_client_secret="very-secret",  # type: ignore[arg-type]
        sink_salesforce_priorities={1: "P1"},
    )
    built = build_sink("salesforce", settings)
    assert isinstance(built, SalesforceSink)
    assert "very-secret" not in repr(settings) and "very-secret" not in repr(built.config)
    assert salesforce_config(settings).mapping.priorities == {1: "P1"}
    with pytest.raises(SinkConfigError, match="CLIENT_ID"):
        build_sink("salesforce", SinkSettings())


async def test_with_a_context_field_two_concurrent_deliveries_write_one_case_and_no_comment(
    mock: SalesforceMock,
) -> None:
    from warmhandoff.streams.sinks.salesforce_case import CaseMapping

    mapping = CaseMapping(context_field="Warmhandoff_Context__c")
    sinks = [SalesforceSink(config(mock, mapping=mapping)) for _ in range(2)]
    request = handoff_request()
    await asyncio.gather(*(s.deliver(request) for s in sinks))
    (case,) = mock.cases.values()
    # The context rides on the upsert itself: no check-then-write, so nothing to race.
    assert case["Warmhandoff_Context__c"].startswith(f"[warmhandoff handoff {request.handoff_id}")
    assert mock.comments_of(case["Id"]) == []
    for s in sinks:
        await s.close()
