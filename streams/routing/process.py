"""`warmhandoff router`: the live router as a process SREs run (one replica).

Routing needs the whole desk in one place, so exactly one router runs per deployment (a
second one would see half the agents): deploy it with one replica. It checks the broker and
the topics like the worker, serves /metrics, /livez and /readyz on WARMHANDOFF_WEB_PORT, and
stops cleanly on SIGTERM or SIGINT (the consumer loop is cancelled, the producer flushed).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

import structlog

from ..broker import broker_answers
from ..errors import WarmhandoffError
from ..logs import configure_logging
from ..ops import OpsServer
from ..settings import Settings
from ..topics import check_topics, one_line, topics_for
from .service import run_router

log = structlog.get_logger(__name__)


def run_router_process(settings: Settings) -> int:
    """Run the router in the foreground until stopped; the exit status."""
    configure_logging(settings.log_level, settings.log_format)
    if not broker_answers(settings.bootstrap_servers, timeout=5.0):
        raise WarmhandoffError(
            f"no Kafka broker answers at {settings.bootstrap_servers}: start one with "
            "`warmhandoff broker` or set WARMHANDOFF_BOOTSTRAP_SERVERS"
        )
    from ..worker import new_event_loop

    loop = new_event_loop()
    try:
        loop.run_until_complete(_serve(settings))
    finally:
        loop.close()
    return 0


async def _serve(settings: Settings) -> None:
    report = await check_topics(topics_for(settings), settings)
    if not report.ok:
        raise WarmhandoffError(f"topics do not match topics.yaml: {one_line(report)}")
    router = asyncio.create_task(run_router(settings))
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, router.cancel)
    ops = None
    if settings.web_port > 0:
        ops = OpsServer(
            settings.web_host,
            settings.web_port,
            lambda: _readiness(router),
            metrics_token=settings.metrics_token,
        )
        await ops.start()
    log.info("router.starting", app_id=settings.app_id)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await router
    finally:
        if ops is not None:
            await ops.stop()
    log.info("router.stopped")


def _readiness(router: asyncio.Task[None]) -> str | None:
    """Ready while the consumer loop runs."""
    if router.done():
        return "the router loop has stopped"
    return None
