"""What every long-running warmhandoff process shares beyond the connection: its ops endpoint
(/metrics, /livez, /readyz), its logs, and the local embedded broker it may start.

Each process has its own default ops port, so a worker, router, sink and learner run side by
side on one host without a clash: worker 6066, router 6067, sink 6068, learner 6069.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from warmhandoff.streams.config.connection import ConnectionSettings

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

WORKER_PORT = 6066
ROUTER_PORT = 6067
SINK_PORT = 6068
LEARNER_PORT = 6069
DESK_PORT = 6070


OPS_PORT_HELP = (
    "HTTP port of /metrics, /livez, /readyz (0: off); the default is the process's own: "
    f"worker {WORKER_PORT}, router {ROUTER_PORT}, sink {SINK_PORT}, learner {LEARNER_PORT}, "
    f"desk {DESK_PORT} (the page too)"
)


def ops_port(default: int) -> Any:
    """The `web_port` field of a process whose own ops port is `default`."""
    return Field(default=default, ge=0, le=65535, description=OPS_PORT_HELP)


class ServiceSettings(ConnectionSettings):
    """A process that logs, serves its ops endpoints and may need the local broker."""

    embedded_broker: Literal["auto", "never", "always"] = Field(
        "auto",
        description="auto: the demo and tests start Tansu when nothing answers on a local "
        "address; never; always",
    )
    data_dir: Path = Field(
        Path(".warmhandoff"), description="RocksDB table state and the embedded broker's log"
    )
    web_port: int = ops_port(WORKER_PORT)
    web_host: str = Field("0.0.0.0", description="address the HTTP endpoints listen on")
    metrics_token: SecretStr | None = Field(
        None,
        description="bearer token Prometheus must send to GET /metrics (never printed); unset: "
        "/metrics is open, so keep the ops port on the cluster network (/livez and /readyz "
        "stay open for probes: they reveal no data)",
    )
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="auto: JSON when stderr is not a terminal"
    )
    log_level: LogLevel = Field("INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    rebalance_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="consumer group rebalance timeout: a group forms in ~5 s, not Faust's ~30 s",
    )
    max_turn_bytes: int = Field(
        default=64_000, ge=1, description="larger turn events are dead-lettered (too_large)"
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value
