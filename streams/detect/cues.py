"""Conversation cues: dissatisfaction with the bot, accessibility needs, revenue moments.

Each cue is a short list of multilingual patterns over folded text (see `normalize.fold`),
gated by trigger words (see `gate.py`) so a turn that mentions none of them costs a few set
look-ups. Patterns name the concept ("you're not listening", "I'm hard of hearing",
"pricing for 50 seats"), not single keywords.
"""

from __future__ import annotations

import re
from functools import lru_cache

from warmhandoff.streams.detect.gate import Gate
from warmhandoff.streams.detect.normalize import fold

ACCESSIBILITY_NEEDS = ("cognitive", "hearing", "interpreter", "mobility", "speech", "vision")
REVENUE_MOMENTS = ("purchase", "retention", "upgrade")

# --- dissatisfaction with the bot or the conversation ---------------------------------------

_NOT_WORKING = (
    r"(?:do(?:es)?\s*n[o']?t|do(?:es)?\s+not|did\s*n[o']?t|did\s+not|is\s*n[o']?t|is\s+not"
    r"|was\s*n[o']?t|won'?t|never)\s+(?:\w+\s+)?(?:work|working|help|helping|helped|fix|fixed"
    r"|solve|solved|answer|make\s+sense)"
)
_DISSATISFIED = Gate(
    (
        (
            "what asked said meant wanted question answer",
            r"\b(?:not|n't|isnt)\s+(?:\w+\s+)?(?:what\s+i\s+(?:asked|said|meant|wanted|need|needed"
            r"|was\s+asking)|my\s+question|the\s+question\s+i\s+asked)"
            r"|\byou\s+(?:did\s*n[o']?t|did\s+not|never)\s+answer",
        ),
        (
            "work working works help helping helped helps fix fixed solve solved answer sense",
            rf"\b(?:this|it|that|that'?s|nothing|none\s+of\s+(?:this|that|these|it)|your\s+\w+"
            rf"|the\s+(?:bot|app|chat|answer|solution|suggestion)|still)\s+(?:\w+\s+)?{_NOT_WORKING}"
            r"|\bnothing\s+(?:works|worked|helps|helped)\b|\bno\s+help\b"
            r"|\bmakes?\s+no\s+sense\b",
        ),
        (
            "wrong incorrect right correct true",
            r"\b(?:wrong|incorrect)\s+(?:answer|response|information|info|reply)"
            r"|\b(?:that|that'?s|this|it'?s|you'?re|you\s+are|it\s+is|that\s+is)\s+(?:\w+\s+)?"
            r"(?:wrong|incorrect|not\s+(?:right|correct|it|true))\b",
        ),
        (
            "listening listen understand understanding understood misunderstood get reading",
            r"\byou(?:'re|\s+are)?\s+(?:still\s+)?(?:not|n't|never|do\s*n[o']?t|do\s+not"
            r"|don'?t|did\s*n[o']?t)\s+(?:\w+\s+)?(?:listening|listen|understand|understanding"
            r"|understood|getting\s+it|get\s+it|reading)\b|\byou\s+misunderstood\b",
        ),
        (
            "told said explained answered gave tried mentioned",
            r"\b(?:i\s+(?:already|just|have\s+already|'ve\s+already)|i'?ve\s+already|as\s+i"
            r"|like\s+i)\s+(?:\w+\s+)?(?:told|said|explained|answered|gave|tried|mentioned)\b",
        ),
        (
            "useless pointless waste stupid dumb idiotic worthless unhelpful ridiculous joke"
            " circles",
            r"\b(?:useless|pointless|unhelpful|ridiculous)\b|\bwaste\s+of\s+(?:my\s+)?time"
            r"|\b(?:stupid|dumb|idiotic|worthless)\s+(?:bot|robot|machine|chat|system|app|answer"
            r"|thing)|\bthis\s+is\s+a\s+joke|\b(?:going|go|run(?:ning)?)\s+(?:round\s+|around\s+)?"
            r"in\s+circles",
        ),
        (
            "time times again over keep",
            r"\b(?:for|is)\s+the\s+(?:second|third|fourth|fifth|sixth|nth|2nd|3rd|4th|5th|\d+th)"
            r"\s+time|\bhow\s+many\s+times|\bagain\s+and\s+again|\bover\s+and\s+over"
            r"|\b(?:you\s+)?keep\s+(?:asking|saying|telling|repeating|sending|giving)",
        ),
        (
            "still",
            r"\bstill\s+(?:not|n't|doesn'?t|does\s+not|isn'?t|is\s+not|won'?t|can'?t|hasn'?t"
            r"|haven'?t|broken|the\s+same|no|nothing|waiting)\b",
        ),
        (
            "frustrated frustrating annoyed annoying fed sick tired unacceptable",
            r"\b(?:i'?m|i\s+am|so|really|very)\s+(?:\w+\s+)?(?:frustrated|annoyed|fed\s+up)"
            r"|\b(?:sick|tired)\s+of\s+(?:this|you|it|waiting|repeating)"
            r"|\bthis\s+is\s+(?:\w+\s+)?(?:frustrating|annoying|unacceptable)",
        ),
        # es
        (
            "pregunte pedi dije quise funciona* sirve ayuda ayudas entiendes entiende escuchas"
            " hice intente incorrecta equivocada mal inutil vez mismo",
            r"\bno\s+es\s+lo\s+que\s+(?:pregunte|pedi|dije|quise\s+decir)"
            r"|\b(?:sigue\s+sin|todavia\s+no|aun\s+no|esto\s+no|eso\s+no)\s+funciona"
            r"|\bno\s+sirve|\bno\s+me\s+(?:ayuda|ayudas|entiendes|entiende|escuchas)"
            r"|\bno\s+(?:me\s+)?entiendes|\bya\s+(?:te\s+)?(?:lo\s+)?dije|\bya\s+lo\s+(?:hice"
            r"|intente)|\brespuesta\s+(?:incorrecta|equivocada)|\beso\s+esta\s+mal|\binutil\b"
            r"|\bpor\s+(?:segunda|tercera|cuarta|quinta)\s+vez|\botra\s+vez\s+lo\s+mismo",
        ),
        # fr
        (
            "demande veux voulais marche fonctionne comprenez comprends ecoutes ecoutez dit"
            " reponse faux inutile fois toujours importe aide",
            r"\bce\s+n'?est\s+pas\s+ce\s+que\s+(?:j'?ai\s+demande|je\s+veux|je\s+voulais)"
            r"|\b(?:ca|cela)\s+ne\s+(?:marche|fonctionne)\s+(?:toujours\s+)?pas"
            r"|\b(?:vous\s+ne\s+comprenez|tu\s+ne\s+comprends|tu\s+ne\s+m'?ecoutes"
            r"|vous\s+ne\s+m'?ecoutez)\s+pas|\bje\s+(?:vous\s+|te\s+)?l'?ai\s+deja\s+dit"
            r"|\bmauvaise\s+reponse|\bc'?est\s+faux|\binutile\b"
            r"|\bpour\s+la\s+(?:deuxieme|troisieme|quatrieme|cinquieme)\s+fois"
            r"|\btoujours\s+pas\b|\bn'?importe\s+quoi|\bca\s+ne\s+m'?aide\s+pas",
        ),
        # de
        (
            "gefragt was funktioniert geht verstehen verstehst gesagt falsche falsch nutzlos"
            " sinnlos mal immer hilft",
            r"\bdas\s+(?:habe|hab)\s+ich\s+nicht\s+gefragt|\bdas\s+ist\s+nicht\s+(?:das\s+)?was\s+ich"
            r"|\b(?:funktioniert|geht)\s+(?:immer\s+noch\s+|noch\s+immer\s+)?nicht"
            r"|\b(?:sie\s+verstehen|du\s+verstehst)\s+(?:mich\s+)?nicht"
            r"|\b(?:habe?|hab)\s+ich\s+(?:doch\s+|ihnen\s+|dir\s+)?(?:schon|bereits)\s+gesagt"
            r"|\bfalsche\s+antwort|\bdas\s+ist\s+falsch|\b(?:nutzlos|sinnlos)\b"
            r"|\bzum\s+(?:zweiten|dritten|vierten|funften)\s+mal|\bimmer\s+noch\s+nicht"
            r"|\bhilft\s+(?:mir\s+)?nicht",
        ),
        # pt
        (
            "perguntei pedi disse quis funciona* entende entendeu ouvindo falei errada"
            " incorreta errado inutil vez ajuda",
            r"\bnao\s+(?:e|foi)\s+(?:isso\s+)?(?:o\s+)?que\s+eu\s+(?:perguntei|pedi|disse|quis\s+dizer)"
            r"|\b(?:continua\s+sem|ainda\s+nao|isso\s+nao)\s+(?:funciona|funcionar)"
            r"|\bnao\s+esta\s+funcionando|\bvoce\s+nao\s+(?:me\s+)?(?:entende|entendeu"
            r"|esta\s+ouvindo)|\bja\s+(?:te\s+)?(?:disse|falei)|\bresposta\s+(?:errada|incorreta)"
            r"|\bisso\s+esta\s+errado|\binutil\b|\bpela\s+(?:segunda|terceira|quarta)\s+vez"
            r"|\bnao\s+(?:me\s+)?ajuda\b",
        ),
        # it
        (
            "chiesto funziona capisci detto sbagliata sbagliato inutile volta aiuta",
            r"\bnon\s+e\s+quello\s+che\s+ho\s+chiesto|\b(?:ancora|continua\s+a)\s+non\s+funziona"
            r"|\bnon\s+mi\s+capisci|\bnon\s+capisci|\b(?:te\s+)?l'?ho\s+gia\s+detto"
            r"|\brisposta\s+sbagliata|\be\s+sbagliato|\binutile\b"
            r"|\bper\s+la\s+(?:seconda|terza|quarta)\s+volta|\bnon\s+mi\s+aiuta",
        ),
    )
)

