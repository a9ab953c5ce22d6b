"""Redaction of payment and personal data before a turn leaves the detect stage.

Replaces, in this order, with typed placeholders:

- `[EMAIL]` e-mail addresses;
- `[IBAN]` IBANs whose length matches their country and whose mod-97 checksum holds;
- `[CARD]` payment card numbers: 13 to 19 digits that pass the Luhn check, typed without
  separators or grouped as cards are (4-4-4-4, 4-6-5; order and tracking numbers group
  otherwise); also when read out as digit words ("four one one one ...", in
  English, Spanish, French, German, Portuguese and Italian, mixed with digits, with "oh" for
  zero and "double"/"triple");
- `[CVV]` 3 or 4 digits right after "CVV", "CVC", "security code" and their translations;
- `[NATIONAL_ID]` US social security numbers, UK national insurance numbers, Spanish DNI/NIE
  (check letter verified), Brazilian CPF (check digits verified) and French NIR ("INSEE",
  key verified);
- `[EXPIRY]` a card's expiry date next to a word that says so ("exp 10/28", "valid thru");
- `[PHONE]` phone numbers, found by `phonenumbers.PhoneNumberMatcher` (numbers with a "+"
  country code in any region, others in the given default region).

Order numbers ("ORD-12345"), amounts ("$1,250.00") and dates are left alone: none passes
these checks. Text with no digit and no "@" returns at once unless it is long enough to hold
a card read out in words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import phonenumbers

from warmhandoff.streams.detect.gate import words
from warmhandoff.streams.detect.normalize import fold

DEFAULT_REGION = "US"

CARD = "[CARD]"
CVV = "[CVV]"
EMAIL = "[EMAIL]"
EXPIRY = "[EXPIRY]"
IBAN = "[IBAN]"
NATIONAL_ID = "[NATIONAL_ID]"
PHONE = "[PHONE]"

_DIGIT = re.compile(r"[0-9]")
# Anchored at the start of a run of address characters: unanchored, a long run before an "@"
# that is no address is rescanned from every position (quadratic: 20,000 letters, 228 ms).
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)

# --- cards ----------------------------------------------------------------------------------

_CARD_MIN, _CARD_MAX = 13, 19
# Digits joined by at most one space or dash: "4111 1111 1111 1111", "4111-1111-...".
# ASCII digits only: the Luhn check below reads code points.
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9](?:[ \-]?[0-9]){12,}(?![0-9])")
_DIGIT_GROUP = re.compile(r"[0-9]+")


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_windows(
    groups: list[tuple[int, int, str]],
    accept: Callable[[list[tuple[int, int, str]], int, int], bool] | None = None,
) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of the longest Luhn-valid runs of whole groups, left to right
    (only runs `accept` takes, when given)."""
    i = 0
    while i < len(groups):
        # Grow the window while it can still be a card (bounded: at most 19 digits).
        ends: list[tuple[int, str]] = []
        digits = ""
        for j in range(i, len(groups)):
            digits += groups[j][2]
            if len(digits) > _CARD_MAX:
                break
            ends.append((j, digits))
        for j, candidate in reversed(ends):
            # A run of one repeated digit ("0000 0000 0000 0") passes Luhn but is no card.
            if (
                len(candidate) >= _CARD_MIN
                and len(set(candidate)) > 1
                and _luhn(candidate)
                and (accept is None or accept(groups, groups[i][0], groups[j][1]))
            ):
                yield groups[i][0], groups[j][1]
                i = j + 1
                break
        else:
            i += 1


# How people type a card when they group it: in fours (the last group shorter for 13-19
# digits), or the 4-6-5 / 4-6-4 of American Express and Diners. Order numbers group otherwise
# ("248-2389691-2598939") and hold Luhn-valid runs by chance: one in ten. A run of fours longer
# than a card (a tracking number) is still redacted: a card followed by its expiry date
# ("4111 1111 1111 1111 1228") looks the same, and leaking a card costs more.
_AMEX_DINERS = frozenset({(4, 6, 5), (4, 6, 4)})


def _typed_like_a_card(groups: list[tuple[int, int, str]], start: int, end: int) -> bool:
    """Whether the groups of a Luhn window are grouped the way cards are typed."""
    inside = [len(d) for s, e, d in groups if s >= start and e <= end]
    if len(inside) == 1 or tuple(inside) in _AMEX_DINERS:
        return True  # typed without separators, or as American Express / Diners
    return all(size == 4 for size in inside[:-1]) and 1 <= inside[-1] <= 4


def _card_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for run in _DIGIT_RUN.finditer(text):
        base = run.start()
        groups = [
            (base + g.start(), base + g.end(), g.group())
            for g in _DIGIT_GROUP.finditer(run.group())
        ]
        spans.extend(_card_windows(groups, _typed_like_a_card))
    return spans


