"""Explicit request for a human: "let me talk to a person", "pásame con un agente", ...

A request is a structure, not a keyword: a verb of speaking or transferring aimed at a
person or a department ("speak to the reception", "transfer me to billing"), a demand for a
person ("I want a real person"), a callback ("call me back"), or a bare routing message
("agent please", "billing department"). Nouns alone never fire, so information requests that
merely mention staff ("what are your agent fees", "who is the manager of the hotel") stay
negative. A request is dropped when a negation governs it ("I don't want to talk to a
human", "no need to transfer me") and questions about the bot ("are you a bot?", "am I
talking to a human?") are removed before matching.

Patterns cover English, Spanish, French, German, Portuguese and Italian, and run on folded
text (lowercase, no accents; see `normalize.fold`).

The patterns catch plainly worded requests; the learned text classifier's `human_request`
head (`text_classifier`, with a high threshold) catches the rest: questions about how to
reach someone, misspellings, chat spelling and other languages' word order. A turn is a
request when either finds one.
"""

from __future__ import annotations

import re

from warmhandoff.streams.detect.gate import Gate, words
from warmhandoff.streams.detect.normalize import fold
from warmhandoff.streams.detect.text_classifier import TextClassifier, shipped_heads

# --- vocabulary (folded) ----------------------------------------------------------------

# People and desks a customer can ask for, in every supported language.
_PERSON = (
    r"(?:human(?:s|\s+beings?)?|(?:real|live|actual|physical|normal)\s+(?:\w+\s+)?"
    r"(?:person|people|human|agent|being|one)|person|people|agents?|reps?|representatives?"
    r"|operators?|supervisors?|manager|management|staff(?:\s+members?)?|employees?"
    r"|advis[oe]rs?|consultants?|specialists?|attendants?|receptionists?|reception"
    r"|front\s+desk|concierge|(?:customer|client)\s+(?:service|support|care|services)"
    r"|support\s+(?:team|staff|agent|person)|help\s*desk|service\s+desk|team\s+members?"
    r"|some\s*one|somebody|anyone|anybody|boss|person\s+in\s+charge|clerk|technician"
    r"|colleague|account\s+manager|case\s+manager|sales(?:\s+team|person|\s+rep)?"
    # es / pt / it / fr / de
    r"|humanos?|ser\s+humano|persona(?:\s+real)?|agente|asesora?|operadora?|operatore"
    r"|operatrice|representante|encargad[oa]|gerente|supervisora?|responsabile?|ejecutivo"
    r"|emplead[oa]|alguien|personal|atencion\s+al\s+cliente|servicio\s+al\s+cliente"
    r"|tecnico|jefe|director[ae]?|atendente|pessoa(?:\s+real)?|consultora?|alguem"
    r"|funcionari[oa]|especialista|umano|essere\s+umano|vera\s+persona|consulente"
    r"|assistente|addett[oa]|impiegat[oa]|qualcuno|supervisore|servizio\s+clienti"
    r"|humaine?|etre\s+humain|vraie?\s+personne|personne|conseill[eè]re?|conseiller"
    r"|operat(?:eur|rice)|directeur|directrice|gerant|superviseur|technicien|interlocuteur"
    r"|quelqu'un|service\s+client(?:s|ele)?"
    r"|menschen?|mitarbeiter(?:in)?|berater(?:in)?|agenten|vorgesetzten|kundendienst"
    r"|kundenservice|kundenbetreuer(?:in)?|teamleiter|sachbearbeiter(?:in)?"
    r"|ansprechpartner(?:in)?|zustandigen|verantwortlichen|chef|techniker|jemand(?:em|en)?)"
)
# Things that are not a human: "talk to the bot" is not a handoff.
_NOT_HUMAN = (
    r"(?:bot|robot|chatbot|machine|computer|ai|assistant|virtual|automated|app|website|site|voice"
    r"|accent|tone|volume"
    r"|system|menu|you|yourself|it|myself|me|him|her|them|hand|wall|point|dog|cat|kids?"
    r"|children|doctor|lawyer|bank|mom|mum|dad|wife|husband|friend|family|parents)\b"
)
_DET_EN = (
    r"(?:a|an|the|your|some|any|another|other|one\s+of\s+(?:your|the)|some\s+of\s+(?:your|the))"
)
_ADV_EN = r"(?:\s+(?:directly|now|right\s+now|immediately|quickly|please|again|just|actually))*"

