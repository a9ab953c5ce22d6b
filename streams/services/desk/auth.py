"""Who is at the desk: signed tokens for people, exchanged at login for a session cookie.

A token carries the person's id and role (`agent` or `supervisor`) and an expiry, signed with
HMAC-SHA256 under the desk's secret (`warmhandoff desk token` issues them; an identity
provider can issue the same format). A browser's event stream cannot send an Authorization
header, so the page logs in once with the token and gets a cookie of the same format marked
as a session (HttpOnly, SameSite=Strict). Both are verifiable by any desk replica with the
secret, so a desk restart keeps everyone logged in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Literal

Role = Literal["agent", "supervisor"]
ROLES: tuple[Role, ...] = ("agent", "supervisor")
PREFIX = "whd1"
#: The shortest secret accepted: 32 bytes of entropy as hex or base64 is longer.
MIN_SECRET = 32


class AuthError(Exception):
    """A token or session that is malformed, forged or expired (the message says which)."""


@dataclass(frozen=True, slots=True)
class Person:
    """Who a valid token or session says is at the desk."""

    person_id: str
    role: Role
    expires: int  # Unix seconds

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"


def check_secret(secret: str) -> None:
    """Refuse a secret too short to sign with."""
    if len(secret) < MIN_SECRET:
        raise AuthError(
            f"the desk secret must be at least {MIN_SECRET} characters "
            "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, kind: str, body: str) -> str:
    mac = hmac.new(secret.encode(), f"{PREFIX}.{kind}.{body}".encode(), hashlib.sha256)
    return _b64(mac.digest())


def issue(
    secret: str,
    person_id: str,
    role: Role,
    *,
    hours: float,
    kind: str = "token",
    now: float | None = None,
) -> str:
    """A signed token (kind `token`) or session (kind `session`) for one person."""
    check_secret(secret)
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if not person_id or len(person_id) > 200:
        raise AuthError("the person id must be 1 to 200 characters")
    expires = int((time.time() if now is None else now) + hours * 3600)
    body = _b64(json.dumps({"sub": person_id, "role": role, "exp": expires}).encode())
    return f"{PREFIX}.{kind}.{body}.{_sign(secret, kind, body)}"


def verify(secret: str, value: str, *, kind: str = "token", now: float | None = None) -> Person:
    """The person a token or session names; AuthError when it is not valid now."""
    parts = value.strip().split(".")
    if len(parts) != 4 or parts[0] != PREFIX or parts[1] != kind:
        raise AuthError(f"not a desk {kind}")
    body, mac = parts[2], parts[3]
    if not hmac.compare_digest(mac, _sign(secret, kind, body)):
        raise AuthError(f"the {kind}'s signature does not match this desk's secret")
    try:
        claims = json.loads(_unb64(body))
        person = Person(str(claims["sub"]), claims["role"], int(claims["exp"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise AuthError(f"the {kind} is malformed") from exc
    if person.role not in ROLES:
        raise AuthError(f"the {kind} names an unknown role")
    if person.expires <= (time.time() if now is None else now):
        raise AuthError(f"the {kind} has expired")
    return person
