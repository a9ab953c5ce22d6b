"""The Salesforce sink: upsert a Case by an external-id field holding the handoff_id.

`PATCH /services/data/vXX.X/sobjects/Case/<ExternalIdField__c>/<handoff_id>` creates the Case
(201) or updates it (200, or 204 on old API versions), so a retry or a re-published handoff
never makes a second Case. Then the context goes on a CaseComment unless the Case already has
this handoff's comment (salesforce_case.py). The org needs a unique, external-id text field
on Case (default `Warmhandoff_Handoff_Id__c`).

OAuth 2.0 against `<login_url>/services/oauth2/token`: the client-credentials flow (client id
and secret of a connected app; login_url is the org's My Domain URL), or the username-password
flow when a username is set. The token is fetched here, then simple-salesforce makes the REST
calls with it. simple-salesforce is synchronous (requests), so each delivery runs in a worker
thread and the event loop never blocks; every HTTP call has the configured timeout.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import requests
import structlog
from simple_salesforce.api import Salesforce, SFType
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession
from simple_salesforce.format import format_soql

from warmhandoff.streams.contract.models import HandoffRequest
from warmhandoff.streams.sinks.base import DeliveryResult
from warmhandoff.streams.sinks.exceptions import (
    DeliveryError,
    PermanentDeliveryError,
    SinkConfigError,
    TransientDeliveryError,
)
from warmhandoff.streams.sinks.salesforce_case import (
    case_comment,
    case_fields,
    comment_marker,
)
from warmhandoff.streams.sinks.salesforce_config import SalesforceConfig

log = structlog.get_logger(__name__)

#: Error codes Salesforce documents as worth retrying, whatever the HTTP status.
TRANSIENT_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED", "UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"})


class _TimeoutSession(requests.Session):
    """A requests session that gives every call a timeout and the configured CA bundle."""

    def __init__(self, timeout: float, ca_file: Path | None) -> None:
        super().__init__()
        self._timeout = timeout
        self._ca_file = str(ca_file) if ca_file is not None else None

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        if self._ca_file is not None:
            # Per call: requests lets REQUESTS_CA_BUNDLE override a session-wide `verify`.
            kwargs.setdefault("verify", self._ca_file)
        return super().request(method, url, *args, **kwargs)


class SalesforceSink:
    """Upserts one Case per handoff, plus a CaseComment with the context."""

    kind = "salesforce"

    def __init__(self, config: SalesforceConfig) -> None:
        if not config.client_id or not config.client_secret:
            raise SinkConfigError(
                "the Salesforce sink needs WARMHANDOFF_SINK_SALESFORCE_CLIENT_ID and "
                "WARMHANDOFF_SINK_SALESFORCE_CLIENT_SECRET (a connected app)"
            )
        if config.username and not config.password:
            raise SinkConfigError("WARMHANDOFF_SINK_SALESFORCE_USERNAME is set without a password")
        self.config = config
        self._session = _TimeoutSession(config.timeout_seconds, config.ca_file)
        self._client: Salesforce | None = None

    async def start(self) -> None:
        """Nothing to open: the first delivery authenticates (and retries if it cannot)."""

    async def close(self) -> None:
        """Close the HTTP connections."""
        self._session.close()

    async def deliver(self, request: HandoffRequest) -> DeliveryResult:
        """Upsert the handoff's Case and add its comment, in a worker thread."""
        return await asyncio.to_thread(self._deliver, request)

    # --- in the worker thread -------------------------------------------------------------

    def _deliver(self, request: HandoffRequest) -> DeliveryResult:
        try:
            client = self._connect()
            created, case_id = self._upsert_case(client, request)
            if self.config.mapping.context_field:
                pass  # the context went into the Case with the upsert
            elif created or not self._has_comment(client, case_id, comment_marker(request)):
                _sobject(client, "CaseComment").create(
                    {
                        "ParentId": case_id,
                        "CommentBody": case_comment(request),
                        "IsPublished": False,
                    }
                )
        except SalesforceExpiredSession:
            self._client = None  # the next attempt fetches a new token
            raise TransientDeliveryError(
                "salesforce: the access token expired or was revoked", reason="unauthorized"
            ) from None
        except SalesforceError as exc:
            raise _classify(exc) from None
        except requests.RequestException as exc:
            raise TransientDeliveryError(
                f"salesforce: {type(exc).__name__}", reason="unavailable"
            ) from None
        return DeliveryResult(reference=case_id, created=created)

    def _connect(self) -> Salesforce:
        if self._client is None:
            token, instance_url = self._token()
            self._client = Salesforce(
                session_id=token,
                instance_url=instance_url,
                version=self.config.api_version,
                session=self._session,
            )
        return self._client

    def _token(self) -> tuple[str, str]:
        """An access token and the instance URL from the OAuth token endpoint."""
        c = self.config
        form = {"client_id": c.client_id, "client_secret": c.client_secret}
        if c.username:
            assert c.password is not None  # checked in __init__
            form |= {
                "grant_type": "password",
                "username": c.username,
                "password": c.password + c.security_token,
            }
        else:
            form["grant_type"] = "client_credentials"
        url = c.login_url.rstrip("/") + "/services/oauth2/token"
        response = self._session.post(url, data=form)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error", "no error code") if isinstance(body, dict) else "?"
            raise TransientDeliveryError(
                f"salesforce: token request refused: HTTP {response.status_code} {error}",
                reason="unauthorized",
            )
        token, instance_url = body.get("access_token"), body.get("instance_url")
        if not isinstance(token, str) or not isinstance(instance_url, str):
            raise TransientDeliveryError(
                "salesforce: the token response has no access_token or instance_url",
                reason="unauthorized",
            )
        return token, instance_url

    def _upsert_case(self, client: Salesforce, request: HandoffRequest) -> tuple[bool, str]:
        """Create or update the handoff's Case; (created, Case Id)."""
        ext = self.config.external_id_field
        key = f"{ext}/{quote(request.handoff_id, safe='')}"
        response = _sobject(client, "Case").upsert(
            key, case_fields(request, self.config.mapping), raw_response=True
        )
        created = response.status_code == 201
        case_id = response.json().get("id") if response.content else None
        if not case_id:  # 204 No Content (API versions before 46.0): look it up
            found = client.query(
                format_soql(f"SELECT Id FROM Case WHERE {ext} = {{}}", request.handoff_id)
            )
            if not found.get("records"):
                raise TransientDeliveryError(
                    "salesforce: the upserted Case is not found yet", reason="unavailable"
                )
            case_id = found["records"][0]["Id"]
        return created, str(case_id)

    def _has_comment(self, client: Salesforce, case_id: str, marker: str) -> bool:
        """Whether the Case already has the comment with this marker (an earlier attempt's)."""
        result = client.query_all(
            format_soql("SELECT Id, CommentBody FROM CaseComment WHERE ParentId = {}", case_id)
        )
        return any(marker in (r.get("CommentBody") or "") for r in result.get("records", []))


