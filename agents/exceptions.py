"""Errors the bot client raises: one-line messages, `retriable` where trying again may help."""

from __future__ import annotations

from warmhandoff.streams.contract.errors import WarmhandoffError


# mypy sees warmhandoff.* as Any while the editable install hides it (see pyproject), hence the
# ignore, which stays quiet once mypy resolves the package.
class BotClientError(WarmhandoffError):  # type: ignore[misc, unused-ignore]
    """The bot client cannot deliver turns or directives."""

    retriable = True


class InvalidTurnError(WarmhandoffError):  # type: ignore[misc, unused-ignore]
    """A turn or an event the bot asked to publish does not fit the contract."""