# --- accessibility --------------------------------------------------------------------------

_ACCESSIBILITY_RULES: tuple[tuple[str, str, str], ...] = (
    (
        "hearing",
        "deaf hard hearing hear captions captioning tty relay sign asl bsl sordo sorda oigo"
        " audicion auditiva sourd sourde malentendant malentendante entends gehorlos"
        " schwerhorig taub surdo surda auditiva sento lingua libras gebardensprache senas"
        " langue signes segni sinais",
        r"\b(?:deaf|hard\s+of\s+hearing|hearing[- ](?:impaired|impairment|loss|aids?|disability"
        r"|problems?)|(?:can'?t|cannot|can\s+not)\s+hear\s+(?:well|properly|very\s+well|much"
        r"|anything)|captions?|captioning|tty|text\s+relay|relay\s+service"
        r"|sign\s+language|asl|bsl)\b"
        r"|\b(?:sord[oa]|no\s+oigo\s+bien|problemas\s+de\s+audicion|discapacidad\s+auditiva"
        r"|lengua\s+de\s+senas|sourde?|malentendante?|langue\s+des\s+signes|gehorlos"
        r"|schwerhorig|taub|gebardensprache|surd[oa]|deficiencia\s+auditiva"
        r"|lingua\s+de\s+sinais|libras|non\s+sento\s+bene|lingua\s+dei\s+segni)\b",
    ),
    (
        "vision",
        "blind visually vision sight eyesight sighted screen voiceover see read ciego ciega"
        " visual veo lector aveugle malvoyant malvoyante ecran sehbehindert screenreader"
        " bildschirmleser cego cega tela cieco cieca ipovedente schermo",
        r"\b(?:blind|visually\s+impaired|visual\s+impairment|low\s+vision|partially\s+sighted"
        r"|poor\s+(?:eye)?sight|screen\s*reader|voiceover|(?:can'?t|cannot|can\s+not)\s+see"
        r"\s+(?:the\s+screen|well|properly|the\s+text|very\s+well|small)"
        r"|(?:can'?t|cannot|can\s+not)\s+read\s+(?:this|that|it|the\s+(?:screen|text|small"
        r"|letters|print)|small|tiny))\b"
        r"|\b(?:cieg[oa]|discapacidad\s+visual|no\s+veo\s+bien|lector\s+de\s+pantalla"
        r"|aveugle|malvoyante?|lecteur\s+d'?ecran|sehbehindert|bildschirmleser|ceg[oa]"
        r"|deficiencia\s+visual|leitor\s+de\s+tela|ciec[oa]|ipovedente"
        r"|lettore\s+di\s+schermo)\b",
    ),
    (
        "speech",
        "speech speak speaking talk talking stutter* stammer* mute verbal nonverbal aphasia"
        " trouble tartamudo"
        " tartamudeo mudo muda muet muette begaie parole stumm stottere sprachstorung gago"
        " gaguejo muto muta balbuzie",
        r"\b(?:speech\s+(?:impairment|impaired|disability|difficulties|problems?|disorder)"
        r"|(?:i|i'?m|i\s+am)\s+(?:\w+\s+)?(?:stutter|stammer)\w*|(?:i'?m|i\s+am)\s+(?:mute"
        r"|non-?verbal)|aphasia|(?:can'?t|cannot|can\s+not)\s+(?:speak|talk)\s+(?:well"
        r"|clearly|properly|on\s+the\s+phone)|trouble\s+(?:speaking|talking))\b"
        r"|\b(?:tartamud[oa]|tartamudeo|soy\s+mud[oa]|je\s+suis\s+muet(?:te)?|je\s+begaie"
        r"|trouble\s+de\s+la\s+parole|ich\s+bin\s+stumm|ich\s+stottere|sprachstorung"
        r"|sou\s+mud[oa]|gago|gaguejo|sono\s+mut[oa]|balbuzie)\b",
    ),
    (
        "cognitive",
        "dyslexia dyslexic learning autism autistic adhd dementia alzheimer alzheimers memory"
        " cognitive intellectual brain simple simpler simply plain easy easier dislexia dislexico"
        " discapacidad autismo dyslexique dyslexie autiste legasthenie autist autista"
        " dislessia dislessico",
        r"\b(?:dyslexi[ac]|learning\s+(?:disability|difficult(?:y|ies)|disorder)|autis(?:m|tic)"
        r"|adhd|dementia|alzheimer'?s?|memory\s+(?:problems?|loss|issues)|cognitive"
        r"\s+(?:impairment|disability|issues|decline)|intellectual\s+disability"
        r"|brain\s+injury|(?:in|use)\s+(?:simple|simpler|plain|easy|easier)\s+(?:words|language"
        r"|english|terms)|explain\s+(?:it\s+|that\s+|this\s+)?(?:more\s+)?simply)\b"
        r"|\b(?:dislexi[ac]o?|discapacidad\s+intelectual|autismo|dyslexi(?:que|e)|autiste"
        r"|legasthenie|autist|autista|dislessi[ac]o?)\b",
    ),
    (
        "mobility",
        "wheelchair wheel mobility paralyzed paralysed paraplegic quadriplegic walk hands type"
        " mouse keyboard amputee tremor tremors parkinson parkinsons arthritis silla movilidad"
        " fauteuil mobilite rollstuhl gehbehindert cadeira mobilidade sedia mobilita",
        r"\b(?:wheel\s*chair|(?:limited|reduced)\s+mobility|mobility\s+(?:issues|impairment"
        r"|problems?|scooter|aid)|paraly[sz]ed|paraplegic|quadriplegic|amputee|tremors?"
        r"|parkinson'?s?|(?:can'?t|cannot|can\s+not)\s+(?:walk|use\s+my\s+hands|type"
        r"|use\s+a\s+(?:mouse|keyboard))|arthritis\s+in\s+my\s+hands)\b"
        r"|\b(?:silla\s+de\s+ruedas|movilidad\s+reducida|fauteuil\s+roulant|mobilite\s+reduite"
        r"|rollstuhl|gehbehindert|cadeira\s+de\s+rodas|mobilidade\s+reduzida"
        r"|sedia\s+a\s+rotelle|mobilita\s+ridotta)\b",
    ),
    (
        "interpreter",
        "interpreter interpretation translator translation sign asl bsl english speak speaks"
        " language interprete traductor senas hablo ingles habla hablan espanol langue parle"
        " anglais parlez francais dolmetscher ubersetzer gebardensprache spreche sprechen"
        " deutsch lingua falo fala portugues libras parlo inglese parla italiano",
        r"\b(?:interpreter|interpretation|translator|sign\s+language|asl|bsl"
        r"|(?:do\s*n[o']?t|do\s+not|can'?t|cannot)\s+speak\s+(?:\w+\s+)?(?:english|much\s+english)"
        r"|my\s+english\s+is\s+(?:not|n't|bad|poor|limited|weak)|english\s+is\s+not\s+my"
        r"\s+(?:first|native)\s+language|(?:someone|anyone|agent|person)\s+who\s+speaks"
        r"\s+\w+|(?:do\s+you|does\s+anyone|can\s+you)\s+speak\s+(?:spanish|french|german"
        r"|portuguese|italian|arabic|hindi|chinese|mandarin|cantonese|vietnamese|korean"
        r"|japanese|russian|polish|turkish|dutch|tagalog))\b"
        r"|\b(?:interprete|traductor|lengua\s+de\s+senas|no\s+hablo\s+(?:bien\s+)?ingles"
        r"|(?:hablan?|habla\s+usted)\s+espanol|langue\s+des\s+signes"
        r"|je\s+ne\s+parle\s+pas\s+(?:bien\s+)?(?:l'?)?anglais|parlez[- ]vous\s+francais"
        r"|dolmetscher|ubersetzer|gebardensprache|ich\s+spreche\s+(?:kein|nicht\s+gut)"
        r"|sprechen\s+sie\s+deutsch|lingua\s+de\s+sinais|libras|nao\s+falo\s+(?:bem\s+)?ingles"
        r"|fala\s+portugues|lingua\s+dei\s+segni|non\s+parlo\s+(?:bene\s+)?(?:l'?)?inglese"
        r"|parla\s+italiano)\b",
    ),
)
_ACCESSIBILITY = Gate((triggers, pattern) for _, triggers, pattern in _ACCESSIBILITY_RULES)
_ACCESSIBILITY_OF = tuple(need for need, _, _ in _ACCESSIBILITY_RULES)