_REQUEST_RULES: tuple[tuple[str, str], ...] = (
    # en: speak/talk/chat to a person, or to any desk named with "the"/"your"
    (
        "speak talk chat converse communicate speaking talking chatting conversing communicating",
        rf"\b(?:speak|talk|chat|converse|communicate)(?:ing)?{_ADV_EN}\s+(?:to|with)\s+"
        rf"(?:{_DET_EN}\s+)?(?:(?:real|live|actual|human|other|different|more|senior|\w+)\s+)?"
        rf"{_PERSON}\b",
    ),
    (
        "speak talk chat converse speaking talking chatting conversing",
        rf"\b(?:speak|talk|chat|converse)(?:ing)?{_ADV_EN}\s+(?:to|with)\s+"
        rf"(?:the|your|one\s+of\s+your|some\s+of\s+your|someone\s+(?:from|at|in))\s+"
        rf"(?!{_NOT_HUMAN})[a-z]+",
    ),
    # en: transfer / connect / put me through
    # ("transfer me to billing" names any desk; "connect me with an uber" must name a person)
    (
        "transfer put forward route redirect",
        r"\b(?:transfer|put|forward|route|redirect)\s+"
        r"(?:me|us|my\s+call|this\s+call|the\s+call|this\s+chat|me\s+back)"
        r"(?:\s+(?:over|through|directly|now|back|please|on))*"
        rf"\s*(?:$|[.!?,;]|(?:to|with)\s+(?!my\b|your\s+(?:bot|app)|{_NOT_HUMAN})[a-z])",
    ),
    (
        "connect patch pass hand",
        r"\b(?:connect|patch|pass|hand)\s+(?:me|us|my\s+call|this\s+call)(?:\s+(?:over|through"
        rf"|directly|now|please))*\s+(?:to|with)\s+(?:(?:the|your)\s+(?!{_NOT_HUMAN})[a-z]"
        rf"|(?:{_DET_EN}\s+)?(?:\w+\s+)?{_PERSON}\b)",
    ),
    # en: get me a person / a person on the line
    (
        "get give bring fetch",
        rf"\b(?:get|give|bring|fetch)\s+(?:me|us)\s+(?:{_DET_EN}\s+)?(?:\w+\s+)?{_PERSON}"
        r"(?!\s+to\s+(?!talk|speak|chat))\b",
    ),
    (
        "line phone",
        rf"\b(?:get|put|have)\s+(?:{_DET_EN}\s+)?(?:\w+\s+)?{_PERSON}\s+on\s+the\s+(?:line|phone)\b",
    ),
    # en: I want a real person (followed by the end of the request, not "an agent number")
    (
        "want need demand request require wanna like prefer get have",
        r"\b(?:(?:i|we)\s*(?:'d|would|really)?\s*(?:want|need|demand|request|require|wanna|like"
        r"|prefer)|(?:can|could|may)\s+(?:i|we)\s+(?:get|have|please\s+get|please\s+have))"
        rf"\s+(?:to\s+(?:have|get)\s+)?(?:{_DET_EN}\s+)?(?:\w+\s+)?{_PERSON}"
        r"(?=\s*(?:$|[.,!?;:(]|please|pls|now|asap|right|immediately|on\s+the|to\s+(?:talk|speak"
        r"|chat)|not|instead|here|thank|thx))",
    ),
    # en: help from a real person
    (
        "help assistance support",
        r"\b(?:help|assistance|support)\s+from\s+(?:an?\s+|some\s+|your\s+)?(?:real\s+|live\s+"
        r"|actual\s+)?(?:person|human|agent|representative|someone|somebody|people|staff)\b",
    ),
    # en: someone (there) I can talk to / is there a person to speak with
    (
        "talk speak chat",
        r"\b(?:some\s*one|somebody|anyone|anybody|a\s+(?:real\s+|live\s+)?(?:person|human|agent))"
        r"(?:\s+\w+){0,3}?\s+(?:to|i\s+can|i\s+could|we\s+can|that\s+i\s+can|who\s+i\s+can)"
        r"\s+(?:talk|speak|chat)\b",
    ),
    # en: callbacks
    (
        "call ring phone",
        r"\b(?:call|ring|phone)\s+me\s+back\b"
        r"|(?:^|\b(?:please|pls|can|could|would|will|have|should|must)\s+(?:you\s+|someone\s+"
        r"|somebody\s+|anyone\s+|an?\s+\w+\s+)?|\b(?:want|need|like|get|ask)\s+(?:someone"
        r"|somebody|an?\s+\w+)\s+to\s+)\s*(?:call|ring|phone)\s+me\b(?=\s*(?:$|[.,!?;]"
        r"|later|tomorrow|today|now|asap|please|at|on|when|as\s+soon|about|regarding|right"
        r"|urgently|instead))",
    ),
    (
        "callback call phone",
        r"\b(?:request|schedule|arrange|book|want|need|like|get|have)\s+(?:a\s+)?(?:call\s*back"
        r"|phone\s+call|call\s+from)\b",
    ),
    (
        "call ring",
        r"\b(?:give\s+me\s+a\s+(?:call|ring))\b",
    ),
    # en: escalation
    (
        "escalate escalating",
        r"\bescalat(?:e|ing)\s+(?:this|it|my|the\s+(?:case|issue|matter|complaint|ticket)|me|to)\b",
    ),
    # es
    (
        "hablar charlar conversar comunicar comunicarme platicar",
        r"\b(?:hablar|charlar|conversar|comunicar(?:me)?|platicar)\s+(?:directamente\s+)?con\s+"
        rf"(?:(?:un|una|el|la|los|las|su|sus|algun|alguna|mi|otro|otra)\s+)?(?:\w+\s+)?{_PERSON}\b",
    ),
    (
        "pasame pasanos paseme pasenos pasenme pasennos transfiereme transfierenos transfierame"
        " transfieranos transfieranme transfierannos comuniqueme comuniquenos comunicame"
        " comunicanos conecteme conectenos conectame conectanos pongame ponganos ponme ponnos",
        r"\b(?:pasa|pase|pasen|transfiere|transfiera|transfieran|comunique|comunica|conecte|conecta"
        r"|ponga|pon)(?:me|nos)\s+(?:con|a|al)\b",
    ),
    (
        "pasa pase pasan pasas transfiere transfiera transfieren comunica comunique conecta"
        " conecte pone pones ponen pasar transferir comunicar",
        r"\b(?:me|nos)\s+(?:pasa|pase|pasan|pasas|transfiere|transfiera|transfieren|comunica"
        r"|comunique|conecta|conecte|pone|pones|ponen|puede[ns]?\s+pasar|puede[ns]?\s+transferir"
        r"|puede[ns]?\s+comunicar)\s+(?:con|al)\b",
    ),
    (
        "llamame llameme llamenme llamen llame llamar devolverme",
        r"\b(?:llamame|llameme|llamenme|que\s+me\s+llamen?|me\s+pueden?\s+llamar"
        r"|devolverme\s+la\s+llamada)\b",
    ),
    # fr
    (
        "parler discuter entretenir",
        r"\b(?:parler|discuter|m'entretenir)\s+(?:directement\s+)?(?:a|au|aux|avec)\s+"
        rf"(?:(?:un|une|le|la|l'|votre|vos|des|du)\s*)?(?:\w+\s+)?{_PERSON}",
    ),
    (
        "passez passe transferez transfere connectez mettez",
        r"\b(?:passez|passe|transferez|transfere|connectez)[- ]moi\b"
        r"|\bmettez[- ]moi\s+en\s+(?:relation|contact)\b",
    ),
    (
        "passer transferer mettre connecter relation mis mise",
        r"\b(?:me\s+(?:passer|transferer|mettre\s+en\s+relation|connecter)|mise?\s+en\s+relation)"
        r"\s+(?:avec|a|au)\b",
    ),
    (
        "rappelez appelez rappeler",
        r"\b(?:rappelez[- ]moi|appelez[- ]moi|me\s+rappeler)(?=\s*(?:$|[.,!?]|svp|s'il|au\s"
        r"|demain|plus\s+tard|des\s+que|rapidement|vite|quand))",
    ),
    # de (verb-final: "ich möchte mit einem Mitarbeiter sprechen")
    (
        "sprechen reden verbunden verbinden telefonieren chatten",
        rf"\bmit\s+(?:(?:einem|einer|jemandem|dem|der|ihrem|ihrer|echten|einem\s+echten"
        rf"|einer\s+echten|einem\s+richtigen)\s+)?{_PERSON}\b(?:\s+\w+){{0,5}}?\s+(?:sprechen"
        r"|reden|verbunden|verbinden|telefonieren|chatten)\b",
    ),
    (
        "sprechen reden verbinden telefonieren",
        r"\b(?:sprechen|reden|verbinden|telefonieren)\s+(?:sie\s+mich\s+)?mit\s+"
        rf"(?:(?:einem|einer|dem|der|ihrem|ihrer|echten)\s+)?{_PERSON}\b",
    ),
    (
        "verbinden verbinde stellen leiten",
        r"\b(?:verbinden\s+sie\s+mich|verbinde\s+mich|stellen\s+sie\s+mich\s+(?:durch|weiter)"
        r"|leiten\s+sie\s+mich\s+weiter)\b",
    ),
    (
        "rufen ruf ruckruf",
        r"\b(?:rufen\s+sie\s+mich\s+(?:zuruck|an)|ruf\s+mich\s+(?:zuruck|an)|ruckruf)\b",
    ),
    # pt
    (
        "falar conversar comunicar",
        r"\b(?:falar|conversar|comunicar)\s+(?:diretamente\s+)?com\s+"
        rf"(?:(?:um|uma|o|a|os|as|algum|alguma|seu|sua|meu|minha|outro|outra)\s+)?(?:\w+\s+)?"
        rf"{_PERSON}\b",
    ),
    (
        "transfira transfere transferir passa passe conecte conecta coloque ponha coloca poe",
        r"\bme\s+(?:transfira|transfere|transferir|passa|passe|conecte|conecta)\s+(?:para|pra"
        r"|com|ao)\b|\bme\s+(?:coloque|ponha|coloca|poe)\s+em\s+contato\b"
        r"|\b(?:transfira-me|transferir-me|passe-me\s+para)\b",
    ),
    (
        "liga ligue liguem retorne retornem ligar retornar",
        r"\b(?:me\s+(?:liga|ligue|liguem|retorne|retornem)|ligue(?:m)?\s+para\s+mim"
        r"|ligar\s+para\s+mim|retornar\s+a\s+ligacao)\b",
    ),
    # it
    (
        "parlare parlo chattare comunicare",
        r"\b(?:parlare|parlo|chattare|comunicare)\s+(?:direttamente\s+)?(?:con|a|al|alla|coi)\s+"
        rf"(?:(?:un|una|un'|il|la|l'|lo|vostro|vostra|qualche|un\s+vero|una\s+vera)\s*)?"
        rf"(?:\w+\s+)?{_PERSON}\b",
    ),
    (
        "passami passatemi passi passa trasferiscimi trasferisca trasferisci collegami colleghi"
        " metta metti mettermi",
        r"\b(?:passami|passatemi|mi\s+pass[ia]|trasferiscimi|mi\s+trasferisc[ai]|collegami"
        r"|mi\s+colleghi)(?=\s*(?:$|[.,!?]|con\b|al\b|alla\b|all'|a\b|ad\b|un\b|una\b|l'"
        r"|per\s+favore))|\b(?:mi\s+mett[ai]|mettermi)\s+in\s+contatto\b",
    ),
    (
        "richiamatemi chiamatemi richiami richiama richiamate chiami chiama chiamate richiamare"
        " chiamare",
        r"\b(?:richiamatemi|chiamatemi|mi\s+richiam[ai](?:te)?|mi\s+chiam[ai](?:te)?"
        r"|mi\s+potete\s+(?:ri)?chiamare)\b",
    ),
)
_REQUEST = Gate(_REQUEST_RULES)

