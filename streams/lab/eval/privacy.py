"""How well redaction works, measured: `warmhandoff privacy [--json]`.

`corpus(per_kind, seed)` generates a labelled corpus of customer sentences, each holding one
sensitive value (a card number typed with spaces or dashes or read out as digit words, a CVV,
an expiry date, a US SSN, a UK NI number, a Spanish DNI or NIE, a French INSEE number, a DE,
FR, ES or GB IBAN, an e-mail address, a phone number in one of several regions) or one look-
alike that must be left alone (an order, ticket or tracking number, an amount, a date, a
time). Check digits are computed, so every card passes Luhn, every IBAN mod-97, every ID its
check letter or key; phone numbers start from `phonenumbers`' example numbers and stay valid.

`measure(samples)` runs the redactor the detect stage uses and reports, per kind, the recall
(the value no longer appears in the output, neither as written nor as its digits, digit words
included) and, per look-alike kind, the false-positive rate (anything was redacted). Every
value is synthetic; nothing here reads customer data.
"""

from __future__ import annotations

import random
import re
import string
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from warmhandoff.streams.detect.redact import redact

Redactor = Callable[[str, str], tuple[str, int]]


@dataclass(frozen=True, slots=True)
class Sample:
    """One sentence with one value in it; `sensitive` says whether it must be redacted."""

    kind: str
    text: str
    value: str
    region: str
    sensitive: bool


# --- sensitive values -------------------------------------------------------------------------


def _luhn_complete(prefix: str) -> str:
    """`prefix` with the Luhn check digit appended."""
    total = 0
    for position, char in enumerate(reversed(prefix)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return prefix + str((10 - total % 10) % 10)


def _card(rng: random.Random) -> tuple[str, str]:
    """A Luhn-valid card number as typed, and its digits."""
    brand = rng.choice(["visa", "mastercard", "amex", "discover"])
    if brand == "amex":
        digits = _luhn_complete(rng.choice(["34", "37"]) + _digits(rng, 12))
        groups = [digits[:4], digits[4:10], digits[10:]]
    else:
        prefix = {"visa": "4", "mastercard": str(rng.randint(51, 55)), "discover": "6011"}[brand]
        digits = _luhn_complete(prefix + _digits(rng, 15 - len(prefix)))
        groups = [digits[i : i + 4] for i in range(0, 16, 4)]
    sep = rng.choice([" ", "-", "", " "])
    return sep.join(groups), digits


_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def _spoken(rng: random.Random, digits: str) -> str:
    """Digits read out in English: "four one one one, ...", "oh" for zero, "double" pairs."""
    words: list[str] = []
    i = 0
    while i < len(digits):
        d = int(digits[i])
        if i + 1 < len(digits) and digits[i + 1] == digits[i] and rng.random() < 0.4:
            words.append(f"double {_WORDS[d]}")
            i += 2
        else:
            words.append("oh" if d == 0 and rng.random() < 0.5 else _WORDS[d])
            i += 1
        if i % 4 == 0 and i < len(digits) and rng.random() < 0.5:
            words[-1] += ","
    return " ".join(words)


def _iban(rng: random.Random, country: str) -> str:
    bban = {
        "DE": lambda: _digits(rng, 18),
        "FR": lambda: _digits(rng, 10) + _alnum(rng, 11) + _digits(rng, 2),
        "ES": lambda: _digits(rng, 20),
        "GB": lambda: (
            "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + _digits(rng, 14)
        ),
    }[country]()
    rearranged = bban + country + "00"
    check = 98 - int("".join(str(int(c, 36)) for c in rearranged)) % 97
    return f"{country}{check:02d}{bban}"


def _dni(rng: random.Random) -> str:
    number = rng.randint(10_000_000, 99_999_999)
    return f"{number}{'TRWAGMYFPDXBNJZSQVHLCKE'[number % 23]}"


def _nie(rng: random.Random) -> str:
    prefix = rng.choice("XYZ")
    number = _digits(rng, 7)
    return (
        f"{prefix}{number}{'TRWAGMYFPDXBNJZSQVHLCKE'[int(str('XYZ'.index(prefix)) + number) % 23]}"
    )


def _insee(rng: random.Random) -> str:
    body = (
        rng.choice("12")
        + f"{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 95):02d}"
        + _digits(rng, 6)
    )
    return f"{body}{97 - int(body) % 97:02d}"


def _ssn(rng: random.Random) -> str:
    area = rng.choice([n for n in range(1, 900) if n != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _nino(rng: random.Random) -> str:
    first = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ".replace("O", ""))
    while first + second in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}:
        second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    pairs = " ".join(_digits(rng, 2) for _ in range(3))
    return f"{first}{second} {pairs} {rng.choice('ABCD')}"


PHONE_REGIONS = ("US", "GB", "ES", "FR", "DE", "BR", "IN", "MX")


def _phone(rng: random.Random, region: str, fmt: int | None = None) -> str:
    """A valid number of `region`, from its example number with the last digits changed."""
    kind = rng.choice([PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE])
    example = phonenumbers.example_number_for_type(region, kind)
    assert example is not None, region  # every region in PHONE_REGIONS has both kinds
    national = str(example.national_number)
    for _ in range(50):
        candidate = phonenumbers.PhoneNumber(
            country_code=example.country_code,
            national_number=int(national[:-4] + _digits(rng, 4)),
        )
        if phonenumbers.is_valid_number(candidate):
            break
    else:
        candidate = example
    if fmt is None:
        fmt = rng.choice(
            [PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL, PhoneNumberFormat.E164]
        )
    return phonenumbers.format_number(candidate, fmt)


def _email(rng: random.Random) -> str:
    first = rng.choice(["ana", "john", "marie", "li", "o.brien", "jean-luc", "Sam"])
    last = rng.choice(["garcia", "smith", "dupont", "wang", "mueller", "x"])
    tag = rng.choice(["", "", "+orders", str(rng.randint(1, 99))])
    domain = rng.choice(["example.com", "mail.example.co.uk", "correo.example.es", "web.de"])
    return f"{first}.{last}{tag}@{domain}"


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits + string.ascii_uppercase) for _ in range(n))