# Digit words, folded, in the supported languages. "oh" is zero when reading numbers aloud.
_DIGIT_WORDS: dict[str, str] = {}
for _digits, _names in (
    ("0", "zero oh cero zéro null"),
    ("1", "one uno un eins um"),
    ("2", "two dos deux zwei zwo dois due"),
    ("3", "three tres trois drei três tre"),
    ("4", "four cuatro quatre vier quatro quattro"),
    ("5", "five cinco cinq fünf cinque"),
    ("6", "six seis sechs sei"),
    ("7", "seven siete sept sieben sete sette"),
    ("8", "eight ocho huit acht oito otto"),
    ("9", "nine nueve neuf neun nove"),
):
    for _name in _names.split():
        _DIGIT_WORDS[fold(_name)] = _digits
_DIGIT_WORD_SET = frozenset(_DIGIT_WORDS)
_REPEATERS = {"double": 2, "doble": 2, "triple": 3, "doppel": 2, "doppio": 2, "dobro": 2}
_SPOKEN_TOKEN = re.compile(r"[^\W\d_]+|[0-9]+")
_SPOKEN_GAP = re.compile(r"[\s,.;:\-]*")
# Thirteen one-digit words and their separators need at least this many characters.
_MIN_SPOKEN_CHARS = 2 * _CARD_MIN + (_CARD_MIN - 1)


def _spoken_sequences(text: str) -> Iterator[list[tuple[int, int, str]]]:
    """Yield runs of adjacent number tokens as (start, end, digits), words included."""
    run: list[tuple[int, int, str]] = []
    repeat, repeat_start = 1, -1
    last_end = 0
    for token in _SPOKEN_TOKEN.finditer(text):
        value = token.group()
        if run and not _SPOKEN_GAP.fullmatch(text, last_end, token.start()):
            yield run
            run = []
        if value.isdigit():
            digits, start = value, token.start()
        else:
            folded = fold(value)
            if folded in _REPEATERS:
                # "double four": the repeater belongs to the next digit word.
                repeat, repeat_start = _REPEATERS[folded], token.start()
                last_end = token.end()
                continue
            if folded not in _DIGIT_WORDS:
                if run:
                    yield run
                run, repeat = [], 1
                continue
            digits = _DIGIT_WORDS[folded] * repeat
            start = repeat_start if repeat > 1 else token.start()
        repeat = 1
        run.append((start, token.end(), digits))
        last_end = token.end()
    if run:
        yield run


def _spoken_card_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for run in _spoken_sequences(text):
        if sum(len(d) for _, _, d in run) >= _CARD_MIN:
            spans.extend(_card_windows(run))
    return spans


# --- CVV, national ids, IBAN ----------------------------------------------------------------

