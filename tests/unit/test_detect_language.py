"""Language of a turn: a hand-written check set of short customer messages, and locales."""

from __future__ import annotations

import pytest

from warmhandoff.streams.detect import language
from warmhandoff.streams.detect.language import (
    LanguageGuess,
    detect_language,
    identify_language,
    locale_language,
)
from warmhandoff.streams.detect.normalize import fold
from warmhandoff.streams.lab.eval.language_checkset import (
    CHECK_SET,
    SHORT_CHECK_SET,
    expected_language,
    macro_accuracy,
)


def accuracy(texts: tuple[str, ...], key: str) -> float:
    return sum(detect_language(t)[0] == expected_language(key) for t in texts) / len(texts)


def test_check_set_accuracy() -> None:
    per_language = {key: accuracy(texts, key) for key, texts in CHECK_SET.items()}
    assert macro_accuracy(per_language) >= 0.95
    # Languages in their usual script are all recognised; romanised ones mostly.
    assert {k: v for k, v in per_language.items() if not k.endswith("-Latn")} == dict.fromkeys(
        ("en", "es", "fr", "de", "pt", "it", "ar", "hi"), 1.0
    )
    assert per_language["hi-Latn"] >= 0.9
    assert per_language["ar-Latn"] >= 0.75


def test_check_set_keys_name_the_code_to_answer() -> None:
    assert [expected_language(k) for k in ("en", "hi-Latn", "ar-Latn")] == ["en", "hi", "ar"]
    assert macro_accuracy({"en": 1.0, "hi-Latn": 0.5}) == 0.75
    assert macro_accuracy({}) == 0.0


def test_short_check_set_accuracy() -> None:
    # One to five words; py3langid alone got 0.925 of these when they were written.
    results = [
        detect_language(text)[0] == expected_language(lang)
        for lang, texts in SHORT_CHECK_SET.items()
        for text in texts
    ]
    assert sum(results) / len(results) >= 0.94


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("where is my new card, it has been two weeks", "en"),
        ("no he recibido la tarjeta nueva y necesito ayuda", "es"),
        ("je n'ai pas reçu ma carte et j'ai besoin d'aide", "fr"),
        ("ich habe meine Karte noch nicht bekommen", "de"),
        ("eu ainda não recebi o meu cartão", "pt"),
        ("non ho ancora ricevuto la mia carta", "it"),
    ],
)
def test_function_words_decide_without_the_model(text: str, lang: str) -> None:
    voted = language._vote(fold(text))
    assert voted is not None
    assert voted[0] == lang
    assert 0.9 <= voted[1] < 1.0
    assert identify_language(text) == voted


@pytest.mark.parametrize("text", ["", "ok", "?", "12345", "👍", "k thx"])
def test_too_short_is_undetermined(text: str) -> None:
    assert detect_language(text) == ("und", 0.0)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("gracias", "es"),
        ("merci beaucoup", "fr"),
        ("danke schön", "de"),
        ("obrigado", "pt"),
        ("grazie mille", "it"),
        ("yes please", "en"),
    ],
)
def test_one_or_two_unambiguous_words_decide(text: str, lang: str) -> None:
    assert detect_language(text)[0] == lang


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Привет, где мой заказ", "ru"),
        ("Привіт, де моє замовлення", "uk"),
        ("我的订单在哪里", "zh"),
        ("注文はどこですか", "ja"),
        ("주문이 어디 있나요", "ko"),
        ("Πού είναι η παραγγελία μου", "el"),
    ],
)
def test_scripts_decide_without_the_model(text: str, lang: str) -> None:
    assert detect_language(text)[0] == lang


def test_confidence_is_a_probability() -> None:
    for texts in CHECK_SET.values():
        for text in texts:
            code, confidence = detect_language(text)
            assert 0.0 < confidence <= 1.0 or (code, confidence) == ("und", 0.0)


@pytest.mark.parametrize(
    ("locale", "lang"),
    [
        ("en-US", "en"),
        ("pt_BR", "pt"),
        ("fr", "fr"),
        ("zh-Hant-TW", "zh"),
        ("de_DE.UTF-8", "de"),
        ("iw", "he"),
        (None, None),
        ("", None),
        ("123", None),
    ],
)
def test_locale_language(locale: str | None, lang: str | None) -> None:
    assert locale_language(locale) == lang


# --- Hindi and Arabic typed in Latin letters -------------------------------------------------

