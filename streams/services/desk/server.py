"""The desk's HTTP side: the page, login, the JSON views, the live stream and the actions.

- GET / and /static/*: the page (plain HTML, CSS and JavaScript shipped in the package).
- POST /login (form field `token`): a valid token sets the session cookie; POST /logout.
- GET /api/me, /api/view, /api/handoffs/{id}: who is logged in, their view, one handoff.
- GET /api/stream: server-sent events, a `view` event whenever the person's view changes.
- POST /api/handoffs/{id}/{action} (JSON): accept, reply, resolve, hand_back, transfer.
- POST /api/presence (JSON {"state": ...}): the agent's own state, re-published with the skills
  of their latest presence record.

Every /api route needs the session cookie; every POST also needs the header
`X-Warmhandoff-Desk: 1`, which a cross-site form cannot send (with the SameSite cookie, the
defence against cross-site requests). The ops endpoints (/metrics, /livez, /readyz) share
the port.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import orjson
import structlog
from aiohttp import web
from aiokafka.errors import KafkaError

from warmhandoff.streams.contract.models import AgentPresence, PresenceState
from warmhandoff.streams.routing.desk import Agent, QueueSpec
from warmhandoff.streams.services.desk.actions import OUTCOMES, ActionRefused, act
from warmhandoff.streams.services.desk.auth import AuthError, Person, issue, verify
from warmhandoff.streams.services.desk.board import Board, Item
from warmhandoff.streams.services.desk.feed import Feed
from warmhandoff.streams.services.desk.views import agent_view, detail, may_take, supervisor_view

log = structlog.get_logger(__name__)

COOKIE = "warmhandoff_desk"
CSRF_HEADER = "X-Warmhandoff-Desk"
#: The stream sends at most one view per this many seconds, and a comment as a heartbeat.
STREAM_MIN_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
STATIC = ("index.html", "desk.js", "desk.css")
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_TYPES = {"html": "text/html", "js": "text/javascript", "css": "text/css"}

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class DeskServer:
    """Routes bound to one board, feed and secret."""

    def __init__(
        self,
        board: Board,
        feed: Feed,
        queues: Mapping[str, QueueSpec],
        secret: str,
        *,
        session_hours: float = 12.0,
        secure_cookie: bool = False,
        clock: Clock = _now,
    ) -> None:
        self.board, self.feed, self.queues = board, feed, queues
        self.secret, self.session_hours, self.secure_cookie = secret, session_hours, secure_cookie
        self.clock = clock
        self._static = {
            name: resources.files(__package__).joinpath("static", name).read_bytes()
            for name in STATIC
        }

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/", self._page)
        app.router.add_get("/static/{name}", self._asset)
        app.router.add_get("/favicon.ico", _no_icon)
        app.router.add_post("/login", self._login)
        app.router.add_post("/logout", self._logout)
        app.router.add_get("/api/me", self._me)
        app.router.add_get("/api/view", self._view)
        app.router.add_get("/api/stream", self._stream)
        app.router.add_get("/api/handoffs/{hid}", self._detail)
        app.router.add_post("/api/handoffs/{hid}/{action}", self._act)
        app.router.add_post("/api/presence", self._presence)
        app.middlewares.append(_security_headers)

    # --- the page and login -----------------------------------------------------------

    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(body=self._static["index.html"], content_type="text/html")

    async def _asset(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self._static or name == "index.html":
            raise web.HTTPNotFound()
        return web.Response(body=self._static[name], content_type=_TYPES[name.rsplit(".")[-1]])

    async def _login(self, request: web.Request) -> web.Response:
        form = await request.post()
        token = str(form.get("token", ""))
        try:
            person = verify(self.secret, token)
        except AuthError as exc:
            log.info("desk.login_refused", reason=str(exc))
            raise web.HTTPFound("/?login=refused") from None
        session = issue(
            self.secret, person.person_id, person.role, hours=self.session_hours, kind="session"
        )
        response = web.HTTPFound("/")
        response.set_cookie(
            COOKIE,
            session,
            httponly=True,
            samesite="Strict",
            secure=self.secure_cookie,
            max_age=int(self.session_hours * 3600),
            path="/",
        )
        log.info("desk.login", person=person.person_id, role=person.role)
        raise response

    async def _logout(self, request: web.Request) -> web.Response:
        self._csrf(request)
        response = web.json_response({"ok": True})
        response.del_cookie(COOKIE, path="/")
        return response

    def _person(self, request: web.Request) -> Person:
        value = request.cookies.get(COOKIE)
        if not value:
            raise _json_error(401, "log in with your desk token")
        try:
            return verify(self.secret, value, kind="session")
        except AuthError as exc:
            raise _json_error(401, f"{exc}: log in again") from None

    def _csrf(self, request: web.Request) -> None:
        if request.headers.get(CSRF_HEADER) != "1":
            raise _json_error(403, f"missing the {CSRF_HEADER} header")

    # --- views ---------------------------------------------------------------------------

    def view_for(self, person: Person) -> dict[str, Any]:
        if person.supervisor:
            view = supervisor_view(self.board, self.queues)
        else:
            view = agent_view(self.board, person.person_id, self.queues, self.clock())
        view["me"] = {"id": person.person_id, "role": person.role}
        view["outcomes"] = list(OUTCOMES)
        view["ready"] = self.feed.caught_up.is_set()
        return view

    async def _me(self, request: web.Request) -> web.Response:
        person = self._person(request)
        return web.json_response({"id": person.person_id, "role": person.role})

    async def _view(self, request: web.Request) -> web.Response:
        return _json(self.view_for(self._person(request)))

    async def _detail(self, request: web.Request) -> web.Response:
        person = self._person(request)
        item = self._visible(person, request.match_info["hid"])
        return _json(detail(self.board, item))

    def _visible(self, person: Person, hid: str) -> Item:
        """A handoff this person may open: supervisors all; agents those they may take or
        hold or held."""
        item = self.board.items.get(hid)
        if item is None:
            raise _json_error(404, "no such handoff on this desk")
        if person.supervisor or item.agent_id == person.person_id:
            return item
        presence = self.board.presence.get(person.person_id)
        if (
            item.waiting
            and presence is not None
            and may_take(Agent.from_presence(presence), item, self.queues, self.clock())
        ):
            return item
        raise _json_error(403, "this handoff is not in your queues")

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        person = self._person(request)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        last = b""
        try:
            while True:
                body = orjson.dumps(self.view_for(person))
                if body != last:
                    await response.write(b"event: view\ndata: " + body + b"\n\n")
                    last = body
                else:
                    await response.write(b": still here\n\n")
                async with self.feed.changed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.feed.changed.wait(), HEARTBEAT_SECONDS)
                await asyncio.sleep(STREAM_MIN_SECONDS)  # batches changes; not a wait for state
                if person.expires <= self.clock().timestamp():
                    await response.write(b"event: expired\ndata: {}\n\n")
                    break
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response

    # --- actions -------------------------------------------------------------------------

    async def _act(self, request: web.Request) -> web.Response:
        person = self._person(request)
        self._csrf(request)
        hid, action = request.match_info["hid"], request.match_info["action"]
        form = await _json_body(request)
        try:
            event = act(self.board, person, hid, action, form, self.queues, self.clock())
        except ActionRefused as exc:
            raise _json_error(exc.status, str(exc)) from None
        await self._publish("handoff.events", event.conversation_id, event)
        self.board.event(event)  # shown at once; the topic's copy is the same event
        await self.feed.notify()
        log.info("desk.action", person=person.person_id, action=action, handoff_id=hid)
        return web.json_response({"ok": True, "event_id": event.event_id, "type": event.type})

    async def _publish(self, topic: str, key: str, record: Any) -> None:
        """Publish, or answer 503 with the broker's reason (nothing was recorded)."""
        try:
            await self.feed.publish(topic, key, record)
        except KafkaError as exc:
            log.warning("desk.publish_failed", topic=topic, error=str(exc)[:200])
            raise _json_error(
                503, f"could not record this on {topic} ({type(exc).__name__}): try again"
            ) from None

    async def _presence(self, request: web.Request) -> web.Response:
        person = self._person(request)
        self._csrf(request)
        form = await _json_body(request)
        try:
            state = PresenceState(str(form.get("state")))
        except ValueError:
            choices = ", ".join(s.value for s in PresenceState)
            raise _json_error(400, f"state must be one of {choices}") from None
        known = self.board.presence.get(person.person_id)
        if known is None:
            raise _json_error(
                409, "no presence record for you yet: your skills come from agent.presence"
            )
        presence = AgentPresence.model_validate(
            known.model_dump() | {"state": state, "ts": self.clock()}
        )
        await self._publish("agent.presence", person.person_id, presence)
        self.board.agent(presence)
        await self.feed.notify()
        return web.json_response({"ok": True, "state": state.value})


async def _no_icon(request: web.Request) -> web.Response:
    return web.Response(status=204)


async def _json_body(request: web.Request) -> Mapping[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise _json_error(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise _json_error(400, "the body must be a JSON object")
    return body


def _json(data: Any) -> web.Response:
    return web.Response(body=orjson.dumps(data), content_type="application/json")


def _json_error(status: int, message: str) -> web.HTTPException:
    kinds: dict[int, type[web.HTTPException]] = {
        503: web.HTTPServiceUnavailable,
        400: web.HTTPBadRequest,
        401: web.HTTPUnauthorized,
        403: web.HTTPForbidden,
        404: web.HTTPNotFound,
        409: web.HTTPConflict,
    }
    return kinds[status](
        text=orjson.dumps({"error": message}).decode(), content_type="application/json"
    )


@web.middleware
async def _security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(_HEADERS)
        raise
    if not response.prepared:
        response.headers.update(_HEADERS)
    return response
