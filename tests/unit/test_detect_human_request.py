"""Explicit requests for a human: multilingual positives, negations, bot questions, look-alikes."""

from __future__ import annotations

import pytest

from warmhandoff.streams.detect import human_request
from warmhandoff.streams.detect.human_request import is_human_request
from warmhandoff.streams.detect.normalize import fold

REQUESTS = [
    # en
    "I want to talk to a human",
    "Can I speak to a real person please?",
    "agent",
    "Agent please!!",
    "representative",
    "let me talk to someone",
    "transfer me to a live agent",
    "Please transfer me",
    "connect me with customer service",
    "I need a human, not a bot",
    "get me a manager",
    "can someone call me back?",
    "please call me",
    "I'd like to speak with your supervisor",
    "put me through to billing",
    "is there a person I can talk to?",
    "talk to operator",
    "escalate this to a supervisor",
    "billing department please",
    "human please",
    "can I get a human?",
    "I need help from a real person",
    "Are you a bot? I want a human.",
    "no, I want to talk to someone",
    "this is useless, let me speak to an agent",
    "I've tried everything and nothing works. Representative please.",
    # es
    "quiero hablar con una persona",
    "Quiero hablar con un agente, por favor",
    "pásame con un asesor",
    "necesito hablar con alguien",
    "¿Puedo hablar con un humano?",
    "comuníqueme con un operador",
    "un agente por favor",
    "llámenme por favor",
    # fr
    "je veux parler à un conseiller",
    "Je voudrais parler à quelqu'un",
    "passez-moi un responsable",
    "est-ce que je peux parler à un humain ?",
    "mettez-moi en relation avec un agent",
    "un conseiller svp",
    # de
    "ich möchte mit einem Mitarbeiter sprechen",
    "Kann ich mit einem Menschen sprechen?",
    "verbinden Sie mich bitte mit dem Kundenservice",
    "bitte einen Mitarbeiter",
    "ich will mit jemandem reden",
    "rufen Sie mich zurück",
    # pt
    "quero falar com um atendente",
    "Posso falar com uma pessoa?",
    "me transfira para um atendente",
    "preciso falar com alguém",
    "um atendente por favor",
    "me liga por favor",
    # it
    "vorrei parlare con un operatore",
    "Posso parlare con una persona?",
    "mi passi un operatore per favore",
    "voglio parlare con qualcuno",
    "un operatore per favore",
    "richiamatemi",
]

NOT_REQUESTS = [
    # negated
    "I don't want to talk to a human",
    "no need for an agent",
    "I don't need to speak to anyone",
    "please don't transfer me",
    "I'd rather not talk to a person",
    "no quiero hablar con una persona",
    "no necesito un agente",
    "je ne veux pas parler à un humain",
    "pas besoin d'un conseiller",
    "ich möchte nicht mit einem Menschen sprechen",
    "não quero falar com um atendente",
    "non voglio parlare con un operatore",
    "Can I fix this without talking to a person?",
    "I don't want an agent, just tell me my balance",
    "I never asked to speak to a human",
    "I would like to avoid speaking to a person",
    "There is no need to connect me to anyone",
    "Don't put me through to anyone",
    # questions about the bot
    "are you a bot?",
    "am I talking to a human?",
    "is this a real person?",
    "are you human",
    "¿eres un robot?",
    "es-tu un robot ?",
    "bist du ein Bot?",
    "você é um robô?",
    "sei un robot?",
    # information requests and reports that mention staff
    "what are your agent fees",
    "how do I become an agent",
    "who is the manager of the hotel",
    "my agent told me to call",
    "what time does customer service open",
    "the manager was rude to me yesterday",
    "I talked to an agent yesterday and they said it was fixed",
    "I was talking to a person at the desk",
    "Do I need to speak to a representative to change my PIN?",
    "how much does a personal trainer cost",
    "I need someone to clean my room",
    "can you transfer $50 to my savings",
    "how do I transfer money to another account",
    "call me Bob",
    "what will you call me",
    "I can't connect to the wifi",
    "can I talk to you about my bill?",
    "talk to me about pricing",
    "ça me rappelle mon enfance",
    "me pasa a menudo",
    "me passa o valor",
    "wie werde ich Mitarbeiter",
    "",
]


@pytest.mark.parametrize("text", REQUESTS)
def test_explicit_requests_are_detected(text: str) -> None:
    assert is_human_request(text)


@pytest.mark.parametrize("text", NOT_REQUESTS)
def test_negations_bot_questions_and_information_requests_are_not(text: str) -> None:
    assert not is_human_request(text)


def test_accents_and_case_do_not_matter() -> None:
    assert is_human_request("QUIERO HABLAR CON UNA PERSONA")
    assert is_human_request("je veux parler a un conseiller")
    assert is_human_request("ich mochte mit einem mitarbeiter sprechen")


def test_gate_selects_every_rule_that_can_match() -> None:
    gate = human_request._REQUEST
    for text in REQUESTS + NOT_REQUESTS:
        folded = fold(text)
        matching = {i for i, p in enumerate(gate.patterns) if p.search(folded)}
        assert matching <= set(gate.select(folded)), text