# Written for these tests; check-set messages are not repeated here.
HINDI_IN_LATIN_LETTERS = [
    "mera card block ho gaya hai",
    "mujhe refund chahiye",
    "aap kab tak call karoge",
    "kal se net banking nahi chal rahi",
    "mere account se do baar paisa kat gaya",
    "ye transaction maine nahi kiya",
    "otp nahin aa raha, kya karu",
    "koi agent se baat kara do please",
    "aapka app bahut slow hai yaar",
    "emi kitni banegi batao",
    "nahi chahiye",
    "Mujhe Apna Balance Check Karna Hai",
]
ARABIC_IN_LATIN_LETTERS = [
    "ana 3ayez a7ki ma3 7ad",
    "law sama7t",
    "enta mesh faham ana 3ayez eh",
    "el visa bta3ti et2afalet",
    "momken a3raf el balance",
    "shukran ya habibi",
    "ma3lesh bas el transfer lessa ma weselsh",
]
# English turns full of words that are also romanised Hindi or Arabic short words ("to", "me",
# "ho", "ka", "se", "ana", "el", "law"), names and places, and digits beside letters.
ENGLISH_LOOKALIKES = [
    "I need to talk to someone about my card",
    "he is the one who called me",
    "hi, can you help me",
    "do you have a branch in Maine",
    "my iphone7 screen is broken",
    "is the 3rd payment due on the 5th",
    "set an alarm for 7am tomorrow",
    "Karen from accounts told me to call",
    "I read the law on consumer credit",
    "Ana sent me 50 dollars, did it arrive",
    "ho hum, is the app down again",
    "what is the mesh wifi price",
]


@pytest.mark.parametrize("text", HINDI_IN_LATIN_LETTERS)
def test_hindi_in_latin_letters_is_hindi(text: str) -> None:
    code, confidence = detect_language(text)
    assert (code, confidence >= 0.8) == ("hi", True)


@pytest.mark.parametrize("text", ARABIC_IN_LATIN_LETTERS)
def test_arabic_in_latin_letters_is_arabic(text: str) -> None:
    assert detect_language(text)[0] == "ar"


@pytest.mark.parametrize("text", ENGLISH_LOOKALIKES)
def test_english_with_lookalike_words_stays_english(text: str) -> None:
    assert detect_language(text)[0] == "en"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("ho chiamato ma non hai risposto", "it"),
        ("meine Karte ist gesperrt", "de"),
        ("ya no se que hacer con la tarjeta", "es"),
        ("você acha que o pedido chega amanhã", "pt"),
        ("mijn naam staat verkeerd op de kaart", "nl"),
    ],
)
def test_other_languages_sharing_short_words_keep_their_language(text: str, lang: str) -> None:
    assert detect_language(text)[0] == lang


def test_indonesian_is_never_read_as_hindi() -> None:
    # the model's usual answer for romanised Hindi, and the language closest in look
    for text in ("saya mau bicara dengan petugas", "kenapa transfer saya masih tertunda"):
        assert identify_language(text).code != "hi"
        assert identify_language(text).hint != "hi"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("bhai refund", "hi"),  # one Hindi word: too little to tell
        ("namaste", "hi"),
        ("shukran", "ar"),
        ("my card is blocked, can you help me please, mera salary account", "en"),
    ],
)
def test_a_romanised_word_among_too_few_others_is_unknown_with_a_hint(text: str, hint: str) -> None:
    assert identify_language(text) == LanguageGuess("und", 0.0, hint)
    assert detect_language(text) == ("und", 0.0)


def test_an_unsure_model_answer_is_unknown_with_the_model_guess_as_hint() -> None:
    # Made-up words: the model spreads its probability and its best language is only a hint.
    guess = identify_language("zorp vlim quaxby trendle")
    assert (guess.code, guess.confidence) == ("und", 0.0)
    assert guess.hint in language._MODEL_LANGUAGES


@pytest.mark.parametrize(
    "text",
    [
        *HINDI_IN_LATIN_LETTERS,
        *ARABIC_IN_LATIN_LETTERS,
        *ENGLISH_LOOKALIKES,
        *(t for texts in CHECK_SET.values() for t in texts),
        "bhai refund",
        "ok",
        "",
    ],
)
def test_a_hint_comes_only_with_an_unknown_language(text: str) -> None:
    guess = identify_language(text)
    assert detect_language(text) == (guess.code, guess.confidence)
    if guess.code == "und":
        assert guess.confidence == 0.0
    else:
        assert guess.hint is None
        assert 0.0 < guess.confidence <= 1.0
