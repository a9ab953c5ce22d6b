"""Language of a turn: a hand-written check set of short customer messages, and locales."""

from __future__ import annotations

import pytest

from warmhandoff.streams.detect.language import detect_language, locale_language

# Written for this project: short customer-service messages, ten per language.
CHECK_SET = {
    "en": [
        "where is my refund",
        "I want to cancel my subscription",
        "my card was declined again",
        "can you help me with my order",
        "the app keeps crashing",
        "I have been waiting for two weeks",
        "please send me the invoice",
        "how do I reset my password",
        "this is not what I asked for",
        "thanks, that solved it",
    ],
    "es": [
        "dónde está mi reembolso",
        "quiero cancelar mi suscripción",
        "mi tarjeta fue rechazada otra vez",
        "necesito ayuda con mi pedido",
        "la aplicación no funciona",
        "llevo dos semanas esperando",
        "por favor envíeme la factura",
        "cómo cambio mi contraseña",
        "esto no es lo que pedí",
        "gracias, ya está resuelto",
    ],
    "fr": [
        "où est mon remboursement",
        "je veux résilier mon abonnement",
        "ma carte a encore été refusée",
        "pouvez-vous m'aider avec ma commande",
        "l'application ne marche pas",
        "j'attends depuis deux semaines",
        "envoyez-moi la facture s'il vous plaît",
        "comment changer mon mot de passe",
        "ce n'est pas ce que j'ai demandé",
        "merci, c'est réglé",
    ],
    "de": [
        "wo ist meine Rückerstattung",
        "ich möchte mein Abo kündigen",
        "meine Karte wurde wieder abgelehnt",
        "können Sie mir bei meiner Bestellung helfen",
        "die App funktioniert nicht",
        "ich warte seit zwei Wochen",
        "bitte schicken Sie mir die Rechnung",
        "wie ändere ich mein Passwort",
        "das habe ich nicht gefragt",
        "danke, das hat geholfen",
    ],
    "pt": [
        "cadê o meu reembolso",
        "quero cancelar minha assinatura",
        "meu cartão foi recusado de novo",
        "você pode me ajudar com meu pedido",
        "o aplicativo não funciona",
        "estou esperando há duas semanas",
        "por favor me envie a fatura",
        "como eu mudo minha senha",
        "não foi isso que eu perguntei",
        "obrigado, resolveu",
    ],
    "it": [
        "dov'è il mio rimborso",
        "voglio disdire il mio abbonamento",
        "la mia carta è stata rifiutata di nuovo",
        "potete aiutarmi con il mio ordine",
        "l'app non funziona",
        "aspetto da due settimane",
        "per favore mandatemi la fattura",
        "come cambio la mia password",
        "non è quello che ho chiesto",
        "grazie, ho risolto",
    ],
    "ar": [
        "أين المبلغ المسترد",
        "أريد إلغاء اشتراكي",
        "تم رفض بطاقتي مرة أخرى",
        "هل يمكنك مساعدتي في طلبي",
        "التطبيق لا يعمل",
        "أنا أنتظر منذ أسبوعين",
        "من فضلك أرسل لي الفاتورة",
        "كيف أغير كلمة المرور",
        "هذا ليس ما طلبته",
        "شكرا، تم حل المشكلة",
    ],
    "hi": [
        "मेरा रिफंड कहाँ है",
        "मैं अपनी सदस्यता रद्द करना चाहता हूँ",
        "मेरा कार्ड फिर से अस्वीकार हो गया",
        "क्या आप मेरे ऑर्डर में मदद कर सकते हैं",
        "ऐप काम नहीं कर रहा है",
        "मैं दो हफ्ते से इंतजार कर रहा हूँ",
        "कृपया मुझे बिल भेजें",
        "मैं अपना पासवर्ड कैसे बदलूँ",
        "मैंने यह नहीं पूछा था",
        "धन्यवाद, हो गया",
    ],
}


def test_check_set_accuracy() -> None:
    results = [
        detect_language(text)[0] == lang for lang, texts in CHECK_SET.items() for text in texts
    ]
    assert sum(results) / len(results) >= 0.95


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
            _, confidence = detect_language(text)
            assert 0.0 < confidence <= 1.0


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
