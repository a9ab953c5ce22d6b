"""The worker's operations endpoints: /metrics, /livez and /readyz on WARMHANDOFF_WEB_PORT.

A small aiohttp server of its own rather than Faust's web server, because Faust starts its
web server only after table recovery, and a liveness probe must answer before that.
- /livez: 200 while the event loop runs.
- /readyz: 200 once the topics checked out at start, the consumer group is joined and the
  tables are recovered, and while no rebalance is in progress; 503 with the reason otherwise.
- /metrics: the Prometheus text format of `metrics.REGISTRY`.
- POST /v1/handoff-events: the authenticated webhook intake of lifecycle events
  (streams/runtime/intake.py); only when the worker passes an `Intake` (a token or HMAC secret is
  configured), else 404.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import SecretStr

from warmhandoff.streams.runtime.intake import PATH, Intake
from warmhandoff.streams.runtime.metrics import REGISTRY

Readiness = Callable[[], str | None]
"""Returns None when ready, else the reason it is not."""


class OpsServer:
    """HTTP endpoints for SREs and orchestrators."""

    def __init__(
        self,
        host: str,
        port: int,
        readiness: Readiness,
        *,
        intake: Intake | None = None,
        metrics_token: SecretStr | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.readiness = readiness
        self.intake = intake
        self._metrics_token = metrics_token.get_secret_value().encode() if metrics_token else None
        self._runner: web.AppRunner | None = None

    def application(self) -> web.Application:
        """The aiohttp application (also used directly in tests)."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/livez", self._livez)
        app.router.add_get("/readyz", self._readyz)
        if self.intake is not None:
            app.router.add_post(PATH, self.intake.handle)
        return app

    async def start(self) -> None:
        """Listen on host:port."""
        self._runner = web.AppRunner(self.application(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, request: web.Request) -> web.Response:
        if self._metrics_token is not None:
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            # Constant-time: the comparison must not reveal how much of a guess was right.
            if not (
                scheme.lower() == "bearer"
                and hmac.compare_digest(given.strip().encode(), self._metrics_token)
            ):
                return web.Response(
                    status=401,
                    text="unauthorized: send Authorization: Bearer <WARMHANDOFF_METRICS_TOKEN>\n",
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                )
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _livez(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        reason = self.readiness()
        if reason is None:
            return web.Response(text="ready\n")
        return web.Response(status=503, text=f"not ready: {reason}\n")