# A whole clause that names a person or a desk and nothing else: "agent please",
# "billing department", "un humano por favor", "einen Mitarbeiter bitte".
_BARE = re.compile(
    r"^\s*(?:(?:a|an|the|my|your|get|gimme|give\s+me|need|want|i\s+want|i\s+need|real|live"
    r"|actual|un|una|el|la|le|l'|une|einen|ein|eine|um|uma|o|il|lo|bitte|por\s+favor)\s+)*"
    r"(?:humans?|person|agent|live\s+agent|representative|rep|operator|supervisor|manager"
    r"|customer\s+(?:service|support|care)|(?:[a-z]+\s+){0,2}(?:team|department|dept|desk)"
    r"|front\s+desk|help\s*desk|humano|persona|agente|asesor|operador|humain|conseiller"
    r"|operateur|mensch|menschen|mitarbeiter|berater|atendente|operatore|umano)"
    r"(?:\s+(?:please|pls|plz|now|asap|right\s+now|thanks|thank\s+you|por\s+favor|porfa"
    r"|s'il\s+vous\s+plait|svp|stp|bitte|per\s+favore|grazie|pf|pfv))*\s*$"
)
# Words without which `_BARE` cannot match: turns with none of them and no request verb are
# skipped early.
_BARE_WORD_TEXT = (
    "humans human person agent representative rep operator supervisor manager customer team"
    " department dept desk helpdesk humano persona agente asesor operador humain conseiller"
    " operateur mensch menschen mitarbeiter berater atendente operatore umano"
)
_BARE_WORDS = frozenset(_BARE_WORD_TEXT.split())
_CLAUSE = re.compile(r"[.!?;:\n]+|,\s*")

