"""Has the customer said this before? Fingerprints of content words and their overlap.

A fingerprint is the sorted set of content words of a turn: folded (lowercase, no accents),
stopwords and conversational filler in the supported languages removed, words shorter than
three characters dropped, and a cheap suffix stemming so "charged", "charges" and "charging"
agree. Turns are compared by the cosine of their word sets (shared words over the geometric
mean of the two sizes): a rephrasing that adds a word or two to a short request still counts
as a repeat, while a new request that shares a few topic words with a long earlier one does
not (a short fingerprint wholly inside a long one is how conversations move on: "book it",
"what's the price" after a turn about the same place). Single-word fingerprints fall back to
Jaccard so "ok" or "refund" on its own is not matched against every turn that contains it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from warmhandoff.streams.detect.gate import words
from warmhandoff.streams.detect.normalize import fold

_MIN_WORD = 3

_STOPWORD_TEXT = (
    # en, including filler that carries no request ("thanks", "still", "asked")
    "about above after again all also and any are because been before being below between"
    " both but can could did does doing don down during each few for from further had has"
    " have having her here hers him his how into its itself just more most myself nor not"
    " now off once only other our ours out over own same she should some such than that the"
    " their theirs them then there these they this those through too under until very was"
    " were what when where which while who whom why will with would you your yours yourself"
    " hello hey please thanks thank yes yeah yep okay sure really still want need like know"
    " get got tell let one already ask asked asking said say told anyone someone something"
    " today yet"
    # es
    " que los las del por para con una como mas pero sus este esta entre cuando muy sin"
    " sobre tambien hasta hay donde quien desde todo nos durante todos uno les contra otros"
    " ese eso ante ellos esto antes algunos unos otro otras otra tanto esa estos mucho"
    " quienes nada muchos cual poco ella estar estas algunas algo nosotros mis tus ellas"
    " hola gracias favor quiero necesito puedo tengo"
    # fr
    " les des une est qui dans pas plus par pour aux avec son ses sur mais comme tout nous"
    " vous mon mes ton tes leur bonjour merci oui non veux voudrais peux suis ete"
    # de
    " der die das und ist den dem nicht von sie mit ein eine einen einem sich auf fur ich"
    " wir ihr mein meine meinen dein war hat haben bin bitte danke hallo nein auch noch"
    " schon wie was warum kann mochte will"
    # pt
    " dos das uma nao mais mas como meu minha voce ele ela isso ja obrigado ola sim quero"
    " preciso"
    # it
    " del della che per non con sono come mio mia questo questa ciao grazie voglio posso"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    """Strip the commonest inflections so inflected forms of one word agree."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_WORD:
            if suffix == "s" and word.endswith("ss"):
                break
            word = word[: -len(suffix)]
            # "cancelled" -> "cancel", "stopped" -> "stop"
            if suffix in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2]:
                word = word[:-1]
            break
    if len(word) > 3 and word[-1] in "ey":
        word = word[:-1] if word[-1] == "e" else word[:-1] + "i"
    return word


def fingerprint(text: str) -> tuple[str, ...]:
    """Return the sorted unique stemmed content words of a turn."""
    if not text:
        return ()
    # The detectors' shared word set of the folded turn (same tokens, computed once).
    found = {_stem(word) for word in words(fold(text)) - _STOPWORDS if len(word) >= _MIN_WORD}
    return tuple(sorted(found))


def similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Return the overlap of two fingerprints in [0, 1] (0 when either is empty)."""
    if not a or not b:
        return 0.0
    shared = len(set(a).intersection(b))
    if min(len(a), len(b)) < 2:
        # One-word fingerprints must match exactly to count.
        return shared / (len(a) + len(b) - shared)
    return shared / math.sqrt(len(a) * len(b))


def is_repeat(
    fp: tuple[str, ...], previous: Sequence[tuple[str, ...]], threshold: float = 0.6
) -> bool:
    """Return True when `fp` repeats or rephrases any earlier fingerprint."""
    if not fp:
        return False
    return any(similarity(fp, earlier) >= threshold for earlier in previous)
