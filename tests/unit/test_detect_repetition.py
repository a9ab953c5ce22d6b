"""Fingerprints of content words and repeat detection."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from warmhandoff.streams.detect.repetition import fingerprint, is_repeat, similarity


def test_fingerprint_is_sorted_unique_stemmed_content_words() -> None:
    assert fingerprint("Where is my REFUND? My refunds!") == ("refund",)
    assert fingerprint("I was charged twice, charges everywhere") == ("charg", "everywher", "twic")


def test_inflections_and_accents_agree() -> None:
    assert fingerprint("cancelled orders") == fingerprint("cancel order")
    assert fingerprint("reembolsó") == fingerprint("reembolso")


def test_rephrasing_is_a_repeat() -> None:
    earlier = [fingerprint("I want to cancel my subscription")]
    assert is_repeat(fingerprint("how do I cancel my subscription?"), earlier)
    assert is_repeat(fingerprint("I asked about my refund, where is it?"), [fingerprint("refund")])
    assert is_repeat(
        fingerprint("my parcel never arrived, order 12345"), [fingerprint("parcel never arrived")]
    )


def test_different_topics_are_not_repeats() -> None:
    earlier = [fingerprint("where is my refund"), fingerprint("my card was declined")]
    assert not is_repeat(fingerprint("what are your opening hours"), earlier)


def test_short_replies_never_repeat() -> None:
    for reply in ("yes", "ok", "no", "thanks", "ok thanks", "yes please", "hi"):
        assert fingerprint(reply) == ()
        assert not is_repeat(fingerprint(reply), [fingerprint(reply)])


def test_one_word_fingerprints_need_an_exact_match() -> None:
    assert similarity(("refund",), ("refund",)) == 1.0
    assert similarity(("refund",), ("998877", "order", "refund")) < 0.6


_fp = st.lists(st.sampled_from(["card", "refund", "order", "parcel", "charg", "late"])).map(
    lambda words: tuple(sorted(set(words)))
)


@given(_fp, _fp)
def test_similarity_is_symmetric_and_bounded(a: tuple[str, ...], b: tuple[str, ...]) -> None:
    assert similarity(a, b) == similarity(b, a)
    assert 0.0 <= similarity(a, b) <= 1.0
    if a:
        assert similarity(a, a) == 1.0


def test_a_short_follow_up_inside_a_long_earlier_turn_is_not_a_repeat() -> None:
    earlier = [fingerprint("Book the Riverside hotel for three nights and send the confirmation")]
    assert not is_repeat(fingerprint("what's the confirmation number for the hotel?"), earlier)
    assert is_repeat(fingerprint("the Riverside hotel for three nights, please book it"), earlier)
