"""`warmhandoff router`: the live router as a process SREs run (one replica).

Routing needs the whole desk in one place, so exactly one router runs per deployment (a
second one would see half the agents): deploy it with one replica. It starts like every
process (streams/services/startup.py), serves /metrics, /livez and /readyz on its ops port,
and stops cleanly on SIGTERM or SIGINT (the consumer loop is cancelled, the producer flushed).
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from warmhandoff.streams.config.router import RouterSettings
from warmhandoff.streams.contract.topics import Topics
from warmhandoff.streams.services.router.service import run_router
from warmhandoff.streams.services.startup import begin, run_service, serve

log = structlog.get_logger(__name__)


def run_router_process(settings: RouterSettings) -> int:
    """Run the router in the foreground until stopped; the exit status."""
    topics = begin(settings)
    return run_service(lambda: _serve(settings, topics))


async def _serve(settings: RouterSettings, topics: Topics) -> None:
    router: asyncio.Task[None] | None = None

    async def run() -> None:
        nonlocal router
        router = asyncio.create_task(run_router(settings))
        log.info("router.starting", app_id=settings.app_id)
        with contextlib.suppress(asyncio.CancelledError):
            await router

    def stop() -> None:
        if router is not None:
            router.cancel()

    def readiness() -> str | None:
        if router is None or router.done():
            return "the router loop has stopped"
        return None

    await serve(settings, topics, run=run, stop=stop, readiness=readiness)
    log.info("router.stopped")