# Questions about the bot itself are not requests: "are you a bot?", "am I talking to a human?"
_BOT_QUESTION = re.compile(
    r"\b(?:am\s+i|are\s+we|who\s+am\s+i|what\s+am\s+i)\s+(?:talking|speaking|chatting)\s+"
    r"(?:to|with)\b[^.?!]*"
    r"|\b(?:are\s+you|is\s+this|is\s+it|is\s+that|r\s+u|are\s+u)\s+(?:a\s+|an\s+)?(?:real\s+|actual\s+"
    r"|live\s+)?(?:human|person|bot|robot|machine|ai|computer|chatbot|people)\b"
    # "what will you call me" asks for the customer's nickname
    r"|\b(?:what|how|which)\b[^.?!,]*\bcall\s+me\b"
    r"|\b(?:eres|es\s+usted|estoy\s+hablando\s+con)\s+(?:un\s+|una\s+)?(?:humano|robot|bot"
    r"|persona|maquina)\b"
    r"|\b(?:es[- ]tu|etes[- ]vous|je\s+parle\s+(?:a|avec))\s+(?:un\s+|une\s+)?(?:humain|robot"
    r"|bot|personne|machine)\b"
    r"|\b(?:bist\s+du|sind\s+sie|spreche\s+ich\s+mit)\s+(?:ein\s+|einem\s+)?(?:mensch|menschen"
    r"|bot|roboter|maschine)\b"
    r"|\b(?:voce\s+e|estou\s+falando\s+com)\s+(?:um\s+|uma\s+)?(?:humano|robo|bot|pessoa)\b"
    r"|\b(?:sei|sto\s+parlando\s+con)\s+(?:un\s+|una\s+)?(?:umano|robot|bot|persona)\b"
)