# --- revenue moments ------------------------------------------------------------------------

_SEATS = r"(?:seats|licen[cs]es|users|units|employees|people|agents|accounts|devices|lines)"
_REVENUE_RULES: tuple[tuple[str, str, str], ...] = (
    (
        "purchase",
        "buy buying purchase purchasing subscribe subscribing sign signing",
        r"\b(?:want|like|looking|ready|planning|interested|intend|going|wish|need)\s+(?:\w+\s+)?"
        r"(?:to\s+|in\s+)(?:buy|buying|purchase|purchasing|subscribe|subscribing|sign\s+up"
        r"|signing\s+up)\b"
        r"|\bhow\s+(?:do|can|could)\s+(?:i|we)\s+(?:buy|purchase|subscribe|sign\s+up)\b"
        r"|\b(?:can|could)\s+(?:i|we)\s+(?:buy|purchase)\b",
    ),
    (
        "purchase",
        "quote quotation pricing price prices cost demo trial seats licenses licences users"
        " units employees people agents accounts devices lines bulk volume enterprise",
        r"\b(?:get|request|need|want|send\s+me|give\s+me|like)\s+(?:a\s+)?(?:price\s+)?"
        r"(?:quote|quotation)\b"
        rf"|\b(?:pricing|price|prices|quote|cost|rates?)\s+(?:for|of|on)\s+\d+\s+(?:\w+\s+)?{_SEATS}"
        rf"|\b\d+\s+(?:seats|licen[cs]es|users)\b"
        r"|\b(?:book|schedule|request|see|get|arrange)\s+a\s+(?:product\s+)?demo\b"
        r"|\b(?:bulk|volume)\s+(?:order|discount|pricing|purchase)"
        r"|\benterprise\s+(?:plan|pricing|licen[cs]e|tier|quote)",
    ),
    (
        "purchase",
        "comprar compra acheter commander kaufen bestellen comprare",
        r"\b(?:quiero|quisiera|me\s+gustaria|quero|queria|gostaria\s+de|voglio|vorrei)\s+"
        r"(?:\w+\s+)?(?:comprar|comprare)\b"
        r"|\b(?:je\s+(?:veux|voudrais|souhaite))\s+(?:\w+\s+)?(?:acheter|commander)\b"
        r"|\bich\s+(?:mochte|will|wurde\s+gerne)\s+(?:\w+\s+){0,3}(?:kaufen|bestellen)\b",
    ),
    (
        "upgrade",
        "upgrad* plan tier package subscription level seats users licenses licences lines"
        " storage limit increase switch premium mejorar actualizar ampliar passer aktualisieren"
        " erweitern fazer migrar passare",
        r"\bupgrad(?:e|ing)\b"
        r"|\b(?:higher|bigger|better|premium|pro|business|enterprise|next|top)\s+(?:plan|tier"
        r"|package|subscription|level)\b"
        r"|\badd\s+(?:(?:\d+|more|extra|a\s+few|another)\s+){0,2}(?:seats|users|licen[cs]es|lines"
        r"|storage)\b"
        r"|\bincrease\s+my\s+(?:plan|limit|storage|seats|quota)"
        r"|\bswitch\s+to\s+(?:the\s+|an?\s+)?(?:annual|yearly|premium|pro|business|enterprise"
        r"|unlimited|bigger|higher)\b"
        r"|\b(?:mejorar|actualizar|ampliar)\s+(?:mi\s+)?(?:plan|suscripcion)"
        r"|\bpasser\s+(?:a|au)\s+(?:l'?offre\s+)?(?:premium|superieur|pro)"
        r"|\b(?:tarif|paket|abo)\s+(?:upgraden|aktualisieren|erweitern)"
        r"|\bfazer\s+(?:o\s+)?upgrade|\bmigrar\s+(?:de\s+|para\s+o\s+)?plano"
        r"|\bpassare\s+al\s+piano\s+(?:superiore|premium|pro)",
    ),
    (
        "retention",
        "competitor competitors competition switch switching leave leaving move moving go"
        " going change changing deal discount offer"
        " price keep stay match elsewhere cheaper loyalty retention cancel cancelling canceling"
        " competencia concurrent concurrence konkurrenz concorrente concorrenza concorrencia",
        r"\b(?:competitor|competitors|competition)\b"
        r"|\b(?:thinking|considering|going|planning|about|want|wanna|ready|decided)\s+(?:of\s+"
        r"|about\s+|to\s+)?(?:(?:switch|switching|change|changing)\s+(?:over\s+)?(?:to"
        r"|providers?|carriers?|banks?|companies|elsewhere)"
        # Going, moving or leaving "to" a place is travel, not a change of provider.
        r"|(?:leave|leaving|move|moving|go|going)\s+(?:over\s+)?(?:to\s+(?:another|a\s+different"
        r"|a\s+new|a\s+competitor|the\s+competition|your\s+competitors?)|providers?|carriers?"
        r"|banks?|companies|elsewhere))\b"
        r"|\bwhat\s+(?:would|will|does)\s+it\s+take\s+to\s+keep\s+me"
        r"|\b(?:why\s+should\s+i|convince\s+me\s+to|reason\s+to)\s+stay\b"
        r"|\b(?:found|got|getting|offered|seen)\s+(?:a\s+)?(?:better|cheaper|lower)\s+(?:deal"
        r"|offer|price|rate)"
        r"|\b(?:better|cheaper)\s+(?:deal|offer|price|rate)\s+(?:elsewhere|somewhere\s+else"
        r"|from|at|with)\b"
        r"|\bmatch\s+(?:their|the|this|that)\s+(?:price|offer|deal|rate)"
        r"|\b(?:loyalty|retention)\s+(?:discount|offer|deal|team)"
        r"|\b(?:give|offer)\s+me\s+(?:a\s+)?(?:better\s+)?(?:deal|discount|offer)\s+(?:to\s+"
        r"stay|or\s+i)"
        r"|\b(?:cancel|cancell?ing)\s+(?:my\s+|the\s+|our\s+)?(?:\w+\s+)?(?:subscription"
        r"|membership|plan|contract|service)\b"
        r"|\b(?:la\s+competencia|la\s+concurrence|chez\s+un\s+concurrent|zur\s+konkurrenz"
        r"|para\s+a\s+concorrencia|alla\s+concorrenza|un\s+concorrente)\b",
    ),
)
_REVENUE = Gate((triggers, pattern) for _, triggers, pattern in _REVENUE_RULES)
_REVENUE_OF = tuple(moment for moment, _, _ in _REVENUE_RULES)

