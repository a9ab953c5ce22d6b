"""Risk families from text and NLU intent: concepts in several languages, not keywords."""

from __future__ import annotations

import pytest

from warmhandoff.streams.detect import risk
from warmhandoff.streams.detect.normalize import fold
from warmhandoff.streams.detect.risk import intent_families, risk_families

CASES = {
    "fraud": [
        "there is a transaction on my statement that I never made",
        "somebody has been using my debit card",
        "my wallet was stolen last night",
        "I lost my credit card on the train",
        "I think my card details were compromised",
        "I got a phishing email pretending to be you",
        "there is a suspicious charge from a shop I've never heard of",
        "the app says I withdrew 300 dollars but I didn't",
        "please freeze my card right now",
        "my account has been hacked",
        "I don't recognise this payment",
        "me robaron la tarjeta",
        "je ne reconnais pas ce paiement",
        "meine Karte wurde gestohlen",
        "não reconheço essa compra, foi um golpe",
        "mi hanno rubato il portafoglio",
        "a merchant I've never used took money from me",
        "my purse was snatched",
    ],
    "identity": [
        "I forgot my password",
        "my PIN is blocked after three wrong tries",
        "I'm locked out of my account",
        "I can't log in to the app",
        "how do I verify my identity",
        "what documents do you need to confirm who I am",
        "can you unlock my account",
        "olvidé mi contraseña",
        "j'ai oublié mon mot de passe",
        "mein Konto ist gesperrt",
        "esqueci minha senha",
        "non riesco ad accedere al mio account",
        "I can't get into my online banking",
    ],
    "payments": [
        "I was charged twice for the same order",
        "I want a refund",
        "I'd like to dispute a charge",
        "my payment failed but the money left my account",
        "there is a billing error on my invoice",
        "you overcharged me this month",
        "can I return the item and get my money back",
        "the package never arrived and I paid for it",
        "quiero un reembolso",
        "je demande un remboursement",
        "mir wurde doppelt abgebucht",
        "quero o reembolso do meu pedido",
        "vorrei un rimborso",
        "you billed me for a service I cancelled",
        "I paid but the order shows unpaid",
    ],
    "cancellation": [
        "I want to cancel my subscription",
        "please close my account",
        "how do I terminate my contract",
        "delete my profile and everything",
        "I no longer want to be a customer",
        "unsubscribe me",
        "quiero dar de baja mi cuenta",
        "je veux résilier mon abonnement",
        "ich möchte meinen Vertrag kündigen",
        "quero cancelar minha assinatura",
        "voglio disdire il mio abbonamento",
        "stop my subscription",
        "I'm done with you, shut my account down",
    ],
    "compliance": [
        "I'm going to contact my lawyer about this",
        "I will take legal action",
        "I am going to sue you",
        "under GDPR I want all my personal data deleted",
        "I'll file a formal complaint with the ombudsman",
        "I'm reporting you to the regulator",
        "voy a hablar con mi abogado",
        "je vais porter plainte",
        "ich schalte meinen Anwalt ein",
        "vou processar vocês e chamar o procon",
        "contatterò il mio avvocato",
    ],
}

PLAIN = [
    "what are your opening hours",
    "how do I change my billing address",
    "what is the exchange rate for euros today",
    "can you tell me a joke about a lawyer",
    "how much is the minimum payment on my card",
    "where can I find my card's expiry date",
    "do you guys have a wifi password",
    "what is the refund window for flights",  # a refund question is a payments topic
    "book a table for two tonight",
    "cancel my dinner reservation",
    "please cancel what you are doing",
    "what's the weather in Madrid",
    "how many transactions can I make per day",
    "my name is Sue",
    "what plug do they use in Spain",
    "when do I get paid",
    "set an alarm for 7",
    "what's my balance",
    "how do I stop the app from sending notifications",
    "what's your store id number",
]


@pytest.mark.parametrize(("family", "text"), [(f, t) for f, ts in CASES.items() for t in ts])
def test_each_family_is_found(family: str, text: str) -> None:
    assert family in risk_families(text)


@pytest.mark.parametrize("text", [t for t in PLAIN if "refund" not in t])
def test_plain_information_requests_are_not_tagged(text: str) -> None:
    assert risk_families(text) == ()


def test_result_is_sorted_and_unique() -> None:
    found = risk_families("my card was stolen and I was charged twice, I want a refund")
    assert found == ("fraud", "payments")
    assert list(found) == sorted(set(found))


@pytest.mark.parametrize(
    ("intent", "family"),
    [
        ("report_fraud", "fraud"),
        ("cancel_subscription", "cancellation"),
        ("CancelSubscription", "cancellation"),
        ("request-refund", "payments"),
        ("pin_blocked", "identity"),
        ("passcode_forgotten", "identity"),
        ("lost_or_stolen_card", "fraud"),
        ("gdpr_data_deletion", "compliance"),
        ("transaction_charged_twice", "payments"),
        ("terminate_account", "cancellation"),
    ],
)
def test_intent_labels_map_to_families(intent: str, family: str) -> None:
    assert family in risk_families("", intent)


@pytest.mark.parametrize("intent", ["order_status", "cancel_reservation", "greeting", "balance"])
def test_plain_intents_map_to_nothing(intent: str) -> None:
    assert intent_families(intent) == frozenset()


def test_intent_and_text_combine() -> None:
    assert risk_families("I forgot my password", "report_fraud") == ("fraud", "identity")


def test_gate_selects_every_rule_that_can_match() -> None:
    gate = risk._GATE
    texts = [t for ts in CASES.values() for t in ts] + PLAIN
    for text in texts:
        folded = fold(text)
        matching = {i for i, p in enumerate(gate.patterns) if p.search(folded)}
        assert matching <= set(gate.select(folded)), text