_CVV = re.compile(
    r"(?i)\b(?:cvv2?|cvc2?|csc|cvn|card\s+verification(?:\s+(?:value|code|number))?"
    r"|security\s+(?:code|number)|c[oó]digo\s+de\s+seguridad|code\s+de\s+s[eé]curit[eé]"
    r"|cryptogramme|pr[uü]fnummer|sicherheitscode|codice\s+di\s+sicurezza"
    r"|c[oó]digo\s+de\s+seguran[cç]a"
    r"|(?:digits|numbers?|code)\s+on\s+the\s+back(?:\s+of\s+(?:the|my)\s+card)?)"
    r"\b[^0-9\n]{0,20}?(?<![0-9])([0-9]{3,4})(?![0-9])"
    r"|(?<![0-9])([0-9]{3,4})(?![0-9])\s+(?:is|was)\s+(?:my|the)\s+(?:cvv|cvc"
    r"|security\s+code)\b"
)
_SSN = re.compile(
    r"(?<![0-9-])(?!000|666|9[0-9][0-9])[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}(?![0-9-])"
    r"|(?i:\b(?:ssn|social\s+security(?:\s+number)?)\b)[^0-9\n]{0,20}?"
    r"(?<![0-9])((?!000|666|9[0-9][0-9])[0-9]{3}[ ]?(?!00)[0-9]{2}[ ]?(?!0000)[0-9]{4})"
    r"(?![0-9])"
)
_NINO = re.compile(
    r"(?i)\b(?!bg|gb|nk|kn|tn|nt|zz)[a-ceghj-pr-tw-z][a-ceghj-npr-tw-z]"
    r" ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[a-d]\b"
)
_DNI = re.compile(r"(?i)\b(?:([xyz])[ -]?)?([0-9]{7,8})[ -]?([a-z])\b")
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
# French social security number (NIR / "numéro INSEE"): sex, year, month, department (2A/2B
# in Corsica), commune, order, and a two-digit key that `_insee_valid` checks.
_INSEE = re.compile(
    r"(?i)(?<![0-9])([12])[ .]?([0-9]{2})[ .]?(0[1-9]|1[0-2]|[2-9][0-9])[ .]?([0-9]{2}|2[ab])"
    r"[ .]?([0-9]{3})[ .]?([0-9]{3})[ .]?([0-9]{2})(?![0-9])"
)
# A card's expiry date, only next to a word that says so ("exp 10/28", "valid thru 10/2028",
# "caduca 03/27"): a bare "10/28" is as likely any date.
_EXPIRY = re.compile(
    r"(?i)\b(?:exp(?:iry|ires|iration)?(?:\s+date)?|valid\s+(?:thru|through|until|till)"
    r"|good\s+thru|vence|vencimiento|caduca|caducidad|expira(?:tion|ción|cion)?"
    r"|date\s+d'expiration|g[uü]ltig\s+bis|ablaufdatum|scadenza|validade)\b[^0-9\n]{0,12}?"
    r"(?<![0-9])((?:0?[1-9]|1[0-2])\s?[/\-.]\s?(?:20)?[0-9]{2})(?![0-9])"
)
_EXPIRY_WORDS = (
    "exp", "valid", "thru", "venc", "caduc", "expira", "gultig", "gültig", "ablauf", "scadenza",
    "validade",
)  # fmt: skip
_CPF = re.compile(r"(?<![0-9.\-])([0-9]{3})\.?([0-9]{3})\.?([0-9]{3})-?([0-9]{2})(?![0-9.\-])")
_IBAN = re.compile(r"(?i)\b[a-z]{2}[0-9]{2}(?:[ ]?[a-z0-9]){11,32}")
# IBAN length by country (ISO 13616 registry, common countries).
_IBAN_LENGTH = {
    "AD": 24, "AE": 23, "AT": 20, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21,
    "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GI": 23, "GL": 18, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26,
    "IT": 27, "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27,
    "MT": 31, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29,
}  # fmt: skip


def _dni_valid(match: re.Match[str]) -> bool:
    prefix, number, letter = (match.group(1) or "").upper(), match.group(2), match.group(3).upper()
    if prefix:
        if len(number) != 7:
            return False
        number = str("XYZ".index(prefix)) + number
    elif len(number) != 8:
        return False
    return _DNI_LETTERS[int(number) % 23] == letter


def _insee_valid(match: re.Match[str]) -> bool:
    department = match.group(4).upper().replace("2A", "19").replace("2B", "18")
    body = match.group(1) + match.group(2) + match.group(3) + department
    body += match.group(5) + match.group(6)
    return 97 - int(body) % 97 == int(match.group(7))


def _cpf_valid(match: re.Match[str]) -> bool:
    digits = [int(c) for c in "".join(match.groups())]
    if len(set(digits)) == 1:
        return False
    for size in (9, 10):
        total = sum(d * w for d, w in zip(digits[:size], range(size + 1, 1, -1), strict=True))
        if (total * 10 % 11) % 10 != digits[size]:
            return False
    return True


def _iban_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for match in _IBAN.finditer(text):
        raw = match.group()
        length = _IBAN_LENGTH.get(raw[:2].upper())
        compact = raw.replace(" ", "").upper()
        if length is None or len(compact) < length:
            continue
        iban = compact[:length]
        rotated = iban[4:] + iban[:4]
        if int("".join(str(int(c, 36)) for c in rotated)) % 97 != 1:
            continue
        # Map the first `length` characters back to a span of the raw text.
        seen = 0
        for offset, char in enumerate(raw):
            if char != " ":
                seen += 1
                if seen == length:
                    spans.append((match.start(), match.start() + offset + 1))
                    break
    return spans


# --- phones ---------------------------------------------------------------------------------

# The matcher costs about 60 µs, so it only runs where 7 or more digits stand together.
_PHONE_HINT = re.compile(r"(?:[0-9][\s().\-]{0,3}){7,}")


def _phone_spans(text: str, region: str) -> list[tuple[int, int]]:
    matcher = phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID)
    return [(m.start, m.end) for m in matcher]


# --- assembly -------------------------------------------------------------------------------


def _replace_spans(text: str, spans: list[tuple[int, int]], placeholder: str) -> tuple[str, int]:
    if not spans:
        return text, 0
    parts: list[str] = []
    last = 0
    count = 0
    for start, end in sorted(spans):
        if start < last:
            continue
        parts.append(text[last:start])
        parts.append(placeholder)
        last = end
        count += 1
    parts.append(text[last:])
    return "".join(parts), count


