"""What each development data set's labels mean for the text classifier's heads.

The heads are an explicit request for a human and the four risk families with a desk behind
them (`HEADS`). Mapping (docs/detection.md repeats it):

- request for a human: NLU++ intent `handoff` (a request for a person or a department);
  Banking77 and CLINC150 have no such label, so their rows are negatives;
- risk: `BANKING77_RISK` and `CLINC150_RISK` give the family of each risky label; every
  other label is a plain information request, except the `*_ADJACENT` labels: requests that
  touch a risk family without being in the mapping (a disputed charge, a PIN change, a
  blocked account, a hotel refund). They are left out of training and of the risk figures
  (their tags are reported on their own): a label set that calls them neither risky nor
  plain would teach the model both;
- NLU++ hotels has no risk label: its bookings, cancellations of a stay and lost property
  are plain requests.

Written examples (`written/`, made for this project) carry head names directly.
"""

from __future__ import annotations

HEADS = ("human_request", "fraud", "identity", "payments", "cancellation")
RISK_FAMILIES = HEADS[1:]

NLUPP_HUMAN_REQUEST = "handoff"
NLUPP_ADJACENT = frozenset({"refund"})

BANKING77_RISK = {
    "compromised_card": "fraud",
    "lost_or_stolen_card": "fraud",
    "card_payment_not_recognised": "fraud",
    "cash_withdrawal_not_recognised": "fraud",
    "unable_to_verify_identity": "identity",
    "passcode_forgotten": "identity",
    "pin_blocked": "identity",
    "transaction_charged_twice": "payments",
    "request_refund": "payments",
    "terminate_account": "cancellation",
}
#: Banking77 categories a bank could fairly route to a risk desk although the mapping does not
#: list them: an unrecognised direct debit or a stolen phone (fraud); how and why identity is
#: checked, and PIN changes (identity is failed verification or locked access); money moved
#: or charged that the customer questions (a missing refund, an unexplained charge or fee, a
#: wrong amount or rate, a transfer that did not arrive or did not show, a reverted payment,
#: a transfer to cancel) and source-of-funds checks (payments is a dispute about money
#: already moved: these sit on its border).
BANKING77_ADJACENT = frozenset(
    {
        "direct_debit_payment_not_recognised",
        "lost_or_stolen_phone",
        "verify_my_identity",
        "why_verify_identity",
        "change_pin",
        "Refund_not_showing_up",
        "extra_charge_on_statement",
        "wrong_amount_of_cash_received",
        "card_payment_wrong_exchange_rate",
        "wrong_exchange_rate_for_cash_withdrawal",
        "cancel_transfer",
        "verify_source_of_funds",
        "transfer_not_received_by_recipient",
        "balance_not_updated_after_bank_transfer",
        "balance_not_updated_after_cheque_or_cash_deposit",
        "transfer_fee_charged",
        "card_payment_fee_charged",
        "cash_withdrawal_charge",
        "reverted_card_payment?",
    }
)
CLINC150_RISK = {"report_fraud": "fraud", "freeze_account": "fraud", "report_lost_card": "fraud"}
#: CLINC150 intents that touch account access: a blocked account and a PIN change (as
#: Banking77's `change_pin`). Everything else is plain, `oos` included: `card_declined` like
#: Banking77's declined payments (a failed payment the bot can explain, not a dispute),
#: `cancel` ("cancel that") and `cancel_reservation` (a booking, not the account).
CLINC150_ADJACENT = frozenset({"account_blocked", "pin_change"})

#: Data sets with labels for the heads: (risk mapping, adjacent labels, human-request label).
MAPPINGS: dict[str, tuple[dict[str, str], frozenset[str], str | None]] = {
    "banking77": (BANKING77_RISK, BANKING77_ADJACENT, None),
    "clinc150": (CLINC150_RISK, CLINC150_ADJACENT, None),
    "nlupp": ({}, NLUPP_ADJACENT, NLUPP_HUMAN_REQUEST),
}


def heads_of(key: str, labels: tuple[str, ...]) -> frozenset[str] | None:
    """The heads a development row is positive for; None for an adjacent row (left out)."""
    risk, adjacent, human = MAPPINGS[key]
    found = {risk[label] for label in labels if label in risk}
    if human is not None and human in labels:
        found.add("human_request")
    if not found and any(label in adjacent for label in labels):
        return None
    return frozenset(found)