# A negation governing the request: the cue is followed only by glue words up to the match,
# so "I don't want to | talk to a human" is negated but "no, | I want a human" is not.
_NEG_CUE = (
    r"(?:(?<!why\s)(?:do\s*n[o']?t|dont)(?!\s+(?:you|u)\b)|does\s*n[o']?t|doesnt|did\s*n[o']?t"
    r"|didnt|never|won'?t|will\s+not|would\s*n[o']?t|wouldnt|no\s+need|not|rather\s+not"
    r"|without|instead\s+of|needn'?t|no\s+desire|avoid|hate|dislike|no(?=\s+(?:quiero|necesito|me|nos|hace|es|deseo"
    r"|quisiera|voglio|serve|ho|mi))|sin|nunca|ne|n'"
    r"|pas|sans|jamais|pas\s+besoin|nicht|kein\w*|ohne|nie|nao|sem|non|senza|mai)"
)
_GLUE = (
    r"(?:i|we|really|actually|even|necessarily|want|wanted|wanna|need|needed|wish|like|care|have"
    r"|to|be|being"
    r"|ask|asked|asking"
    r"|get|getting|feel|the|a|an|any|just|ever|again|going|gonna|plan|intend|interested|in|for"
    r"|with|transferred|connected|pass|quiero|necesito|hace|falta|es|necesario|que|me|a|con"
    r"|hablar|veux|veut|souhaite|besoin|de|d'|ai|suis|parler|pas|je|mochte|will|muss|mit"
    r"|einem|einer|ich|quero|preciso|para|voglio|ho|bisogno|di|serve|mi|e|vorrei|falar"
    r"|parlare|sprechen)"
)
_NEGATED = re.compile(rf"\b{_NEG_CUE}(?:[\s']+{_GLUE}\b)*[\s']*$")
# "I was talking to an agent" reports the past; it is not a request.
# "Do I need to speak to a representative to change my PIN?" asks about the process.
_REPORTED_CUE = (
    r"(?:was|were|been|already|earlier|yesterday|previously"
    r"|(?:do|does|will|would|should)\s+(?:i|we|you|one)\s+(?:need|have|got)\s+to)"
)
_REPORTED = re.compile(rf"\b{_REPORTED_CUE}\s*$")