def _replace_matches(
    text: str,
    pattern: re.Pattern[str],
    placeholder: str,
    valid: Callable[[re.Match[str]], bool] | None = None,
) -> tuple[str, int]:
    spans: list[tuple[int, int]] = []
    for match in pattern.finditer(text):
        if valid is not None:
            if valid(match):
                spans.append(match.span())
            continue
        # A pattern that captures the sensitive part ("CVV: 123") redacts only that part.
        span = match.span()
        for group in range(1, pattern.groups + 1):
            if match.group(group) is not None:
                span = match.span(group)
                break
        spans.append(span)
    return _replace_spans(text, spans, placeholder)


_ASCII_TOKEN = re.compile(r"[a-z]+|[0-9]+")
_MAX_REPEAT = max(_REPEATERS.values())


def _might_hold_spoken_card(text: str) -> bool:
    if len(text) < _MIN_SPOKEN_CHARS or words(fold(text)).isdisjoint(_DIGIT_WORD_SET):
        return False
    if not text.isascii():
        return True
    # A card needs 13 digits in one run; count every digit and digit word in the turn
    # ("one", "un", "sei" are common words, and tokenising the run costs 10-15 µs).
    found = 0
    for token in _ASCII_TOKEN.findall(text.lower()):
        if token[0] <= "9":
            found += len(token)
        elif token in _DIGIT_WORD_SET:
            found += _MAX_REPEAT
    return found >= _CARD_MIN


# Each pattern below scans the whole turn (1-4 µs each), yet most turns with a digit hold an
# order number or an amount, too few digits for any of them: (pattern, placeholder, check,
# digits a match holds, longest run of adjacent digits a match needs).
_NUMBERED: tuple[
    tuple[re.Pattern[str], str, Callable[[re.Match[str]], bool] | None, int, int], ...
] = (
    (_CVV, CVV, None, 3, 3),
    (_SSN, NATIONAL_ID, None, 9, 4),
    (_NINO, NATIONAL_ID, None, 6, 2),
    (_DNI, NATIONAL_ID, _dni_valid, 7, 7),
    (_CPF, NATIONAL_ID, _cpf_valid, 11, 3),
    (_INSEE, NATIONAL_ID, _insee_valid, 13, 1),
    (_EXPIRY, EXPIRY, None, 3, 1),
)
_PHONE_DIGITS = 7
# Words one of which every `_CVV` match holds, as they appear in lowercased ASCII text.
_CVV_WORDS = (
    "on the back",
    "cvv",
    "cvc",
    "csc",
    "cvn",
    "verification",
    "security",
    "seguridad",
    "securit",
    "cryptogramme",
    "prufnummer",
    "sicherheitscode",
    "sicurezza",
    "seguranca",
)


def _may_hold_cvv(text: str) -> bool:
    # (?i) also matches a few non-ASCII letters (long s, the Kelvin sign): no shortcut there.
    if not text.isascii():
        return True
    lowered = text.lower()
    return any(word in lowered for word in _CVV_WORDS)


def _may_hold_expiry(text: str) -> bool:
    if not text.isascii():
        return True
    lowered = text.lower()
    return any(word in lowered for word in _EXPIRY_WORDS)


def redact(text: str, region: str = DEFAULT_REGION) -> tuple[str, int]:
    """Return `text` with payment and personal data replaced by placeholders, and the count."""
    has_digit = _DIGIT.search(text) is not None
    if not has_digit and "@" not in text and not _might_hold_spoken_card(text):
        return text, 0
    total = 0
    if "@" in text:
        text, n = _replace_matches(text, _EMAIL, EMAIL)
        total += n
    runs = _DIGIT_GROUP.findall(text) if has_digit else []
    # Replacing only removes digits, so counts taken here bound every later step.
    digits = sum(map(len, runs))
    if has_digit:
        text, n = _replace_spans(text, _iban_spans(text), IBAN)
        total += n
        if digits >= _CARD_MIN:
            text, n = _replace_spans(text, _card_spans(text), CARD)
            total += n
    if _might_hold_spoken_card(text):
        text, n = _replace_spans(text, _spoken_card_spans(text), CARD)
        total += n
    if not digits or _DIGIT.search(text) is None:
        return text, total
    longest = max(map(len, runs))
    for pattern, placeholder, valid, least, run in _NUMBERED:
        if digits < least or longest < run or (pattern is _CVV and not _may_hold_cvv(text)):
            continue
        if pattern is _EXPIRY and not _may_hold_expiry(text):
            continue
        text, n = _replace_matches(text, pattern, placeholder, valid)
        total += n
    if digits >= _PHONE_DIGITS and _PHONE_HINT.search(text):
        text, n = _replace_spans(text, _phone_spans(text, region), PHONE)
        total += n
    return text, total
