"""Regenerate the generated tables of a document.

`python -m warmhandoff.streams.lab.reference_docs [FILE]`.

The configuration reference comes from the settings model and the metrics table from the
metrics registry, so neither can drift from the code (a test compares them).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from warmhandoff.streams.config.reference import reference_table as settings_table
from warmhandoff.streams.runtime.metrics import reference_table as metrics_table

SECTIONS = {"settings": settings_table, "metrics": metrics_table}


def render(text: str) -> str:
    """The README text with every generated section replaced by its current table."""
    for name, table in SECTIONS.items():
        pattern = re.compile(rf"(<!-- {name}:begin[^>]*-->\n).*?(\n<!-- {name}:end -->)", re.S)
        text = pattern.sub(_replacer(table()), text)
    return text


def _replacer(body: str) -> Callable[[re.Match[str]], str]:
    """A substitution that keeps the markers and puts `body` between them."""

    def replace(match: re.Match[str]) -> str:
        return match.group(1) + body + match.group(2)

    return replace


if __name__ == "__main__":  # pragma: no cover
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("README.md")
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