def _sobject(client: Salesforce, name: str) -> SFType:
    """simple-salesforce's handle on one sObject type (`client.Case`)."""
    return cast(SFType, getattr(client, name))


def _classify(exc: SalesforceError) -> DeliveryError:
    """A retriable or permanent delivery error from a Salesforce error answer."""
    codes = _error_codes(exc.content)
    detail = f"salesforce: HTTP {exc.status} {','.join(codes) or 'no error code'}"
    if exc.status >= 500 or TRANSIENT_CODES & set(codes):
        reason = "throttled" if "REQUEST_LIMIT_EXCEEDED" in codes else "unavailable"
        return TransientDeliveryError(detail, reason=reason)
    if exc.status == 300:
        return PermanentDeliveryError(
            detail + ": more than one Case has this handoff id (make the field unique)",
            reason="rejected",
        )
    return PermanentDeliveryError(
        detail, reason="unauthorized" if exc.status == 403 else "rejected"
    )


def _error_codes(content: object) -> list[str]:
    """The errorCode of each item of a Salesforce error body (a JSON list; simple-salesforce
    hands it over parsed, or as text when it is not JSON). Messages are left out: they may
    quote field values."""
    items = content
    if isinstance(content, str | bytes):
        try:
            items = json.loads(content)
        except ValueError:
            return []
    if not isinstance(items, list):
        return []
    return [str(i["errorCode"]) for i in items if isinstance(i, dict) and "errorCode" in i][:5]
