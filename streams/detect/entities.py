"""Entities and IDs a human needs on the ticket: order, account, case, invoice, tracking, amounts.

Runs on text that `redact.redact` has already cleaned, so placeholders such as `[CARD]` are in
the text; an ID must contain a digit and may not contain a bracket, so no placeholder can
come back as an entity. An ID is recognised by the word that introduces it ("order #A12345",
"case number 00123", "pedido 998877"), which keeps amounts, dates and quantities out.
"""

from __future__ import annotations

import re

from warmhandoff.streams.detect.gate import words
from warmhandoff.streams.detect.normalize import fold

KINDS = ("order_id", "account_id", "case_id", "invoice_id", "tracking_id", "amount")

# "number", "no.", "#", "id" ... between the keyword and the value, in several languages.
_LINK = (
    r"(?:\s*(?:number|num|nr|no|n[o°º]|#|id|ref|reference|numero|nummer|code|is|was|:|-|\.)"
    r"){0,3}\s*"
)
# An ID: letters, digits and inner dashes, with at least one digit, 3 to 30 characters.
_VALUE = r"(?=[A-Za-z0-9-]*[0-9])([A-Za-z0-9][A-Za-z0-9-]{2,29})(?![A-Za-z0-9\[\]])"

_ID_RULES: tuple[tuple[str, str, str], ...] = (
    (
        "order_id",
        "order orders pedido commande bestellung bestellnummer ordine encomenda",
        r"\b(?:order|pedido|commande|bestellung|bestellnummer|ordine|encomenda)",
    ),
    (
        "account_id",
        "account acct cuenta compte konto conto conta customer membership member",
        r"\b(?:account|acct|a/c|cuenta|compte|konto|kontonummer|conto|conta"
        r"|customer|membership|member)",
    ),
    (
        "case_id",
        "case ticket incident complaint reference ref caso reclamo dossier fall ticketnummer"
        " pratica chamado protocolo",
        r"\b(?:case|ticket|incident|complaint|reference|ref|caso|reclamo|dossier|fall"
        r"|ticketnummer|pratica|chamado|protocolo)",
    ),
    (
        "invoice_id",
        "invoice bill receipt factura facture rechnung fattura fatura",
        r"\b(?:invoice|bill|receipt|factura|facture|rechnung|rechnungsnummer|fattura|fatura)",
    ),
    (
        "tracking_id",
        "tracking track shipment parcel package seguimiento suivi sendungsnummer"
        " sendungsverfolgung tracciamento rastreio waybill awb",
        r"\b(?:tracking|track|shipment|parcel|package|seguimiento|suivi|sendungsnummer"
        r"|sendungsverfolgung|tracciamento|rastreio|waybill|awb)",
    ),
)
_ID_PATTERNS = tuple(
    (kind, frozenset(triggers.split()), re.compile(rf"(?i){keyword}\w*{_LINK}{_VALUE}"))
    for kind, triggers, keyword in _ID_RULES
)
# Formats that need no keyword: prefixed IDs ("ORD-12345", "INV-2024-0042") and UPS 1Z....
# Each with the literals one of which every match starts with (a substring test is far
# cheaper than the scan).
_PREFIXED = (
    ("order_id", ("ORD",), re.compile(r"\bORD(?:ER)?[-_#]?[0-9][A-Z0-9-]{2,28}\b")),
    ("invoice_id", ("INV",), re.compile(r"\bINV[-_#]?[0-9][A-Z0-9-]{2,28}\b")),
    (
        "case_id",
        ("CASE", "TKT", "TICKET"),
        re.compile(r"\b(?:CASE|TKT|TICKET)[-_#]?[0-9][A-Z0-9-]{2,28}\b"),
    ),
    ("tracking_id", ("1Z",), re.compile(r"\b1Z[0-9A-Z]{16}\b")),
)

_CURRENCY_SYMBOL = r"(?:US\$|A\$|C\$|R\$|[$€£¥₹₩₽])"
_CURRENCY_CODE = (
    r"(?:USD|EUR|GBP|JPY|INR|CAD|AUD|CHF|BRL|MXN|SEK|NOK|DKK|PLN|TRY|ZAR|CNY|KRW|RUB"
    r"|dollars?|euros?|pounds?|reais|pesos?|rupees?)"
)
_NUMBER = r"[0-9]{1,3}(?:[,. ][0-9]{3})*(?:[.,][0-9]{1,2})?|[0-9]+(?:[.,][0-9]{1,2})?"
_AMOUNT = re.compile(
    rf"(?<![\w.,])(?:{_CURRENCY_SYMBOL}\s?(?:{_NUMBER})|(?:{_CURRENCY_CODE})\s?(?:{_NUMBER})"
    rf"|(?:{_NUMBER})\s?(?:{_CURRENCY_SYMBOL}|{_CURRENCY_CODE}\b))(?![0-9])",
    re.IGNORECASE,
)
_AMOUNT_HINT = re.compile(rf"{_CURRENCY_SYMBOL}|(?i:{_CURRENCY_CODE})")
# The same hint for ASCII text, lowercased: ten times faster than the case-insensitive scan
# ("$" is the only ASCII currency symbol).
_ASCII_AMOUNT_HINT = re.compile(rf"\$|{_CURRENCY_CODE.lower()}")


_DIGIT = re.compile(r"[0-9]")


def _add(found: dict[str, list[str]], kind: str, value: str) -> None:
    values = found.setdefault(kind, [])
    if value not in values:
        values.append(value)


def extract_entities(text: str) -> dict[str, list[str]]:
    """Return IDs and amounts found in already redacted text, by kind, deduplicated in order."""
    found: dict[str, list[str]] = {}
    if not text or _DIGIT.search(text) is None:
        return found
    present = words(fold(text))
    for kind, triggers, pattern in _ID_PATTERNS:
        if present.isdisjoint(triggers):
            continue
        for match in pattern.finditer(text):
            _add(found, kind, match.group(1))
    for kind, literals, pattern in _PREFIXED:
        if any(literal in text for literal in literals):
            for match in pattern.finditer(text):
                _add(found, kind, match.group())
    if _ASCII_AMOUNT_HINT.search(text.lower()) if text.isascii() else _AMOUNT_HINT.search(text):
        for match in _AMOUNT.finditer(text):
            _add(found, "amount", match.group().strip())
    return found