def _grouped(value: str, rng: random.Random) -> str:
    """An IBAN as typed: compact or in groups of four."""
    return (
        value if rng.random() < 0.5 else " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    )


# Each kind: (region, value maker, sentence templates); {v} is the value.
_Maker = Callable[[random.Random], str]


def _iban_of(country: str) -> _Maker:
    return lambda rng: _grouped(_iban(rng, country), rng)


def _phone_of(region: str) -> _Maker:
    return lambda rng: _phone(rng, region)


def _foreign_national(rng: random.Random) -> str:
    """A non-US number written the way its owner's country writes it, without "+"."""
    region = rng.choice([r for r in PHONE_REGIONS if r != "US"])
    number = phonenumbers.parse(_phone(rng, region, PhoneNumberFormat.E164))
    return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)


def _card_typed(rng: random.Random) -> str:
    return _card(rng)[0]


def _card_words(rng: random.Random) -> str:
    return _spoken(rng, _card(rng)[1])


SENSITIVE: dict[str, tuple[str, _Maker, list[str]]] = {
    "card": ("US", _card_typed, [
        "my card number is {v}", "I paid with {v} yesterday", "card: {v}, can you refund it?",
        "the charge was on {v} and I never made it",
    ]),
    "card_spoken": ("US", _card_words, [
        "the card is {v}", "okay it's {v}", "number {v} expiry next year",
    ]),
    "cvv": ("US", lambda rng: _digits(rng, rng.choice([3, 3, 4])), [
        "the CVV is {v}", "security code {v}", "CVC: {v}", "{v} is the security code",
        "the digits on the back are {v}",
    ]),
    "expiry": ("US", lambda rng: f"{rng.randint(1, 12):02d}/{rng.choice(['27', '28', '2029'])}", [
        "expiry {v}", "it expires {v}", "exp date {v}", "valid thru {v}",
    ]),
    "ssn": ("US", _ssn, ["my SSN is {v}", "social security number {v}", "ssn {v}"]),
    "nino": ("GB", _nino, ["my national insurance number is {v}", "NI number {v}"]),
    "dni": ("ES", _dni, ["mi DNI es {v}", "DNI: {v}", "my ID is {v}"]),
    "nie": ("ES", _nie, ["mi NIE es {v}", "NIE {v} por favor"]),
    "insee": ("FR", _insee, ["mon numéro de sécurité sociale est {v}", "INSEE {v}"]),
    "iban_de": ("DE", _iban_of("DE"), ["meine IBAN ist {v}", "IBAN: {v}"]),
    "iban_fr": ("FR", _iban_of("FR"), ["mon IBAN est {v}", "IBAN {v}"]),
    "iban_es": ("ES", _iban_of("ES"), ["mi IBAN es {v}", "cuenta {v}"]),
    "iban_gb": ("GB", _iban_of("GB"), ["my IBAN is {v}", "pay into {v}"]),
    "email": ("US", _email, [
        "email me at {v}", "my address is {v} thanks", "{v}", "contact: <{v}>",
    ]),
    **{
        f"phone_{region.lower()}": (region, _phone_of(region), [
            "call me on {v}", "my number is {v}", "reach me at {v} after 5", "tel. {v}",
        ])
        for region in PHONE_REGIONS
    },
    # A bot whose locale is en-US, a customer who types a national number of another country.
    "phone_foreign_national": ("US", _foreign_national, [
        "call me on {v}", "my number is {v}", "mobile {v}",
    ]),
}  # fmt: skip

