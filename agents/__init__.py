"""The bot's side of warmhandoff: `BotClient` publishes turns and receives directives."""

from warmhandoff.agents.client import BotClient
from warmhandoff.agents.exceptions import BotClientError, InvalidTurnError

__all__ = ["BotClient", "BotClientError", "InvalidTurnError"]
