"""The scenario catalogue: one or more scripts per trigger family, and ordinary conversations.

Every trigger family in DESIGN.md has at least one escalating scenario (`human_request` has
one per language: English, Spanish, French, German, Portuguese), and the benign scenarios are
what most real traffic looks like: order status, opening hours, a password reset that works,
shipping questions, thanks and goodbye. Ids, amounts and names in the texts are fake; the one
card number is the well-known test number 4111 1111 1111 1111, there to exercise redaction.
"""

from __future__ import annotations

from warmhandoff.agents.script import Profile, Scenario, ScriptedTurn
from warmhandoff.agents.script import benign as _benign
from warmhandoff.agents.script import bot_turn as _b
from warmhandoff.agents.script import customer_turn as _c
from warmhandoff.agents.script import escalating as _escalating
from warmhandoff.streams.contract.models import BotStatus, Channel

_HI = ("Hi!", "Hello.", "Hey there.")
_THANKS = ("Great, thanks!", "Perfect, thank you so much.", "That's helpful, thanks. Bye!")
_GLAD = ("You're welcome! Have a great day.", "Happy to help. Anything else?")
_VIP = Profile(tiers=("gold", "platinum"), verified=1.0, lifetime_value=(6000.0, 25000.0))
_CHURN = Profile(churn_risk=(0.8, 0.95), lifetime_value=(300.0, 2000.0))


def _human_request(lang: str, locale: str, ask: ScriptedTurn, answer: str, *req: str) -> Scenario:
    # Outside English the default policy's language routing sends the customer to the
    # multilingual desk; the bot's locale matches, so there is no language mismatch.
    queue = "general" if lang == "en" else "multilingual"
    return _escalating(
        f"human_request_{lang}",
        "human_request",
        ask,
        _b(answer),
        _c(*req),
        queue=queue,
        locale=locale,
    )


