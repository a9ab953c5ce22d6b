"""Desk tokens and sessions: signed, expiring, bound to their kind and to the desk's secret."""

from __future__ import annotations

import pytest

from warmhandoff.streams.services.desk.auth import AuthError, issue, verify

SECRET = "k" * 40
NOW = 1_800_000_000.0


def test_a_token_names_its_person_and_role_until_it_expires() -> None:
    token = issue(SECRET, "ana", "supervisor", hours=1, now=NOW)
    person = verify(SECRET, token, now=NOW + 3599)
    assert (person.person_id, person.role, person.supervisor) == ("ana", "supervisor", True)
    with pytest.raises(AuthError, match="expired"):
        verify(SECRET, token, now=NOW + 3600)


def test_a_forged_or_foreign_token_is_refused() -> None:
    token = issue(SECRET, "ana", "agent", hours=1, now=NOW)
    prefix, kind, _body, mac = token.split(".")
    promoted = issue(SECRET, "ana", "supervisor", hours=1, now=NOW).split(".")[2]
    with pytest.raises(AuthError, match="signature"):
        verify(SECRET, f"{prefix}.{kind}.{promoted}.{mac}", now=NOW)  # role swapped, old mac
    with pytest.raises(AuthError, match="signature"):
        verify("x" * 40, token, now=NOW)  # another desk's secret
    with pytest.raises(AuthError, match="not a desk token"):
        verify(SECRET, "Bearer abc", now=NOW)


def test_a_token_is_not_a_session_and_a_session_is_not_a_token() -> None:
    token = issue(SECRET, "ana", "agent", hours=1, now=NOW)
    session = issue(SECRET, "ana", "agent", hours=1, kind="session", now=NOW)
    assert verify(SECRET, session, kind="session", now=NOW).person_id == "ana"
    with pytest.raises(AuthError, match="not a desk session"):
        verify(SECRET, token, kind="session", now=NOW)
    with pytest.raises(AuthError, match="not a desk token"):
        verify(SECRET, session, now=NOW)


def test_bad_issue_arguments_are_refused_in_one_line() -> None:
    with pytest.raises(AuthError, match="at least 32"):
        issue("short", "ana", "agent", hours=1)
    with pytest.raises(AuthError, match="role must be"):
        issue(SECRET, "ana", "admin", hours=1)  # type: ignore[arg-type]
    with pytest.raises(AuthError, match="person id"):
        issue(SECRET, "", "agent", hours=1)
