"""Text folding shared by the detectors: lowercase, no diacritics, plain apostrophes.

Every pattern in this package is written against folded text, so "Qué", "que" and "QUE"
match the same pattern and no pattern has to spell accents. Folding is cached because the
detect stage folds the same turn once per detector.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Typographic quotes and dashes that customers (and phone keyboards) type interchangeably
# with the ASCII ones.
_PUNCT = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u02bc": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
    }
)


@lru_cache(maxsize=512)
def fold(text: str) -> str:
    """Lowercase `text`, strip diacritics and normalise quotes (ß becomes ss)."""
    if text.isascii():
        return text.lower().replace("`", "'")
    text = text.translate(_PUNCT).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))
