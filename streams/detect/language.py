"""Language of a customer turn (ISO 639-1) and the bot's language from its locale.

Three steps, cheapest first:

1. Script: Arabic, Devanagari, Hangul, kana, CJK, Cyrillic, Greek, Hebrew and Thai text is
   decided by its script alone (no model call).
2. Function words: short Latin-script turns ("hola", "merci beaucoup") are too short for a
   character model, but a few very common words are unambiguous; each language has a small
   list of words that no other supported language uses.
3. py3langid (a Naive Bayes model over byte n-grams, bundled with the package) restricted to
   common customer-service languages, with its probabilities normalised over that set and
   nudged by the function-word hits.

Text with fewer than three letters, or one or two words that no list recognises, is
("und", 0.0): too little to tell, and a language-mismatch trigger must not fire on "ok".
"""

from __future__ import annotations

import re
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from .normalize import fold

UNDETERMINED = ("und", 0.0)

# Latin-script languages the model chooses among. Fewer candidates means fewer confusions on
# short text; non-Latin languages are decided by script before the model runs.
_MODEL_LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "nl", "pl", "tr", "sv", "ro", "id")

_IDENTIFIER = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
_IDENTIFIER.set_languages(list(_MODEL_LANGUAGES))

# Scripts that name one language among the supported ones (checked in this order: kana
# before CJK so Japanese with kanji is not Chinese).
_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ar", re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")),
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
)
_ANY_SCRIPT = re.compile(
    r"[\u0370-\u03ff\u0400-\u04ff\u0590-\u05ff\u0600-\u06ff\u0750-\u077f\u0900-\u097f"
    r"\u0e00-\u0e7f\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    r"\uac00-\ud7af\ufb50-\ufdff\ufe70-\ufeff]"
)
_UKRAINIAN = re.compile(r"[\u0456\u0457\u0454\u0491\u0406\u0407\u0404\u0490]")
_LETTERS = re.compile(r"[^\W\d_]")
_WORDS = re.compile(r"[^\W\d_]+")

# Words (folded) frequent in customer messages and used by one supported language only.
_WORD_LISTS = {
    "en": "the and is are my you your what where how not with for please thanks thank hello"
    " hi yes help want need still why when have has was this that it can don didn order"
    " wrong again working doesn isn won call back",
    "es": "el los las que gracias hola quiero necesito tengo esta este pero muy"
    " ayuda donde cuando todavia tarjeta cuenta buenas buenos tardes noches vale usted mis"
    " sus estoy puedo funciona pedido reembolso hay ya",
    "fr": "le les des est et je j ne pas oui merci bonjour bonsoir mon ma mes vous nous avec"
    " pour pourquoi toujours rien commande colis veux besoin aide ca c qu n marche suis"
    " votre remboursement encore",
    "de": "der die das und ist ich nicht mein meine meinen bitte danke hallo noch immer nichts"
    " geht mit sie wir haben habe kann warum wo wie schon guten tag geld zuruck bestellung"
    " hilfe brauche kein keine auch aber fur auf ein eine einen",
    "pt": "meu minha nao sim obrigado obrigada ola voce estou tudo bem bom boa ainda quero"
    " preciso ajuda dinheiro volta cartao com uma um isso isto tambem sao voces cade fatura"
    " pedido funciona",
    "it": "il gli che sono grazie ciao buongiorno buonasera mio mia miei per favore voglio ho"
    " ancora niente ordine aiuto bisogno rimborso perche questo questa della sei sto"
    " funziona non",
}
# A word listed for two languages is not evidence for either.
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(
        word
        for word in words.split()
        if sum(word in other.split() for other in _WORD_LISTS.values()) == 1
    )
    for lang, words in _WORD_LISTS.items()
}
_WORD_LANGUAGE = {word: lang for lang, vocabulary in _FUNCTION_WORDS.items() for word in vocabulary}
# Function words of one language that decide a turn without the model (when no other
# language's function words occur and they make up at least 30% of the words).
_DECISIVE_HITS = 3
# A function-word hit adds this much to a language's normalised model probability.
_WORD_WEIGHT = 0.2
_MIN_LETTERS = 3
_MODEL_CHARS = 300
_MIN_MODEL_WORDS = 3


def _script_language(text: str) -> tuple[str, float] | None:
    """Decide by script when most letters are in a script that names a language."""
    letters = len(_LETTERS.findall(text))
    for lang, pattern in _SCRIPTS:
        count = len(pattern.findall(text))
        if count and count * 2 >= letters:
            if lang == "ru" and _UKRAINIAN.search(text):
                lang = "uk"
            return lang, round(min(1.0, count / letters), 3)
    return None


def _word_hits(words: list[str]) -> dict[str, int]:
    hits: dict[str, int] = {}
    for word in words:
        lang = _WORD_LANGUAGE.get(word)
        if lang:
            hits[lang] = hits.get(lang, 0) + 1
    return hits


def _decisive(hits: dict[str, int], word_count: int) -> tuple[str, float] | None:
    """Several function words of one language and none of another decide without the model."""
    if len(hits) != 1:
        return None
    lang, count = next(iter(hits.items()))
    if count >= _DECISIVE_HITS and count * 10 >= 3 * word_count:
        return lang, round(min(0.95, 0.6 + 0.1 * count), 3)
    return None


@lru_cache(maxsize=256)
def detect_language(text: str) -> tuple[str, float]:
    """Return (ISO 639-1 code, confidence in [0, 1]), or ("und", 0.0) when too short to tell."""
    if not text.isascii() and _ANY_SCRIPT.search(text):
        decided = _script_language(text)
        if decided:
            return decided
    words = _WORDS.findall(fold(text))
    if sum(len(word) for word in words) < _MIN_LETTERS:
        return UNDETERMINED
    hits = _word_hits(words)
    if len(words) < _MIN_MODEL_WORDS:
        # Too short for the model: only unambiguous function words decide.
        if len(hits) == 1:
            lang, count = next(iter(hits.items()))
            return lang, round(0.5 + 0.2 * count, 3)
        return UNDETERMINED
    decided = _decisive(hits, len(words))
    if decided:
        return decided
    # The model walks every byte in Python; the opening of a long message is enough.
    scores = dict(_IDENTIFIER.rank(text[:_MODEL_CHARS]))
    for lang, count in hits.items():
        scores[lang] = scores.get(lang, 0.0) + _WORD_WEIGHT * count
    total = sum(scores.values())
    lang, best = max(scores.items(), key=lambda item: item[1])
    return lang, round(best / total, 3)


@lru_cache(maxsize=64)
def locale_language(locale: str | None) -> str | None:
    """Return the ISO 639 language of a locale tag ("en-US" -> "en", "pt_BR" -> "pt")."""
    if not locale:
        return None
    primary = re.split(r"[-_.@]", locale.strip(), maxsplit=1)[0].lower()
    if not primary.isalpha() or not 2 <= len(primary) <= 3:
        return None
    # Legacy codes still sent by some platforms.
    return {"iw": "he", "in": "id", "ji": "yi"}.get(primary, primary)