LOOKALIKES: dict[str, tuple[str, _Maker, list[str]]] = {
    "order_number": ("US", lambda rng: rng.choice([
        f"ORD-{_digits(rng, 5)}", f"#{_digits(rng, 9)}",
        f"{_digits(rng, 3)}-{_digits(rng, 7)}-{_digits(rng, 7)}",
    ]), ["where is order {v}?", "my order {v} has not arrived", "order number {v}"]),
    "ticket_id": ("US", lambda rng: rng.choice([
        f"INC{_digits(rng, 7)}", f"case {_digits(rng, 8)}", f"#{_digits(rng, 5)}",
    ]), ["about ticket {v}", "re: {v}", "I opened {v} last week"]),
    "tracking_number": ("US", lambda rng: rng.choice([
        f"1Z{_alnum(rng, 6)}{_digits(rng, 10)}",
        " ".join(_digits(rng, 4) for _ in range(5)) + " " + _digits(rng, 2),
        f"{_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)}",
    ]), ["tracking says {v}", "the tracking number is {v}", "parcel {v} is stuck"]),
    "amount": ("US", lambda rng: rng.choice([
        f"${rng.randint(1, 9)},{_digits(rng, 3)}.{_digits(rng, 2)}",
        f"€{rng.randint(10, 999)},{_digits(rng, 2)}",
        f"{rng.randint(1, 99)}.{_digits(rng, 3)},00 EUR",
    ]), ["I was charged {v}", "a refund of {v}", "why {v}?"]),
    "date": ("US", lambda rng: rng.choice([
        f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2026",
        f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        f"{rng.randint(1, 12)}/{rng.randint(1, 28)}",
    ]), ["delivered on {v}", "since {v}", "booked for {v}"]),
    "time": ("US", lambda rng: rng.choice([
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
        f"{rng.randint(1, 12)}:{rng.randint(0, 5)}5 pm",
    ]), ["call me at {v}", "it failed at {v} today"]),
}  # fmt: skip


