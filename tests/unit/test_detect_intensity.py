"""Intensity cues: insults, threats to leave, anger, swearing, shouting, exclaiming."""

from __future__ import annotations

import pytest

from warmhandoff.streams.detect import intensity
from warmhandoff.streams.detect.intensity import INTENSITY_CUES, intensity_cues
from warmhandoff.streams.detect.normalize import fold

CASES = [
    ("you are the most useless assistant", ("insult",)),
    ("what a dumb machine", ("insult",)),
    ("are you stupid?", ("insult",)),
    ("oh shut up", ("insult",)),
    ("I'm taking my business elsewhere", ("leave",)),
    ("we're going to move to a competitor", ("leave",)),
    ("I will never shop with you again", ("leave",)),
    ("honestly I'm done with this company", ("leave",)),
    ("you just lost a customer", ("leave",)),
    ("I am absolutely livid", ("anger",)),
    ("worst support I have ever seen in my life", ("anger",)),
    ("this is utterly shocking", ("anger",)),
    ("this is crap", ("swearing",)),
    ("WHY IS THIS STILL BROKEN", ("shouting",)),
    ("hello?!", ("exclaiming",)),
    ("answer me!!!", ("exclaiming",)),
    # es, fr, de, pt, it
    ("eres un inútil", ("insult",)),
    ("vous êtes nuls", ("insult",)),
    ("sie sind inkompetent", ("insult",)),
    ("me voy a otra compañía", ("leave",)),
    ("vous avez perdu un client", ("leave",)),
    ("ich bin stinksauer", ("anger",)),
    ("estou muito irritada", ("anger",)),
    ("sono davvero arrabbiata", ("anger",)),
    ("putain", ("swearing",)),
    # ordinary turns
    ("I'm leaving from the airport at nine", ()),
    ("I want to go to the bank on Monday", ()),
    ("is that the worst case?", ()),
    ("never mind, I found it again", ()),
    ("my ATM PIN was blocked", ()),
    ("Great!", ()),
    ("", ()),
]


@pytest.mark.parametrize(("text", "cues"), CASES)
def test_intensity_cues(text: str, cues: tuple[str, ...]) -> None:
    assert intensity_cues(text) == cues


def test_cues_are_sorted_and_known() -> None:
    found = intensity_cues("YOU ARE USELESS, I'm taking my business elsewhere!!")
    assert found == ("exclaiming", "insult", "leave", "shouting")
    assert set(found) <= set(INTENSITY_CUES)


def test_the_gate_selects_every_rule_that_can_match() -> None:
    for text, _ in CASES:
        folded = fold(text)
        matching = {i for i, p in enumerate(intensity._GATE.patterns) if p.search(folded)}
        assert matching <= set(intensity._GATE.select(folded)), text
