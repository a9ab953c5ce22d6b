"""A webhook receiver for the sink tests: a real aiohttp HTTPS server, as an integrator would
write one. It verifies the signature, keeps one record per Idempotency-Key (a repeated key gets
the stored answer, a key still in flight gets 409), and can be told to fail: answer scripted
statuses, or commit a record and then drop the connection without answering."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import trustme
from aiohttp import web


@dataclass
class Attempt:
    key: str | None
    signature_ok: bool
    body: bytes


@dataclass
class Receiver:
    secret: bytes
    records: dict[str, bytes] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    scripted: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    drop_after_commit: int = 0
    refuse_keys: set[str] = field(default_factory=set)  # answered 422
    hold: asyncio.Event | None = None  # when set, a new record waits for it before committing
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""
    ca_file: Path | None = None
    _in_flight: set[str] = field(default_factory=set)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        key = request.headers.get("Idempotency-Key")
        expected = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(request.headers.get("X-Warmhandoff-Signature", ""), expected)
        self.attempts.append(Attempt(key, ok, body))
        self.arrived.set()
        if self.scripted:
            status, headers = self.scripted.pop(0)
            return web.Response(status=status, headers=headers)
        if not ok or not key:
            return web.Response(status=401)
        if key in self.refuse_keys:
            return web.Response(status=422, text="unknown queue")
        if key in self._in_flight:
            return web.Response(status=409, text="a request with this key is in progress")
        if key not in self.records:
            self._in_flight.add(key)
            try:
                if self.hold is not None:
                    await self.hold.wait()
                self.records[key] = body
            finally:
                self._in_flight.discard(key)
            if self.drop_after_commit > 0:
                self.drop_after_commit -= 1
                assert request.transport is not None
                request.transport.abort()  # committed, but the answer never leaves
                return web.Response(status=201)
            return web.Response(status=201)
        return web.Response(status=200)


@asynccontextmanager
async def serve_receiver(
    secret: bytes, tmp_path: Path, *, tls: bool = True
) -> AsyncIterator[Receiver]:
    """The receiver on a free loopback port, over HTTPS with a throwaway CA (trustme)."""
    receiver = Receiver(secret)
    app = web.Application()
    app.router.add_post("/hooks/handoff", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    context = None
    if tls:
        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        receiver.ca_file = tmp_path / "receiver-ca.pem"
        ca.cert_pem.write_to_path(str(receiver.ca_file))
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    receiver.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}/hooks/handoff"
    try:
        yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        await runner.cleanup()
