"""The `warmhandoff` command."""

from warmhandoff.streams.cli.main import main

__all__ = ["main"]
