"""A local stand-in for the Salesforce REST API, for the Salesforce sink's tests.

It answers the calls the sink makes with the request and response shapes of Salesforce's
REST API documentation: the OAuth token endpoint (`POST /services/oauth2/token`, form body,
`{"access_token", "instance_url", ...}` or `{"error", "error_description"}`), the upsert by
external id (`PATCH /services/data/vXX.X/sobjects/Case/<Field>/<value>`: 201
`{"id", "success", "errors", "created": true}` on create, 200 with `"created": false` on
update, or 204 like API versions before 46.0), CaseComment create (`POST
/sobjects/CaseComment/`: 201 `{"id", "success", "errors"}`) and SOQL queries (`GET /query/?q=`,
`{"totalSize", "done", "records"}`); errors are a JSON list of `{"message", "errorCode",
"fields"}`. Records live in memory. Switches: scripted error answers, expired tokens, a 204
mode, and "commit the write, then drop the connection without answering".
"""

from __future__ import annotations

import itertools
import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
from aiohttp import web

CLIENT_ID = "3MVG9-test-consumer-key"
CLIENT_SECRET = "test-consumer-secret"
EXT_FIELD = "Warmhandoff_Handoff_Id__c"
CASE_FIELDS = {
    "Subject",
    "Description",
    "Priority",
    "Origin",
    "Status",
    "ContactId",
    "SuppliedEmail",
    "SuppliedPhone",
    # An org's custom Long Text Area for the handoff context (the sink's optional
    # WARMHANDOFF_SINK_SALESFORCE_CONTEXT_FIELD); an org without it answers INVALID_FIELD.
    "Warmhandoff_Context__c",
}
_SOQL = re.compile(
    r"^SELECT (?P<cols>[\w, ]+) FROM (?P<obj>\w+) WHERE (?P<field>\w+) = '(?P<value>[^']*)'$"
)


def error(status: int, code: str, message: str, fields: list[str] | None = None) -> web.Response:
    return web.json_response(
        [{"message": message, "errorCode": code, "fields": fields or []}], status=status
    )


@dataclass
class SalesforceMock:
    version: str = "62.0"
    url: str = ""
    ca_file: Path | None = None
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)  # by Id
    comments: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of data calls
    token_requests: list[dict[str, str]] = field(default_factory=list)
    scripted: list[web.Response] = field(default_factory=list)  # answers to the next data calls
    drop_after_commit: dict[str, int] = field(default_factory=dict)  # "upsert"/"comment" -> n
    legacy_204: bool = False
    _tokens: set[str] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def expire_tokens(self) -> None:
        self._tokens.clear()

    def case_by_handoff(self, handoff_id: str) -> dict[str, Any] | None:
        return next((c for c in self.cases.values() if c.get(EXT_FIELD) == handoff_id), None)

    def comments_of(self, case_id: str) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["ParentId"] == case_id]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/services/oauth2/token", self.token)
        base = f"/services/data/v{self.version}"
        app.router.add_patch(base + "/sobjects/Case/{field}/{value}", self.upsert)
        app.router.add_post(base + "/sobjects/CaseComment/", self.create_comment)
        app.router.add_get(base + "/query/", self.query)
        return app

    # --- handlers -------------------------------------------------------------------------

    async def token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_requests.append(form)
        grant = form.get("grant_type")
        good_client = (
            form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET
        )
        if grant not in ("client_credentials", "password") or not good_client:
            return web.json_response(
                {"error": "invalid_client", "error_description": "invalid client credentials"},
                status=400,
            )
        if grant == "password" and (form.get("username"), form.get("password")) != (
            "integration@example.com",
            "pw" + "TOKEN",
        ):
            return web.json_response(
                {"error": "invalid_grant", "error_description": "authentication failure"},
                status=400,
            )
        token = f"00D000000000001!{next(self._ids)}"
        self._tokens.add(token)
        return web.json_response(
            {
                "access_token": token,
                "instance_url": self.url,
                "id": f"{self.url}/id/00D000000000001/005000000000001",
                "token_type": "Bearer",
                "issued_at": "1764086400000",
                "signature": "c2lnbmF0dXJl",
            }
        )

    def _refusal(self, request: web.Request) -> web.Response | None:
        self.requests.append((request.method, request.path))
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self._tokens:
            return error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if self.scripted:
            return self.scripted.pop(0)
        return None

    def _drop(self, request: web.Request, kind: str) -> bool:
        if self.drop_after_commit.get(kind, 0) > 0:
            self.drop_after_commit[kind] -= 1
            assert request.transport is not None
            request.transport.abort()
            return True
        return False

    async def upsert(self, request: web.Request) -> web.Response:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        ext, value = request.match_info["field"], request.match_info["value"]
        if ext != EXT_FIELD:
            return error(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {ext}",
            )
        body = await request.json()
        unknown = sorted(set(body) - CASE_FIELDS)
        if unknown:
            return error(
                400,
                "INVALID_FIELD",
                f"No such column '{unknown[0]}' on sobject of type Case",
                unknown,
            )
        if len(body.get("Subject", "")) > 255:
            return error(400, "STRING_TOO_LONG", "Subject: data value too large", ["Subject"])
        case = self.case_by_handoff(value)
        created = case is None
        if case is None:
            case = {"Id": f"500{next(self._ids):015d}", EXT_FIELD: value, "Status": "New"}
            self.cases[case["Id"]] = case
        case.update(body)
        if self._drop(request, "upsert"):
            return web.Response(status=201)
        if self.legacy_204 and not created:
            return web.Response(status=204)
        answer = {"id": case["Id"], "success": True, "errors": [], "created": created}
        return web.json_response(answer, status=201 if created else 200)

    async def create_comment(self, request: web.Request) -> web.Response:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        body = await request.json()
        if body.get("ParentId") not in self.cases:
            return error(
                400,
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
                ["ParentId"],
            )
        comment_id = f"00a{next(self._ids):015d}"
        self.comments[comment_id] = {"Id": comment_id, **body}
        if self._drop(request, "comment"):
            return web.Response(status=201)
        return web.json_response({"id": comment_id, "success": True, "errors": []}, status=201)

    async def query(self, request: web.Request) -> web.Response:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        match = _SOQL.match(request.query.get("q", ""))
        if match is None:
            return error(400, "MALFORMED_QUERY", "unexpected query in the mock")
        table = {"Case": self.cases, "CaseComment": self.comments}.get(match["obj"])
        if table is None:
            return error(400, "INVALID_TYPE", f"sObject type '{match['obj']}' is not supported.")
        cols = [c.strip() for c in match["cols"].split(",")]
        rows = [r for r in table.values() if r.get(match["field"]) == match["value"]]
        records = [
            {"attributes": {"type": match["obj"], "url": f"/sobjects/{match['obj']}/{r['Id']}"}}
            | {c: r.get(c) for c in cols}
            for r in rows
        ]
        return web.json_response({"totalSize": len(records), "done": True, "records": records})


@asynccontextmanager
async def serve_salesforce(tmp_path: Path) -> AsyncIterator[SalesforceMock]:
    """The mock on a free loopback port over HTTPS (simple-salesforce only speaks https)."""
    mock = SalesforceMock()
    runner = web.AppRunner(mock.app(), access_log=None)
    await runner.setup()
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    mock.ca_file = tmp_path / "salesforce-ca.pem"
    ca.cert_pem.write_to_path(str(mock.ca_file))
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    mock.url = f"https://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield mock
    finally:
        await runner.cleanup()
