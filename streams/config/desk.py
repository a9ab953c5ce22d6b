"""The settings of `warmhandoff desk`: the page's secret, sessions and policy."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from warmhandoff.streams.config.service import DESK_PORT, ServiceSettings, ops_port


class DeskSettings(ServiceSettings):
    """The settings of `warmhandoff desk`: the page's secret, sessions and policy."""

    web_port: int = ops_port(DESK_PORT)
    desk_secret: SecretStr | None = Field(
        None,
        description="desk: the HMAC secret that signs people's tokens and session cookies (at "
        "least 32 characters; every desk replica and `warmhandoff desk token` use the same)",
    )
    desk_session_hours: float = Field(
        default=12.0, gt=0, le=720, description="desk: how long a login lasts"
    )
    desk_secure_cookie: bool = Field(
        default=False,
        description="desk: mark the session cookie Secure (set it when the page is served over "
        "HTTPS, as it must be beyond localhost)",
    )
    policy_file: Path | None = Field(
        None, description="the escalation policy (default: the policy shipped in the package)"
    )
