"""The settings of `warmhandoff router`: the policy its queues, skills and SLAs come from."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from warmhandoff.streams.config.service import ROUTER_PORT, ServiceSettings, ops_port


class RouterSettings(ServiceSettings):
    """The settings of `warmhandoff router`: the policy its queues, skills and SLAs come from."""

    web_port: int = ops_port(ROUTER_PORT)
    policy_file: Path | None = Field(
        None, description="the escalation policy (default: the policy shipped in the package)"
    )
