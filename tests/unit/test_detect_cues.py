"""Dissatisfaction, accessibility needs and revenue moments."""

from __future__ import annotations

import pytest

from warmhandoff.streams.detect import cues
from warmhandoff.streams.detect.cues import accessibility_needs, dissatisfied, revenue_moments
from warmhandoff.streams.detect.normalize import fold

DISSATISFIED = [
    "that's not what I asked",
    "this isn't working",
    "you're not listening",
    "wrong answer",
    "I already told you",
    "useless",
    "for the third time, where is my parcel",
    "it still doesn't work",
    "you didn't answer my question",
    "this makes no sense",
    "no es lo que pregunté",
    "eso no funciona",
    "ce n'est pas ce que j'ai demandé",
    "ça ne marche toujours pas",
    "das habe ich nicht gefragt",
    "funktioniert immer noch nicht",
    "não foi isso que eu perguntei",
    "você não me entende",
    "non è quello che ho chiesto",
]
SATISFIED = [
    "my card is not working",
    "where is my refund",
    "thanks, that helped",
    "I can't log in",
    "what are your opening hours",
    "great, it works now",
    "",
]


@pytest.mark.parametrize("text", DISSATISFIED)
def test_dissatisfaction_is_detected(text: str) -> None:
    assert dissatisfied(text)


@pytest.mark.parametrize("text", SATISFIED)
def test_first_reports_and_thanks_are_not_dissatisfaction(text: str) -> None:
    assert not dissatisfied(text)


ACCESSIBILITY = [
    ("I'm deaf", ("hearing",)),
    ("I am hard of hearing, please don't call", ("hearing",)),
    ("I'm blind", ("vision",)),
    ("I use a screen reader", ("vision",)),
    ("I can't read this", ("vision",)),
    ("I have a speech impairment", ("speech",)),
    ("I stutter so chat is easier", ("speech",)),
    ("I need an interpreter", ("interpreter",)),
    ("do you offer sign language", ("hearing", "interpreter")),
    ("I'm in a wheelchair", ("mobility",)),
    ("I'm dyslexic", ("cognitive",)),
    ("can you explain it more simply", ("cognitive",)),
    ("soy sordo", ("hearing",)),
    ("je suis malvoyant", ("vision",)),
    ("ich bin gehörlos", ("hearing",)),
    ("no hablo inglés", ("interpreter",)),
    ("my english is not good", ("interpreter",)),
    ("what is my balance", ()),
    ("read me my balance", ()),
    ("my screen is cracked", ()),
]


@pytest.mark.parametrize(("text", "needs"), ACCESSIBILITY)
def test_accessibility_needs(text: str, needs: tuple[str, ...]) -> None:
    assert accessibility_needs(text) == needs


REVENUE = [
    ("I want to buy 10 more licenses", ("purchase",)),
    ("pricing for 50 seats", ("purchase",)),
    ("can I get a quote", ("purchase",)),
    ("I'd like to book a demo", ("purchase",)),
    ("upgrade my plan", ("upgrade",)),
    ("we need to add 5 more seats", ("upgrade",)),
    ("thinking of switching to a competitor", ("retention",)),
    ("what would it take to keep me", ("retention",)),
    ("I found a better deal elsewhere", ("retention",)),
    ("I want to cancel my subscription", ("retention",)),
    ("quiero comprar el plan anual", ("purchase",)),
    ("where is my order", ()),
    ("I'd like to order a new card", ()),
    ("how much does shipping cost", ()),
]


@pytest.mark.parametrize(("text", "moments"), REVENUE)
def test_revenue_moments(text: str, moments: tuple[str, ...]) -> None:
    assert revenue_moments(text) == moments


@pytest.mark.parametrize(
    ("intent", "moments"),
    [
        ("upgrade_plan", ("upgrade",)),
        ("BuyProduct", ("purchase",)),
        ("cancel_subscription", ("retention",)),
        ("order_status", ()),
    ],
)
def test_revenue_moments_from_intent(intent: str, moments: tuple[str, ...]) -> None:
    assert revenue_moments("", intent) == moments


def test_gates_select_every_rule_that_can_match() -> None:
    texts = DISSATISFIED + SATISFIED + [t for t, _ in ACCESSIBILITY] + [t for t, _ in REVENUE]
    for gate in (cues._DISSATISFIED, cues._ACCESSIBILITY, cues._REVENUE):
        for text in texts:
            folded = fold(text)
            matching = {i for i, p in enumerate(gate.patterns) if p.search(folded)}
            assert matching <= set(gate.select(folded)), text