def corpus(per_kind: int = 50, seed: int = 0) -> list[Sample]:
    """`per_kind` sentences for every sensitive and look-alike kind (same seed, same corpus)."""
    rng = random.Random(seed)
    samples: list[Sample] = []
    for table, sensitive in ((SENSITIVE, True), (LOOKALIKES, False)):
        for kind, (region, make, templates) in table.items():
            for _ in range(per_kind):
                value = make(rng)
                text = rng.choice(templates).format(v=value)
                samples.append(Sample(kind, text, value, region, sensitive))
    return samples


# --- measuring ------------------------------------------------------------------------------

_NON_DIGIT = re.compile(r"[^0-9]")
_WORD_DIGITS = {word: str(n) for n, word in enumerate(_WORDS)} | {"oh": "0"}
_DOUBLE = re.compile(r"\bdouble (\w+)")


def _digits_of(text: str) -> str:
    """Every digit in `text`, English digit words included, in order."""
    text = _DOUBLE.sub(lambda m: f"{m.group(1)} {m.group(1)}", text.lower())
    text = re.sub(r"[a-z]+", lambda m: _WORD_DIGITS.get(m.group(), " "), text)
    return _NON_DIGIT.sub("", text)


def leaked(sample: Sample, output: str) -> bool:
    """True when the value is still readable in the redacted output."""
    if sample.value in output:
        return True
    digits = _digits_of(sample.value)
    return len(digits) >= 3 and digits in _digits_of(output)


def measure(samples: list[Sample], redactor: Redactor = redact) -> dict[str, Any]:
    """Recall per sensitive kind and false-positive rate per look-alike kind."""
    caught: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    flagged: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: dict[str, list[str]] = defaultdict(list)
    for sample in samples:
        output, count = redactor(sample.text, sample.region)
        if sample.sensitive:
            ok = not leaked(sample, output)
            caught[sample.kind][0] += ok
            caught[sample.kind][1] += 1
            if not ok and len(misses[sample.kind]) < 3:
                misses[sample.kind].append(sample.text)
        else:
            hit = count > 0 or output != sample.text
            flagged[sample.kind][0] += hit
            flagged[sample.kind][1] += 1
            if hit and len(misses[sample.kind]) < 3:
                misses[sample.kind].append(f"{sample.text} -> {output}")
    positives = sum(n for _, n in caught.values())
    negatives = sum(n for _, n in flagged.values())
    return {
        "samples": len(samples),
        "recall": {k: _rate(hit, n) for k, (hit, n) in caught.items()},
        "overall_recall": _ratio(sum(h for h, _ in caught.values()), positives),
        "false_positives": {k: _rate(hit, n) for k, (hit, n) in flagged.items()},
        "overall_false_positive_rate": _ratio(sum(h for h, _ in flagged.values()), negatives),
        "examples": dict(misses),
    }


def _rate(hit: int, n: int) -> dict[str, Any]:
    return {"n": n, "hits": hit, "rate": _ratio(hit, n)}


def _ratio(hit: int, n: int) -> float:
    return round(hit / n, 4) if n else 0.0


def render(report: dict[str, Any]) -> str:
    """The report as a table for a terminal."""
    lines = [f"{'sensitive kind':<24} {'n':>5} {'recall':>7}"]
    for kind, row in report["recall"].items():
        lines.append(f"{kind:<24} {row['n']:>5} {row['rate']:>7.1%}")
    lines.append(f"{'all':<24} {'':>5} {report['overall_recall']:>7.1%}")
    lines.append("")
    lines.append(f"{'look-alike kind':<24} {'n':>5} {'false +':>7}")
    for kind, row in report["false_positives"].items():
        lines.append(f"{kind:<24} {row['n']:>5} {row['rate']:>7.1%}")
    lines.append(f"{'all':<24} {'':>5} {report['overall_false_positive_rate']:>7.1%}")
    if report["examples"]:
        lines.append("")
        lines.append("examples of misses and false positives (synthetic values):")
        for kind, texts in report["examples"].items():
            lines.extend(f"  {kind}: {text}" for text in texts)
    return "\n".join(lines) + "\n"