def _clauses(folded: str) -> list[str]:
    return [c for c in _CLAUSE.split(folded) if c and not c.isspace()]


def is_human_request(text: str, *, classifier: TextClassifier | None = None) -> bool:
    """Return True when the customer explicitly asks for a human, a desk or a callback.

    `classifier` replaces the shipped text classifier (the evaluation passes one trained
    without the data set it measures).
    """
    if not text:
        return False
    folded = fold(text)
    if asks_for_human(folded):
        return True
    heads = shipped_heads(folded) if classifier is None else classifier.found(folded)
    return "human_request" in heads and not _vetoed(folded)


# What the classifier cannot read from a bag of words: a request that is negated ("I don't
# want to talk to a human"), reported ("my agent told me to call"), about the bot ("am I
# talking to a person?") or about the process ("do I need to speak to someone to..."). The
# patterns judge those clause by clause; the classifier's guess is dropped when any is there.
_VETO = re.compile(
    rf"\b{_NEG_CUE}\b|n't\b|\b{_REPORTED_CUE}\b|\b(?:told|said|nobody|no\s+one|no)\b"
    # "how do I become an agent": a career question, in each supported language
    r"|\b(?:become|becoming|devenir|werden?|werde|diventare|convertirme|volverme|tornar-me"
    r"|tornar\s+me|ser\s+um)\b"
)


def _vetoed(folded: str) -> bool:
    return bool(_VETO.search(folded) or _BOT_QUESTION.search(folded))


def asks_for_human(folded: str) -> bool:
    """The patterns alone, on already folded text."""
    present = words(folded)
    candidates = _REQUEST.select(folded)
    if not candidates and present.isdisjoint(_BARE_WORDS):
        return False
    if "?" in folded or " " in folded:
        folded = _BOT_QUESTION.sub(" . ", folded)
    patterns = _REQUEST.patterns
    for clause in _clauses(folded):
        if _BARE.match(clause):
            return True
        for index in candidates:
            for match in patterns[index].finditer(clause):
                prefix = clause[max(0, match.start() - 60) : match.start()]
                if not _NEGATED.search(prefix) and not _REPORTED.search(prefix):
                    return True
    return False
