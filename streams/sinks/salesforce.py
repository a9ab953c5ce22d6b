"""The Salesforce sink: upsert a Case by an external-id field holding the handoff_id.

`PATCH /services/data/vXX.X/sobjects/Case/<ExternalIdField__c>/<handoff_id>` creates the Case
(201) or updates it (200, or 204 on old API versions), so a retry or a re-published handoff
never makes a second Case. Then the context goes on a CaseComment unless the Case already has
this handoff's comment (salesforce_case.py). The org needs a unique, external-id text field
on Case (default `Warmhandoff_Handoff_Id__c`).

A handoff with a customer case (`request.case`: a customer id, a topic, a key shared within
the policy's attach window) goes to the customer's open Case on that topic instead, as a
CaseComment, or upserts a Case on the case key when there is none (salesforce_lookup.py), so
two instances racing on one customer make one Case. The org then also needs the case fields
(`CaseFields`: a unique external-id key, the customer id and the topic).

OAuth 2.0 against `<login_url>/services/oauth2/token`: the client-credentials flow (client id
and secret of a connected app; login_url is the org's My Domain URL), or the username-password
flow when a username is set. The token is fetched here, then simple-salesforce makes the REST
calls with it. simple-salesforce is synchronous (requests), so each delivery runs in a worker
thread and the event loop never blocks; every HTTP call has the configured timeout.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import requests
import structlog
from simple_salesforce.api import Salesforce, SFType
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession
from simple_salesforce.format import format_soql

from warmhandoff.streams.contract.models import CaseRef, HandoffRequest
from warmhandoff.streams.sinks.base import DeliveryResult
from warmhandoff.streams.sinks.exceptions import (
    DeliveryError,
    PermanentDeliveryError,
    SinkConfigError,
    TransientDeliveryError,
)
from warmhandoff.streams.sinks.salesforce_case import (
    attached_comment,
    case_comment,
    case_fields,
    comment_marker,
)
from warmhandoff.streams.sinks.salesforce_config import CaseFields, SalesforceConfig
from warmhandoff.streams.sinks.salesforce_lookup import (
    Placement,
    lookup_query,
    lookup_since,
    place,
)

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
    """Upserts a Case per handoff, or per customer case, plus a CaseComment with the context."""

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
        """File the handoff under its Case (upserted, or the customer's open one) with its
        comment, in a worker thread."""
        return await asyncio.to_thread(self._deliver, request)

    # --- in the worker thread -------------------------------------------------------------

    def _deliver(self, request: HandoffRequest) -> DeliveryResult:
        try:
            client = self._connect()
            cases = self.config.cases
            if request.case is not None and cases is not None:
                created, case_id = self._file_under_case(client, request, request.case, cases)
            else:
                created, case_id = self._own_case(client, request)
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

    def _own_case(self, client: Salesforce, request: HandoffRequest) -> tuple[bool, str]:
        """Upsert the handoff's own Case, keyed by its handoff id, and add its comment."""
        ext, mapping = self.config.external_id_field, self.config.mapping
        created, case_id = _upsert(client, ext, request.handoff_id, case_fields(request, mapping))
        if mapping.context_field:
            pass  # the context went into the Case with the upsert
        elif created or not self._has_comment(client, case_id, comment_marker(request)):
            _add_comment(client, case_id, case_comment(request))
        return created, case_id

    def _file_under_case(
        self, client: Salesforce, request: HandoffRequest, case: CaseRef, fields: CaseFields
    ) -> tuple[bool, str]:
        """Attach the handoff to the customer's open Case on its topic, or upsert the Case on
        the case key; every handoff's context is a CaseComment (a Case holds several)."""
        window = self.config.attach_window_hours
        placement = Placement(open_case_id=None, key=case.key)
        if window > 0:  # a zero window never attaches: the key is the handoff's own
            since = lookup_since(request.first_unmet_need_at, window)
            found = client.query(lookup_query(fields, case, since))
            placement = place(found.get("records", []), fields, case)
        if placement.open_case_id is not None:
            created, case_id = False, placement.open_case_id
        else:
            values = case_fields(request, replace(self.config.mapping, context_field=None))
            values |= {fields.customer: case.customer_id, fields.topic: case.topic}
            created, case_id = _upsert(client, fields.key, placement.key, values)
        if created:
            _add_comment(client, case_id, case_comment(request))
        elif not self._has_comment(client, case_id, comment_marker(request)):
            _add_comment(client, case_id, attached_comment(request))
        return created, case_id

    def _has_comment(self, client: Salesforce, case_id: str, marker: str) -> bool:
        """Whether the Case already has the comment with this marker (an earlier attempt's)."""
        result = client.query_all(
            format_soql("SELECT Id, CommentBody FROM CaseComment WHERE ParentId = {}", case_id)
        )
        return any(marker in (r.get("CommentBody") or "") for r in result.get("records", []))


def _upsert(client: Salesforce, field: str, value: str, values: dict[str, Any]) -> tuple[bool, str]:
    """Create or update the Case whose external-id `field` holds `value`; (created, Case Id)."""
    response = _sobject(client, "Case").upsert(
        f"{field}/{quote(value, safe='')}", values, raw_response=True
    )
    created = response.status_code == 201
    case_id = response.json().get("id") if response.content else None
    if not case_id:  # 204 No Content (API versions before 46.0): look it up
        found = client.query(format_soql(f"SELECT Id FROM Case WHERE {field} = {{}}", value))
        if not found.get("records"):
            raise TransientDeliveryError(
                "salesforce: the upserted Case is not found yet", reason="unavailable"
            )
        case_id = found["records"][0]["Id"]
    return created, str(case_id)


def _add_comment(client: Salesforce, case_id: str, body: str) -> None:
    """A private CaseComment on the Case."""
    _sobject(client, "CaseComment").create(
        {"ParentId": case_id, "CommentBody": body, "IsPublished": False}
    )


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
