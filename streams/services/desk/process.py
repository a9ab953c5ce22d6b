"""`warmhandoff desk`: the web page for human agents and supervisors, as a process.

It starts like every process (streams/services/startup.py), reads the topics it shows from
their beginning (streams/services/desk/feed.py), and serves the page, its API and the ops
endpoints on one port. It is ready once it has caught up with the topics. Any number of
replicas may run behind a load balancer: each reads everything, and sessions are signed, not
stored.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import structlog
from aiohttp import web

from warmhandoff.streams.config.desk import DeskSettings
from warmhandoff.streams.contract.errors import ConfigError
from warmhandoff.streams.contract.topics import Topics
from warmhandoff.streams.policy.loader import load_policy
from warmhandoff.streams.routing.desk import QueueSpec, queues_from_policy
from warmhandoff.streams.runtime.ops import OpsServer
from warmhandoff.streams.services.desk.auth import AuthError, check_secret
from warmhandoff.streams.services.desk.board import Board
from warmhandoff.streams.services.desk.feed import Feed
from warmhandoff.streams.services.desk.server import DeskServer
from warmhandoff.streams.services.startup import begin, require_topics, run_service, stop_on_signals

log = structlog.get_logger(__name__)


def desk_secret(settings: DeskSettings) -> str:
    """The configured secret, or a one-line refusal."""
    if settings.desk_secret is None:
        raise ConfigError("set WARMHANDOFF_DESK_SECRET: it signs the desk's tokens and sessions")
    secret = settings.desk_secret.get_secret_value()
    try:
        check_secret(secret)
    except AuthError as exc:
        raise ConfigError(f"WARMHANDOFF_DESK_SECRET: {exc}") from None
    return secret


def run_desk(settings: DeskSettings) -> int:
    """Serve the desk in the foreground until stopped; the exit status."""
    secret = desk_secret(settings)
    policy = load_policy(settings.policy_file)
    topics = begin(settings)
    queues = queues_from_policy(policy)
    return run_service(lambda: serve_desk(settings, topics, secret, queues))


async def serve_desk(
    settings: DeskSettings,
    topics: Topics,
    secret: str,
    queues: Mapping[str, QueueSpec],
    *,
    started: asyncio.Event | None = None,
) -> None:
    """Run the desk until cancelled or signalled."""
    await require_topics(topics, settings)
    board = Board()
    feed = Feed(settings, topics, board)
    await feed.start()
    reading = asyncio.create_task(feed.run())
    stopping = asyncio.Event()

    def readiness() -> str | None:
        if reading.done():
            return "the desk stopped reading its topics"
        return None if feed.caught_up.is_set() else "catching up with the topics"

    ops = OpsServer(
        settings.web_host, settings.web_port, readiness, metrics_token=settings.metrics_token
    )
    app = ops.application()
    DeskServer(
        board,
        feed,
        queues,
        secret,
        session_hours=settings.desk_session_hours,
        secure_cookie=settings.desk_secure_cookie,
    ).add_routes(app)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, settings.web_host, settings.web_port).start()
    log.info("desk.listening", url=f"http://{settings.web_host}:{settings.web_port}/")
    if started is not None:
        started.set()
    try:
        with stop_on_signals(stopping.set):
            done = asyncio.create_task(stopping.wait())
            await asyncio.wait({reading, done}, return_when=asyncio.FIRST_COMPLETED)
            done.cancel()
        if reading.done() and reading.exception() is not None:
            raise reading.exception()  # type: ignore[misc]
    finally:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
        await runner.cleanup()
        await feed.stop()
        log.info("desk.stopped")