ESCALATING: tuple[Scenario, ...] = (
    _human_request(
        "en",
        "en-US",
        _c(
            "Where is my order {order}? It was due yesterday.",
            intent="order_status",
            confidence=0.9,
        ),
        "Your order {order} is in transit and should arrive within two days.",
        "Can I speak to a real person please?",
        "I'd like to talk to a human agent about this.",
        "Please connect me to a live agent.",
    ),
    _human_request(
        "es",
        "es-ES",
        _c(
            "¿Dónde está mi pedido {order}? Tenía que llegar ayer.",
            intent="order_status",
            confidence=0.88,
        ),
        "Su pedido {order} está en camino y llegará en dos días.",
        "Quiero hablar con una persona, por favor.",
        "¿Me puede pasar con un agente humano?",
    ),
    _human_request(
        "fr",
        "fr-FR",
        _c(
            "Où en est ma commande {order} ? Elle devait arriver hier.",
            intent="order_status",
            confidence=0.87,
        ),
        "Votre commande {order} est en cours de livraison et arrivera sous deux jours.",
        "Je voudrais parler à un conseiller, s'il vous plaît.",
        "Je veux parler à un humain.",
    ),
    _human_request(
        "de",
        "de-DE",
        _c(
            "Wo ist meine Bestellung {order}? Sie sollte gestern ankommen.",
            intent="order_status",
            confidence=0.89,
        ),
        "Ihre Bestellung {order} ist unterwegs und kommt in zwei Tagen an.",
        "Ich möchte bitte mit einem Mitarbeiter sprechen.",
        "Kann ich mit einem Menschen sprechen?",
    ),
    _human_request(
        "pt",
        "pt-BR",
        _c(
            "Onde está o meu pedido {order}? Era para chegar ontem.",
            intent="order_status",
            confidence=0.88,
        ),
        "Seu pedido {order} está a caminho e chega em dois dias.",
        "Quero falar com um atendente humano, por favor.",
        "Posso falar com uma pessoa de verdade?",
    ),
    _escalating(
        "negative_sentiment",
        "negative_sentiment",
        _c(
            "My package {order} showed up soaking wet and the contents are ruined.",
            intent="damaged_item",
            confidence=0.91,
        ),
        _b("I'm sorry to hear that. I've noted the damage on order {order}."),
        _c(
            "This is the worst experience I've ever had. Absolutely awful, I'm furious.",
            "Honestly this is terrible, disgusting service. I am so angry right now.",
            intent="damaged_item",
            confidence=0.86,
        ),
        queue="general",
    ),
    _escalating(
        "frustration",
        "frustration",
        _c(
            "My discount code SAVE20 isn't applying at checkout.",
            intent="promo_code",
            confidence=0.92,
        ),
        _b("Please make sure the code is typed in capital letters.", action="explain_promo"),
        _c(
            "I did type it in capitals and it's still not working.",
            "That's what I did, it still doesn't work.",
            intent="promo_code",
            confidence=0.9,
        ),
        _b("Could you try removing the items from your basket and adding them again?"),
        _c(
            "The discount code SAVE20 is not applying at checkout. I already told you that.",
            "Like I said, my SAVE20 code won't apply at checkout. That's not what I asked.",
            intent="promo_code",
            confidence=0.9,
        ),
        queue="general",
    ),
    _escalating(
        "low_confidence",
        "low_confidence",
        _c(
            "so that thing from the letter last week, can you sort it",
            intent="general_enquiry",
            confidence=0.31,
        ),
        _b("I want to make sure I get this right. Could you tell me a little more?"),
        _c(
            "the letter thing, the one that came last week about my stuff",
            intent="general_enquiry",
            confidence=0.27,
        ),
        queue="general",
    ),
    _escalating(
        "repeated_fallback",
        "repeated_fallback",
        _c("do you do the points thing on the watch app", fallback=True),
        _b("Sorry, I didn't understand that. Could you rephrase?"),
        _c("the watch app, does it do the points", fallback=True),
        _b("Sorry, I still didn't catch that. Could you say it another way?"),
        _c("points. watch. app.", "watch app points??", fallback=True),
        _b("Sorry, I'm not sure I understood."),
        queue="general",
    ),
    _escalating(
        "payments_charged_twice",
        "risk.payments",
        _c(
            "I was charged twice for order {order}: {amount} came out of my account two times.",
            "You've double charged me for order {order}, two payments of {amount}.",
            intent="billing_issue",
            confidence=0.9,
        ),
        _b("I can see order {order}. Let me check the payments.", action="lookup_payments"),
        queue="payments",
    ),
    _escalating(
        "card_read_aloud",
        "risk.payments",
        _c(
            "Hi, I was charged twice for my order {order} and I want the second payment back.",
            intent="billing_issue",
            confidence=0.86,
        ),
        _b("I'm sorry about that. Which card was it charged to?"),
        _c("It was the card 4111 1111 1111 1111, expiry oh eight twenty seven."),
        _c("that's four one one one one one one one one one one one one one one one"),
        queue="payments",
        channels=(Channel.voice,),
    ),
    _escalating(
        "cancellation",
        "risk.cancellation",
        _c(
            "I want to cancel my subscription, please.",
            "Please cancel my membership, account {account}.",
            intent="cancel_subscription",
            confidence=0.93,
        ),
        _b("I can help with that. May I ask why you'd like to cancel?"),
        _c("I just don't use it enough any more. Please cancel it."),
        queue="retention",
    ),
    _escalating(
        "identity_locked_out",
        "risk.identity",
        _c(
            "I'm locked out of my account {account}, it says too many failed attempts.",
            "I can't log in to my account {account}, it's locked after the reset.",
            intent="account_access",
            confidence=0.9,
        ),
        _b(
            "I'm sorry, I can't unlock accounts from here.",
            action="unlock_account",
            statuses=(BotStatus.not_permitted,),
        ),
        queue="identity",
    ),
    _escalating(
        "fraud_unrecognised",
        "risk.fraud",
        _c(
            "There's a transaction of {amount} on my card that I don't recognise.",
            "I see a charge of {amount} I never made. I think someone is using my card.",
            intent="unrecognised_transaction",
            confidence=0.91,
        ),
        _b("I understand. Let me look at your recent transactions.", action="lookup_transactions"),
        queue="fraud",
    ),
    _escalating(
        "compliance_gdpr",
        "risk.compliance",
        _c(
            "Under GDPR I want you to delete all the personal data you hold about me.",
            "My lawyer says you must send me a copy of all my data under GDPR.",
            intent="data_request",
            confidence=0.89,
        ),
        _b("I understand. Requests about personal data are handled by our privacy team."),
        queue="compliance",
    ),
    _escalating(
        "vip_damaged",
        "vip",
        _c(
            "My order {order} arrived with a cracked screen.",
            "The laptop from order {order} arrived damaged, the hinge is broken.",
            intent="damaged_item",
            confidence=0.92,
        ),
        _b("I'm sorry to hear that. Let me arrange a replacement for order {order}."),
        _b(
            "I'm sorry, I can't send a replacement for this order myself.",
            action="send_replacement",
            statuses=(BotStatus.not_permitted, BotStatus.failed),
        ),
        _c("I need the replacement before Friday, please."),
        # vip only raises priority in the default policy: the upset customer or the failed
        # action escalates, and the VIP desk takes it.
        queue="vip",
        profile=_VIP,
    ),
    _escalating(
        "churn_prices",
        "churn_risk",
        _c(
            "Your prices went up again, so I want to cancel my plan and switch to a competitor.",
            "Honestly a competitor offered me a better deal. I am going to cancel my subscription.",
            intent="pricing",
            confidence=0.88,
        ),
        _b("I understand. Our current plans are listed on the pricing page."),
        # churn_risk only raises priority in the default policy: the cancellation escalates.
        queue="retention",
        also=("risk.cancellation",),
        profile=_CHURN,
    ),
    _escalating(
        "language_mismatch_es",
        "language_mismatch",
        _c(
            "Hola, mi pedido {order} no ha llegado todavía y ya pasaron dos semanas.",
            "Buenas tardes, el paquete de mi pedido {order} todavía no llegó a mi casa.",
            intent="order_status",
            confidence=0.55,
        ),
        _b("Sorry, I can only help in English at the moment."),
        _c("No entiendo bien el inglés. ¿Me puede ayudar en español con mi pedido?"),
        queue="multilingual",
    ),
    _escalating(
        "accessibility",
        "accessibility",
        _c(
            "I'm deaf, so text only please. I need help with my order {order}.",
            "I use a screen reader and your checkout page doesn't read the buttons out.",
            intent="order_help",
            confidence=0.8,
        ),
        _b("Of course. How can I help?"),
        queue="assisted",
    ),
    _escalating(
        "system_boundary",
        "system_boundary",
        _c(
            "Please change the delivery address for order {order} to 14 Elm Street, {city}.",
            intent="change_address",
            confidence=0.93,
        ),
        _b(
            "Sorry, I couldn't update the address on order {order} right now.",
            action="update_address",
            statuses=(BotStatus.failed, BotStatus.not_permitted, BotStatus.unavailable),
        ),
        queue="tech_support",
    ),
    _escalating(
        "revenue_seats",
        "revenue_opportunity",
        _c(
            "We'd like to buy {seats} seats for our team. Can we get volume pricing?",
            "I want to upgrade our company to the enterprise plan, about {seats} users.",
            # A volume deal is the sales desk's: the default policy's purchase flow (orders
            # the bot takes itself) does not list this intent.
            intent="sales_enquiry",
            confidence=0.9,
        ),
        _b("That's great to hear! Let me tell you about our team plans."),
        queue="sales",
    ),
)