# NLU intent word parts that name a revenue moment; multi-part rules need every part.
_INTENT_RULES: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (moment, frozenset(parts.split()))
    for moment, rules in (
        ("purchase", ("buy", "purchase", "pricing", "quote", "sales", "demo", "new subscription")),
        ("upgrade", ("upgrade", "add seats", "add users", "change plan")),
        (
            "retention",
            (
                "churn",
                "retention",
                "downgrade",
                "competitor",
                "cancel subscription",
                "cancel membership",
                "cancel plan",
                "cancel contract",
            ),
        ),
    )
    for parts in rules
)
_INTENT_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _labels(gate: Gate, labels: tuple[str, ...], folded: str) -> set[str]:
    found: set[str] = set()
    patterns = gate.patterns
    for index in gate.select(folded):
        if labels[index] not in found and patterns[index].search(folded):
            found.add(labels[index])
    return found


def dissatisfied(text: str) -> bool:
    """Return True when the customer says the bot or the conversation is failing them."""
    if not text:
        return False
    folded = fold(text)
    patterns = _DISSATISFIED.patterns
    return any(patterns[i].search(folded) for i in _DISSATISFIED.select(folded))


def accessibility_needs(text: str) -> tuple[str, ...]:
    """Return the sorted accessibility needs the customer states (hearing, vision, ...)."""
    if not text:
        return ()
    return tuple(sorted(_labels(_ACCESSIBILITY, _ACCESSIBILITY_OF, fold(text))))


@lru_cache(maxsize=512)
def _intent_moments(intent: str) -> frozenset[str]:
    parts = set(_INTENT_SPLIT.split(_CAMEL.sub(" ", intent).lower()))
    return frozenset(moment for moment, need in _INTENT_RULES if need <= parts)


def revenue_moments(text: str, intent: str | None = None) -> tuple[str, ...]:
    """Return the sorted revenue moments (purchase, upgrade, retention) in the turn."""
    found = set(_intent_moments(intent)) if intent else set()
    if text:
        found |= _labels(_REVENUE, _REVENUE_OF, fold(text))
    return tuple(sorted(found))
