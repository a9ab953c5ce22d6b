"""The configuration reference (docs/configuration.md), rendered from the settings models."""

from __future__ import annotations

from pydantic_settings import BaseSettings

from warmhandoff.streams.config.connection import ENV_PREFIX, ConnectionSettings
from warmhandoff.streams.config.desk import DeskSettings
from warmhandoff.streams.config.learner import LearnerSettings
from warmhandoff.streams.config.router import RouterSettings
from warmhandoff.streams.config.service import ServiceSettings
from warmhandoff.streams.config.sink import SinkSettings
from warmhandoff.streams.config.worker import WorkerSettings

#: Every settings class with who reads it, in the order the reference lists them.
SECTIONS: tuple[tuple[str, type[BaseSettings]], ...] = (
    ("every process and bot client", ConnectionSettings),
    ("every long-running process", ServiceSettings),
    ("worker", WorkerSettings),
    ("router", RouterSettings),
    ("sink", SinkSettings),
    ("learner", LearnerSettings),
    ("desk", DeskSettings),
)


def reference_table() -> str:
    """One table of every `WARMHANDOFF_*` variable: default, who reads it, meaning."""
    rows = ["| variable | default | read by | meaning |", "|---|---|---|---|"]
    seen: set[str] = set()
    for readers, kind in SECTIONS:
        for name, field in kind.model_fields.items():
            if name in seen:
                continue
            seen.add(name)
            default = "per process" if name == "web_port" else field.default
            shown = "" if default is None else f"`{default}`"
            meaning = field.description or ""
            rows.append(f"| `{ENV_PREFIX}{name.upper()}` | {shown} | {readers} | {meaning} |")
    return "\n".join(rows)
