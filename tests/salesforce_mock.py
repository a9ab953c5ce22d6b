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

Cases have the system fields `CreatedDate` (from `clock`, answered in Salesforce's
`2026-11-25T16:00:00.000+0000` form) and `IsClosed` (`close()`), and two external-id fields,
the handoff id and the case key. An upsert finds and creates its Case with no await in
between, so two concurrent upserts of one external id make one record, as Salesforce's unique
index does. The SOQL it answers: `SELECT cols FROM Case|CaseComment WHERE f op v [AND ...]
[ORDER BY f ASC|DESC] [LIMIT n]` with `=`, `>=`, `>`, `<=`, `<` on strings, booleans and
datetimes. `hold_lookups = n` answers no Case lookup (a query on more than one field) until
n have arrived, so n deliveries all look before any of them writes.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trustme
from aiohttp import web

CLIENT_ID = "3MVG9-test-consumer-key"
CLIENT_SECRET = "test-consumer-secret"
EXT_FIELD = "Warmhandoff_Handoff_Id__c"
# The case fields an org creates for attaching handoffs to a customer's case.
CASE_KEY_FIELD = "Warmhandoff_Case_Key__c"
CUSTOMER_FIELD = "Warmhandoff_Customer__c"
TOPIC_FIELD = "Warmhandoff_Topic__c"
EXTERNAL_IDS = {EXT_FIELD, CASE_KEY_FIELD}
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
    CUSTOMER_FIELD,
    TOPIC_FIELD,
}
_SOQL = re.compile(
    r"^SELECT (?P<cols>[\w, ]+) FROM (?P<obj>\w+) WHERE (?P<where>.+?)"
    r"(?: ORDER BY (?P<order>\w+) (?P<direction>ASC|DESC))?(?: LIMIT (?P<limit>\d+))?$"
)
_VALUE = r"'(?:[^'\\]|\\.)*'|true|false|null|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)"
_CONDITION = rf"(\w+) (=|>=|>|<=|<) ({_VALUE})"
_WHERE = re.compile(rf"{_CONDITION}(?: AND {_CONDITION})*")
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    ">=": lambda a, b: a is not None and a >= b,
    ">": lambda a, b: a is not None and a > b,
    "<=": lambda a, b: a is not None and a <= b,
    "<": lambda a, b: a is not None and a < b,
}


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
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # CreatedDate of new Cases
    hold_lookups: int = 0
    _tokens: set[str] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lookups: int = 0
    _lookups_arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def expire_tokens(self) -> None:
        self._tokens.clear()

    def close(self, case_id: str) -> None:
        """An agent closes the Case (Status Closed, so IsClosed is true)."""
        self.cases[case_id] |= {"Status": "Closed", "IsClosed": True}

    def case_by_handoff(self, handoff_id: str) -> dict[str, Any] | None:
        return self._case_by(EXT_FIELD, handoff_id)

    def case_by_key(self, key: str) -> dict[str, Any] | None:
        return self._case_by(CASE_KEY_FIELD, key)

    def _case_by(self, ext: str, value: str) -> dict[str, Any] | None:
        return next((c for c in self.cases.values() if c.get(ext) == value), None)

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
        if ext not in EXTERNAL_IDS:
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
        # No await from the lookup to the insert: one record per external id, like the unique
        # index behind a real upsert, however many upserts race.
        case = self._case_by(ext, value)
        created = case is None
        if case is None:
            case = {
                "Id": f"500{next(self._ids):015d}",
                ext: value,
                "Status": "New",
                "IsClosed": False,
                "CreatedDate": self.clock(),
            }
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
        if match is None or not _WHERE.fullmatch(match["where"]):
            return error(400, "MALFORMED_QUERY", "unexpected query in the mock")
        table = {"Case": self.cases, "CaseComment": self.comments}.get(match["obj"])
        if table is None:
            return error(400, "INVALID_TYPE", f"sObject type '{match['obj']}' is not supported.")
        conditions = [
            (name, _COMPARE[op], _literal(value))
            for name, op, value in re.findall(_CONDITION, match["where"])
        ]
        if match["obj"] == "Case" and len(conditions) > 1 and self.hold_lookups:
            self._lookups += 1
            if self._lookups >= self.hold_lookups:
                self._lookups_arrived.set()
            await asyncio.wait_for(self._lookups_arrived.wait(), 20)
        rows = [r for r in table.values() if all(op(r.get(f), v) for f, op, v in conditions)]
        if match["order"]:
            rows.sort(key=lambda r: (r.get(match["order"]), r["Id"]))
            if match["direction"] == "DESC":
                rows.reverse()
        if match["limit"]:
            rows = rows[: int(match["limit"])]
        cols = [c.strip() for c in match["cols"].split(",")]
        records = [
            {"attributes": {"type": match["obj"], "url": f"/sobjects/{match['obj']}/{r['Id']}"}}
            | {c: _answer(r.get(c)) for c in cols}
            for r in rows
        ]
        return web.json_response({"totalSize": len(records), "done": True, "records": records})


def _literal(text: str) -> Any:
    """A SOQL literal as a Python value (format_soql's quoting undone)."""
    if text.startswith("'"):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if text in ("true", "false", "null"):
        return {"true": True, "false": False, "null": None}[text]
    return datetime.fromisoformat(text)


def _answer(value: Any) -> Any:
    """A field value as Salesforce's JSON writes it (datetimes: `...T16:00:00.000+0000`)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return value


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
