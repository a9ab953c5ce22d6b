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

# Paraphrases written for this project (not taken from any data set), to check that the rules
# generalise: per family, turns that carry the risk and near misses that do not. The near
# misses are the plain information requests a bot answers itself: where a new card's PIN is,
# why a payment was declined or reversed, what a fee is, how to do a self-service task.
PARAPHRASES = {
    "fraud": [
        "someone took 200 pounds out of my account and it wasn't me",
        "there's a purchase from an online shop in Brazil that I never made",
        "my card details must have been stolen, there are charges I don't know",
        "I think a thief has my debit card",
        "I can't find my card anywhere, I think I dropped it on the bus",
        "please block my card, my bag was stolen",
        "I got a text pretending to be the bank and clicked the link, I think it was a scam",
        "there are withdrawals on my statement I did not authorise",
        "my account was accessed from a device I don't own",
        "freeze my account immediately please",
        "how can I freeze my card right now",
        "somebody used my card at a petrol station this morning",
        "I have no idea what this 49.99 charge is, I never shopped there",
        "my phone and wallet were taken at the gym",
        "unknown transactions keep appearing on my card",
        "I was pickpocketed and my card is gone",
        "a cash withdrawal shows up that I didn't make",
        "my card was cloned at an ATM",
        "I need to report my card as stolen",
        "I misplaced my credit card yesterday",
        "there's a direct debit to a company I have never dealt with",
        "alguien usó mi tarjeta sin permiso, es un fraude",
        "on m'a volé ma carte bancaire",
        "my credit card was snatched on the metro",
        "there's activity on my card I can't explain, it's not mine",
        "please stop all transactions on my card, I think it's been compromised",
    ],
    "identity": [
        "I forgot my PIN and the ATM kept my card",
        "my PIN got blocked after I typed it wrong three times",
        "the app won't let me log in",
        "I can't remember the password for online banking",
        "I keep getting locked out of my account",
        "my passcode stopped working this morning",
        "I entered the wrong passcode too many times",
        "I'm not receiving the login code by text",
        "the one-time code never arrives",
        "please unblock my PIN",
        "my account has been locked and I can't get in",
        "I don't know my online banking password anymore",
        "how do I reset my PIN, I've forgotten it",
        "what documents do you need to verify my identity",
        "I need to prove who I am to open the account",
        "my password is not being accepted",
        "I can't access my account since yesterday",
        "I've been blocked from signing in",
        "the security answer I gave is being rejected",
        "I ran out of PIN attempts",
        "j'ai oublié mon code pin",
        "ho dimenticato la password",
        "esqueci a minha senha",
        "mi contraseña no funciona",
        "ich habe mein Passwort vergessen",
        "the app says my password is incorrect every time",
        "I never got the 2fa code so I can't log in",
    ],
    "payments": [
        "I've been charged twice for one coffee",
        "the same payment went out of my account two times",
        "I'd like my money back for a faulty kettle",
        "I want to dispute a transaction with a hotel",
        "how do I request a refund from a merchant",
        "I was billed the wrong amount for my subscription",
        "you overcharged me by ten euros",
        "I returned the shoes but the shop never refunded me",
        "please reverse this charge, the seller never delivered",
        "I need to cancel a purchase I made by mistake",
        "cancel my card payment please",
        "there's a duplicate charge from the supermarket",
        "my card was declined but the money was still taken",
        "the transfer failed yet the funds left my account",
        "I was charged for an order I already cancelled",
        "the merchant charged me incorrectly",
        "I should only have been charged once",
        "can I get a chargeback on this payment",
        "I never got my refund for the tickets",
        "my order never arrived and I paid for it",
        "I'd like to stop a payment I made yesterday",
        "me cobraron dos veces la misma compra",
        "je voudrais un remboursement",
        "the shop took the payment two times",
        "I cancelled the gym but you still billed me",
        "the transfer was rejected but the money is gone from my balance",
    ],
    "cancellation": [
        "I want to close my bank account",
        "please cancel my membership",
        "how can I end my contract early",
        "delete my account please",
        "I no longer need this account",
        "I'd like to terminate my subscription",
        "stop my plan at the end of the month",
        "I'm leaving this bank",
        "cancel my service effective today",
        "shut my account down",
        "I want to get rid of my account",
        "I don't want to be a member anymore, cancel my membership",
        "close my savings account and send me the balance",
        "unsubscribe me from the premium plan",
        "I'm switching from this provider, close my account",
        "can you deactivate my profile",
        "I wish to discontinue the service",
        "how do I cancel my account",
        "quiero cerrar mi cuenta",
        "je veux résilier mon contrat",
        "ich will mein Konto kündigen",
    ],
}

