"""Dialogue acts: turns that only decline, close, thank, greet or acknowledge."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warmhandoff.streams.detect import dialogue_acts
from warmhandoff.streams.detect.dialogue_acts import ACTS, MAX_CHARS, dialogue_act

ACT_TURNS = [
    ("nope", "decline"),
    ("No thanks, I'm good.", "decline"),
    ("not right now, thank you!", "decline"),
    ("No , I do n't need anything else .", "decline"),  # tokenised like transcripts
    ("nothing more for today, cheers", "decline"),
    ("No, that's everything. Bye!", "closing"),
    ("that will be all for now, thanks a lot", "closing"),
    ("I think that's it. Have a lovely evening.", "closing"),
    ("All sorted, thank you so much for your help :)", "closing"),
    ("I don't mind, either one is fine", "no_preference"),
    ("it does n't matter to me .", "no_preference"),
    ("oops, sorry for the confusion", "apology"),
    ("Many thanks!", "thanks"),
    ("great, thanks", "thanks"),
    ("you've been very helpful", "thanks"),
    ("ok", "acknowledgement"),
    ("Sounds good.", "acknowledgement"),
    ("got it", "acknowledgement"),
    ("hey there", "greeting"),
    ("Good morning!", "greeting"),
    # es, fr, de, pt, it
    ("No, gracias. Eso es todo.", "closing"),
    ("vale, muchas gracias", "thanks"),
    ("Non merci, bonne journée", "closing"),
    ("d'accord, merci beaucoup", "thanks"),
    ("Nein danke, das war's", "closing"),
    ("Alles klar, vielen Dank!", "thanks"),
    ("Não, obrigada", "decline"),
    ("tanto faz", "no_preference"),
    ("No grazie, a posto così", "decline"),
    ("perfetto, grazie mille", "thanks"),
]

NOT_ONLY_ACTS = [
    "no, that's not what I asked",
    "thanks for nothing",
    "no thanks, you've been useless",
    "I don't care anymore, just fix it",
    "no, but my parcel still hasn't arrived",
    "ok but where is my refund?",
    "No :(",
    "hi, I need to change my address",
    "no no no no no no no no no no no no no no no no no no no no wrong",
    "ya no me importa nada, esto no funciona",
    "",
]


@pytest.mark.parametrize(("text", "act"), ACT_TURNS)
def test_turns_made_only_of_acts_are_recognised(text: str, act: str) -> None:
    assert dialogue_act(text) == act


@pytest.mark.parametrize("text", NOT_ONLY_ACTS)
def test_turns_that_say_anything_else_are_not_acts(text: str) -> None:
    assert dialogue_act(text) is None


def test_long_turns_are_never_acts() -> None:
    text = "thanks, " * (MAX_CHARS // 8 + 1)
    assert len(text) > MAX_CHARS and dialogue_act(text) is None


def test_every_act_has_formulas_and_a_rank() -> None:
    assert {act for act, _ in dialogue_acts._FORMULAS} == set(ACTS)


def _without_gate(text: str, monkeypatch: pytest.MonkeyPatch) -> str | None:
    from warmhandoff.streams.detect.gate import words
    from warmhandoff.streams.detect.normalize import fold

    with monkeypatch.context() as patch:
        gate = dialogue_acts._word_gate()
        patch.setattr(dialogue_acts, "_word_gate", lambda: (gate[0] | words(fold(text)), gate[1]))
        return dialogue_act(text)


def test_the_word_gate_changes_nothing_on_the_case_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    for text in [t for t, _ in ACT_TURNS] + NOT_ONLY_ACTS:
        assert dialogue_act(text) == _without_gate(text, monkeypatch), text


_PIECES = [
    "no", "nope", "thank you", "thanks", "that's all", "bye", "ok", "not yet", "I don't mind",
    "do n't", "merci", "danke schön", "gracias", "grazie", "obrigado", "hello", "sure thing",
    "please", "oh", "well", "sorry", "great", "nothing else", "it's all good", "cheers",
    "refund", "wrong", "still", "x",
]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=6), st.sampled_from([" ", ", ", ". ", "! "]))
def test_the_word_gate_never_turns_away_an_act_turn(pieces: list[str], sep: str) -> None:
    text = sep.join(pieces)
    with pytest.MonkeyPatch.context() as patch:
        assert dialogue_act(text) == _without_gate(text, patch)