BENIGN_SCENARIOS: tuple[Scenario, ...] = (
    _benign(
        "order_status",
        _c(
            "Hi, where is my order {order}?",
            "Can you tell me when order {order} arrives?",
            intent="order_status",
            confidence=0.95,
        ),
        _b("Order {order} shipped yesterday and arrives on Thursday.", action="lookup_order"),
        _c(*_THANKS, intent="thanks", confidence=0.97),
        _b(*_GLAD),
    ),
    _benign(
        "opening_hours",
        _c(
            "What time does the {city} store open on Saturday?",
            "Are you open on Sunday in {city}?",
            intent="opening_hours",
            confidence=0.96,
        ),
        _b("The {city} store is open 9am to 6pm on weekends.", action="lookup_store"),
        _c(*_THANKS, intent="thanks", confidence=0.97),
    ),
    _benign(
        "password_reset_ok",
        _c(
            "How do I reset my password?",
            "I forgot my password, how do I change it?",
            intent="password_reset",
            confidence=0.94,
        ),
        _b(
            "I've sent a reset link to the email address we have on file.", action="send_reset_link"
        ),
        _c(
            "Got it, that worked. Thanks!",
            "Done, I'm logged in now. Thank you!",
            intent="thanks",
            confidence=0.95,
        ),
        _b(*_GLAD),
    ),
    _benign(
        "shipping_info",
        _c(
            "How long does standard shipping take to Canada?",
            "Do you ship to Ireland, and how long does it take?",
            intent="shipping_info",
            confidence=0.93,
        ),
        _b("Standard shipping takes 5 to 7 working days."),
        _c("Okay, good to know.", intent="acknowledge", confidence=0.9),
    ),
    _benign(
        "thanks_bye",
        _c(
            "Thanks for the help earlier, that's all I needed. Bye!",
            "All sorted now, thank you. Have a nice day!",
            intent="goodbye",
            confidence=0.97,
        ),
        _b("You're welcome, goodbye!"),
    ),
    _benign(
        "return_policy",
        _c(*_HI, intent="greet", confidence=0.98),
        _b("Hello! How can I help you today?"),
        _c(
            "How many days do I have to return shoes?",
            "What is your return window for shoes?",
            intent="return_policy",
            confidence=0.94,
        ),
        _b("You can return unworn shoes within 30 days for free."),
        _c(*_THANKS, intent="thanks", confidence=0.97),
    ),
    _benign(
        "product_question",
        _c(
            "Does the X200 blender come with a travel cup?",
            "Is the X200 blender dishwasher safe?",
            intent="product_info",
            confidence=0.91,
        ),
        _b(
            "Yes, the X200 comes with one travel cup and its parts are dishwasher safe.",
            action="lookup_product",
        ),
        _c("Nice, I'll order one.", intent="acknowledge", confidence=0.88),
    ),
    _benign(
        "delivery_slot",
        _c(
            "Can I choose a delivery time for order {order}?",
            intent="delivery_slot",
            confidence=0.92,
        ),
        _b("Yes, I can book a slot. Morning or afternoon?"),
        _c("Afternoon please.", intent="choose_slot", confidence=0.9),
        _b("Done: order {order} will arrive between 1pm and 5pm.", action="book_slot"),
        _c(*_THANKS, intent="thanks", confidence=0.97),
    ),
    _benign(
        "store_stock",
        _c(
            "Is the blue rain jacket in size M available in the {city} store?",
            intent="stock_check",
            confidence=0.93,
        ),
        _b("Yes, the {city} store has 3 in size M.", action="check_stock"),
        _c("Lovely, I'll pop in today.", intent="acknowledge", confidence=0.9),
    ),
    _benign(
        "loyalty_points",
        _c("How many loyalty points do I have?", intent="points_balance", confidence=0.95),
        _b("You have 1,240 points, enough for a 10% voucher.", action="lookup_points"),
        _c("Good to know, thanks!", intent="thanks", confidence=0.96),
    ),
    _benign(
        "update_address_ok",
        _c(
            "Please change the delivery address for order {order} to 9 Park Road, {city}.",
            intent="change_address",
            confidence=0.94,
        ),
        _b("Done, order {order} will now go to 9 Park Road.", action="update_address"),
        _c(*_THANKS, intent="thanks", confidence=0.97),
    ),
    _benign(
        "email_receipt",
        _c(
            "Could you email me the receipt for order {order}?",
            intent="send_receipt",
            confidence=0.93,
        ),
        _b(
            "I've emailed the receipt for order {order} to you.",
            action="send_receipt",
        ),
        _c("Got it, thanks.", intent="thanks", confidence=0.96),
    ),
)

SCENARIOS: tuple[Scenario, ...] = ESCALATING + BENIGN_SCENARIOS
"""Every scenario: the escalating ones first, then the benign ones."""

TRIGGER_FAMILIES: frozenset[str] = frozenset(
    {
        "human_request", "negative_sentiment", "frustration", "low_confidence",
        "repeated_fallback", "risk.payments", "risk.cancellation", "risk.identity", "risk.fraud",
        "risk.compliance", "vip", "churn_risk", "language_mismatch", "accessibility",
        "system_boundary", "revenue_opportunity",
    }
)  # fmt: skip
"""The trigger codes from DESIGN.md that scenarios cover (`learned` comes later)."""
