"""The settings of `warmhandoff router`: the policy its queues, skills and SLAs come from."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from warmhandoff.streams.config.service import ROUTER_PORT, ServiceSettings


class RouterSettings(ServiceSettings):
    """The settings of `warmhandoff router`: the policy its queues, skills and SLAs come from."""

    web_port: int = Field(
        default=ROUTER_PORT,
        ge=0,
        le=65535,
        description=ServiceSettings.model_fields["web_port"].description,
    )
    policy_file: Path | None = Field(
        None, description="the escalation policy (default: the policy shipped in the package)"
    )