NEAR_MISSES = {
    "fraud": [
        "where can I see my recent transactions",
        "how long does a new card take to arrive",
        "I found my lost card again, can I keep using it",
        "I thought I lost my card but it was in my coat",
        "is contactless safe to use",
        "the ATM kept my card, how do I get it back",
        "I lost my card in the ATM",
        "can I order a second card for my partner",
        "what's the daily cash withdrawal limit",
        "how do I add my card to Apple Pay",
        "why is this payment still pending",
        "when will my new card be delivered",
        "what does a pending transaction mean",
        "can I choose the design of my card",
        "how do I view my card number in the app",
        "is my card frozen",
        "did you block my card",
        "my card is about to expire, will you send a new one",
        "where can I find my card's security code",
        "can I use my card abroad",
        "I can't find my card PIN in the app",
        "my new card has arrived, how do I activate it",
    ],
    "identity": [
        "how do I change my PIN",
        "where is the PIN for my new card",
        "can I change my password in the app",
        "when will my PIN arrive",
        "what is the wifi password in your branch",
        "how do I set up two-factor authentication",
        "where do I find the verification code for a top-up",
        "is my PIN the same as my app passcode",
        "how long should my password be",
        "can I pick my own PIN",
        "what's a one-time password",
        "do I need a PIN for contactless payments",
        "I don't know my PIN yet, the card only came today",
        "I haven't received my PIN letter yet",
        "how do I log in on a new phone",
        "what are the password rules",
        "can I use fingerprint instead of a passcode",
        "where do I enter the security code when paying online",
        "why do you ask for verification when I top up",
        "I found my card, can I reactivate it",
        "can I set a new PIN at any ATM",
        "do I get a code by text when I pay online",
    ],
    "payments": [
        "my card was declined at the supermarket",
        "why did my transfer fail",
        "why was my card payment declined",
        "my payment got rejected, what does that mean",
        "what fees do you charge for transfers abroad",
        "how much does an ATM withdrawal cost",
        "why was my card payment reversed",
        "my payment was cancelled, why",
        "why did you cancel my card payment",
        "how do I pay my bill",
        "when does my direct debit go out",
        "how long do transfers take",
        "can I schedule a payment for next week",
        "why was there a fee on my transfer",
        "I had an unexpected fee on my statement",
        "is there a charge for topping up by card",
        "my top-up failed, what should I do",
        "why was my cash withdrawal declined",
        "I got my refund today, thanks",
        "how do I cancel a standing order",
        "what's the minimum payment this month",
        "my payment is pending, when will it clear",
        "why did my top up get reverted",
    ],
    "cancellation": [
        "cancel my table booking for tonight",
        "please cancel that, I typed the wrong thing",
        "can I cancel my flight reservation",
        "how do I close the app",
        "how do I end a call with the bot",
        "what's included in the premium plan",
        "can I upgrade my account",
        "how do I open a savings account",
        "what happens to my account if I move abroad",
        "can I add a joint holder to my account",
        "how do I change my plan",
        "stop the alarm",
        "how do I remove a payee",
        "how do I close this chat window",
        "can I pause notifications",
        "delete this message",
        "what services do you offer",
        "what does a current account cost per month",
        "how do I update the address on my account",
        "can I have a second account",
    ],
}

# "How do I ..." about a self-service task is a question the bot answers; the same task with
# trouble attached is not.
HOW_DO_I = [
    ("how do I change my PIN", "my PIN is blocked"),
    ("how do I change my password", "I forgot my password"),
    ("how do I set up my card PIN", "my card PIN isn't working"),
    ("how do I get a verification code", "the verification code never came"),
    ("how do I log in to the app", "I can't log in to the app"),
    ("how do I activate my new card", "my card was stolen"),
    ("how do I send money abroad", "I sent money and it was taken twice"),
    ("how do I pay by card online", "my card payment went through twice"),
    ("how do I top up my account", "I topped up but the money is missing"),
    ("how do I order a new card", "I lost my card, how do I order a new one"),
]


@pytest.mark.parametrize(("family", "text"), [(f, t) for f, ts in CASES.items() for t in ts])
def test_each_family_is_found(family: str, text: str) -> None:
    assert family in risk_families(text)


@pytest.mark.parametrize("text", [t for t in PLAIN if "refund" not in t])
def test_plain_information_requests_are_not_tagged(text: str) -> None:
    assert risk_families(text) == ()


@pytest.mark.parametrize(("family", "text"), [(f, t) for f, ts in PARAPHRASES.items() for t in ts])
def test_paraphrases_are_found(family: str, text: str) -> None:
    assert family in risk_families(text)


# Known limits of the text classifier, which reads words without their order: a lost card
# that turned up, and a delete whose object is not the account. Strict, so a model that gets
# them right makes these fail and they move back to the near misses above.
BAG_OF_WORDS_LIMITS = {
    "I thought I lost my card but it was in my coat",
    "delete this message",
}


@pytest.mark.parametrize(
    ("family", "text"),
    [
        pytest.param(
            f,
            t,
            marks=pytest.mark.xfail(strict=True, reason="bag of words")
            if t in BAG_OF_WORDS_LIMITS
            else (),
        )
        for f, ts in NEAR_MISSES.items()
        for t in ts
    ],
)
def test_near_misses_are_not_tagged(family: str, text: str) -> None:
    assert risk_families(text) == (), family


@pytest.mark.parametrize(("question", "trouble"), HOW_DO_I)
def test_how_to_questions_need_trouble(question: str, trouble: str) -> None:
    assert risk_families(question) == ()
    assert risk_families(trouble) != ()


def test_a_declined_card_is_a_question_not_a_dispute() -> None:
    assert intent_families("card_declined") == frozenset()
    assert intent_families("payment_failed") == frozenset()
    assert risk_families("my card was declined twice today") == ()
    assert risk_families("my card was declined but I was still charged") == ("payments",)


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
    texts += [t for ts in (*PARAPHRASES.values(), *NEAR_MISSES.values()) for t in ts]
    texts += [t for pair in HOW_DO_I for t in pair]
    for text in texts:
        folded = fold(text)
        matching = {i for i, p in enumerate(gate.patterns) if p.search(folded)}
        assert matching <= set(gate.select(folded)), text
