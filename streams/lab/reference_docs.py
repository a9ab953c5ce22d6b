"""Regenerate the generated tables of the user docs: the settings table in
docs/configuration.md and the metrics table in docs/operations.md.

Run from the repository root:

    python -m warmhandoff.streams.lab.reference_docs            # both files
    python -m warmhandoff.streams.lab.reference_docs FILE ...   # only these files

The settings table comes from the settings models and the metrics table from the metrics
registry, so neither can drift from the code; each sits between `<!-- NAME:begin ... -->` and
`<!-- NAME:end -->` markers, and tests/unit/test_docs.py fails when one is stale.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from warmhandoff.streams.config.reference import reference_table as settings_table
from warmhandoff.streams.runtime.metrics import reference_table as metrics_table

SECTIONS = {"settings": settings_table, "metrics": metrics_table}
#: The files that hold the generated tables, relative to the repository root.
DOCS = (Path("docs/configuration.md"), Path("docs/operations.md"))


def render(text: str) -> str:
    """The text with every generated section replaced by its current table."""
    for name, table in SECTIONS.items():
        pattern = re.compile(rf"(<!-- {name}:begin[^>]*-->\n).*?(<!-- {name}:end -->)", re.S)
        text = pattern.sub(_replacer(table() + "\n"), text)
    return text


def _replacer(body: str) -> Callable[[re.Match[str]], str]:
    """A substitution that keeps the markers and puts `body` between them."""

    def replace(match: re.Match[str]) -> str:
        return match.group(1) + body + match.group(2)

    return replace


def main(paths: list[Path]) -> None:
    """Rewrite each file's generated sections in place."""
    for path in paths:
        path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    main([Path(arg) for arg in sys.argv[1:]] or list(DOCS))
