"""How sharply a turn is said: insults, threats to leave, anger, swearing, shouting.

One unhappy turn is not a reason to hand a customer over, but one said sharply can be: an
insult to the bot or the company, a threat to take the business elsewhere, or a complaint
shouted, sworn or stated as anger ("I'm furious"). `intensity_cues` names what it finds; the
detect stage (`core/dissatisfaction.py`) decides what makes a turn sharp.

Insults, threats and anger are multilingual concept patterns (en, es, fr, de, pt, it) over
folded text behind keyword gates (see `gate.py`), like `cues.py`; shouting and repeated
exclamation marks are read from the raw text, where the capitals are.
"""

from __future__ import annotations

import re

from warmhandoff.streams.detect.gate import Gate
from warmhandoff.streams.detect.normalize import fold

INTENSITY_CUES = ("anger", "exclaiming", "insult", "leave", "shouting", "swearing")

_YOU_ARE = r"(?:you(?:'re|\s+are|r|re)?|are\s+you)"
_RULES: tuple[tuple[str, str, str], ...] = (
    (
        "insult",
        "idiot idiots idiotic moron morons stupid dumb useless incompetent pathetic clown clowns"
        " joke imbecile imbeciles garbage trash rubbish worthless hopeless braindead amateurs",
        rf"\b{_YOU_ARE}\s+(?:such\s+|so\s+|an?\s+|the\s+|most\s+|complete\s+|completely\s+"
        r"|totally\s+|utterly\s+|fucking\s+|bloody\s+|really\s+|just\s+|bunch\s+of\s+)*"
        r"(?:idiots?|morons?"
        r"|stupid|dumb|useless|incompetent|pathetic|clowns?|joke|imbeciles?|garbage|trash"
        r"|rubbish|worthless|hopeless|braindead|amateurs)\b"
        r"|\b(?:stupid|dumb|idiotic|useless|worthless|pathetic|incompetent|rubbish|garbage)"
        r"\s+(?:bot|robot|machine|chatbot|assistant|computer|company|app|system|thing|program"
        r"|idiots?|people)\b"
        r"|\bbunch\s+of\s+(?:idiots|morons|clowns|amateurs)\b",
    ),
    (
        "insult",
        "shut screw fuck off hell",
        r"\bshut\s+up\b|\bscrew\s+you\b|\bfuck\s+(?:you|off)\b|\bgo\s+to\s+hell\b",
    ),
    (
        "insult",
        "idiot* inut* estupid* imbecil* tont* incompet* inkompet* mierda boca nul nulle nuls"
        " nulles abruti* debile debiles stupid* gueule blod dumm nutzlos unfahig bescheuert"
        " klappe burr* cretin* zitto",
        r"\b(?:eres|sois)\s+(?:un[oa]?\s+|muy\s+)?(?:idiotas?|inutil(?:es)?|estupid[oa]s?"
        r"|imbecil(?:es)?|tont[oa]s?|incompetentes?)\b"
        r"|\b(?:bot|robot|maquina|sistema|empresa)\s+(?:de\s+mierda|estupid[oa]|inutil)\b"
        r"|\b(?:tu\s+es|t'?es|vous\s+etes)\s+(?:une?\s+|vraiment\s+|trop\s+|completement\s+)?"
        r"(?:idiote?s?|nul(?:le)?s?|abrutie?s?|debiles?|stupides?|incompetente?s?)\b"
        r"|\bta\s+gueule\b"
        r"|\b(?:du\s+bist|sie\s+sind|ihr\s+seid)\s+(?:so\s+|ein\s+|eine\s+|total\s+|echt\s+)*"
        r"(?:idioten?|blod|dumm|nutzlos|unfahig|inkompetent|bescheuert)\b|\bhalt\s+die\s+klappe"
        r"|\b(?:voce\s+e|vc\s+e|voces\s+sao|tu\s+es)\s+(?:uma?\s+|muito\s+)?(?:idiota|inutil"
        r"|burr[oa]|estupid[oa]|incompetente|imbecil)\b|\bcala\s+a\s+boca"
        r"|\b(?:sei|siete)\s+(?:un[oa]?\s+|proprio\s+|davvero\s+)?(?:idiot[ai]|inutil[ei]"
        r"|stupid[oaie]|incompetent[ei]|cretin[oaie])\b|\bstai\s+zitto",
    ),
    (
        "leave",
        "business custom elsewhere else competitor competition rival bank provider company"
        " supplier carrier insurer network retailer again anymore more done lost",
        r"\btak(?:e|ing)\s+(?:my|our)\s+(?:business|money|custom)\s+(?:elsewhere"
        r"|somewhere\s+else)|\blost\s+(?:my|our)\s+(?:business|custom)\b"
        r"|\b(?:i'?m|i\s+am|i'?ll|i\s+will|we'?re|we'?ll|we\s+will|going\s+to|gonna|about\s+to)"
        r"\s+(?:\w+\s+)?(?:switch(?:ing)?|mov(?:e|ing)|go(?:ing)?)\s+(?:over\s+)?to\s+(?:a\s+"
        r"|your\s+|the\s+)?(?:competitor|competition|rival)"
        r"|\b(?:find|look\s+for|go\s+with|switch\s+to|move\s+to)\s+(?:a\s+)?(?:another|different"
        r"|new|better)\s+(?:bank|provider|company|supplier|carrier|insurer|network|retailer)\b"
        r"|\bnever\s+(?:\w+\s+){0,3}?(?:use|using|buy|buying|order|ordering|shop|shopping|book"
        r"|booking|fly|flying|deal|dealing)\s+(?:\w+\s+){0,3}?(?:again|anymore|any\s+more)\b"
        r"|\b(?:i'?m|i\s+am|we'?re|we\s+are)\s+(?:so\s+|completely\s+|totally\s+)?done\s+with"
        r"\s+(?:you|your|this\s+(?:company|bank|service|app))"
        r"|\b(?:you'?ve|you\s+have|you\s+just)\s+lost\s+(?:a|another|me\s+as\s+a)\s+customer",
    ),
    (
        "leave",
        "competencia otro otra nunca perdieron perdido ailleurs concurrence concurrent perdu"
        " jamais konkurrenz anbieter verloren wieder mudar trocar concorrencia perderam mais"
        " operatore banca fornitore gestore concorrenza perso piu",
        r"\bme\s+(?:voy|cambio|paso)\s+a\s+(?:la\s+competencia|otr[oa]\s+(?:compania|banco"
        r"|empresa|operador[a]?|proveedor))|\bnunca\s+mas\s+(?:vuelvo\s+a\s+)?(?:compro"
        r"|comprare|uso|usare|reservo)\b|\b(?:perdieron|han\s+perdido)\s+un\s+cliente"
        r"|\bje\s+(?:vais\s+)?(?:aller\s+)?(?:voir|acheter|commander)\s+ailleurs"
        r"|\bje\s+(?:vais\s+)?pass(?:e|er)\s+(?:a|chez)\s+(?:la\s+concurrence|un\s+concurrent)"
        r"|\bvous\s+avez\s+perdu\s+un\s+client|\bplus\s+jamais\s+(?:je\s+ne\s+)?(?:commander"
        r"|acheter|utiliser|reserver)"
        r"|\b(?:zur\s+konkurrenz|den\s+anbieter)\s+(?:wechseln|gehen)|\bich\s+wechsle\s+(?:zur"
        r"\s+konkurrenz|den\s+anbieter)|\b(?:einen|ihren)\s+kunden\s+verloren"
        r"|\bnie\s+wieder\s+(?:bei\s+(?:ihnen|euch|dir)\s+)?(?:bestellen|kaufen|buchen)"
        r"|\bvou\s+(?:mudar|trocar)\s+de\s+(?:banco|operadora|empresa|fornecedor)"
        r"|\b(?:vou\s+)?para\s+a\s+concorrencia|\bperderam\s+um\s+cliente"
        r"|\bnunca\s+mais\s+(?:compro|vou\s+comprar|uso|reservo)\b"
        r"|\bcambio\s+(?:operatore|banca|fornitore|gestore)\b|\bpasso\s+alla\s+concorrenza"
        r"|\bavete\s+perso\s+un\s+cliente|\bmai\s+piu\s+(?:compro|comprero|ordino|prenoto)\b",
    ),
    (
        "anger",
        "angry furious livid fuming outraged disgusted appalled pissed enraged seething worst"
        " disgusting disgraceful appalling pathetic shocking terrible awful horrible"
        " unacceptable enough",
        r"\b(?:i'?m|i\s+am|im|we'?re|we\s+are|i\s+feel)\s+(?:so\s+|really\s+|very\s+"
        r"|absolutely\s+|extremely\s+|bloody\s+|fucking\s+|beyond\s+|getting\s+|now\s+)*"
        r"(?:angry|furious|livid|fuming|outraged|disgusted|appalled|pissed|enraged|seething)\b"
        r"|\bworst\s+(?:\w+\s+){0,3}?(?:ever|i'?ve\s+ever|in\s+my\s+life)\b"
        r"|\bthe\s+worst\s+(?:customer\s+service|service|experience|company|bot|app|support)\b"
        r"|\b(?:absolutely|utterly|completely|totally)\s+(?:disgusting|disgraceful|appalling"
        r"|pathetic|shocking|terrible|awful|horrible|unacceptable)\b"
        r"|\b(?:disgusting|disgraceful|appalling|pathetic|shocking)\s+(?:service|company"
        r"|experience|support|behaviou?r|treatment)\b"
        r"|\b(?:i'?ve|i\s+have)\s+had\s+enough\b|\benough\s+is\s+enough\b",
    ),
    (
        "anger",
        "enfad* enoj* furios* furieu* indign* hart* pesimo verguenza colere excede excedee"
        " outre outree degoute degoutee marre honte inadmissible scandaleux wutend sauer"
        " stinksauer emport verargert reicht reichts frechheit unverschamt irritado irritada"
        " revoltado revoltada vergonha pessimo arrabbiato arrabbiata incazzato incazzata"
        " vergogna",
        r"\b(?:estoy|estamos)\s+(?:muy\s+|super\s+|realmente\s+)?(?:enfadad[oa]s?|enojad[oa]s?"
        r"|furios[oa]s?|indignad[oa]s?|hart[oa]s?)\b|\bpesimo\s+servicio|\bes\s+una\s+verguenza"
        r"|\bje\s+suis\s+(?:tres\s+|vraiment\s+|super\s+)?(?:en\s+colere|furieux|furieuse"
        r"|excedee?|outree?|degoutee?)\b|\bj'?en\s+ai\s+marre|\bc'?est\s+(?:une\s+honte"
        r"|inadmissible|scandaleux)"
        r"|\bich\s+bin\s+(?:so\s+|total\s+|echt\s+|wirklich\s+|sehr\s+)?(?:wutend|sauer"
        r"|stinksauer|emport|verargert)\b|\b(?:mir\s+)?reicht'?s\b|\bes\s+reicht\b"
        r"|\b(?:eine\s+)?frechheit\b|\bunverschamt\b"
        r"|\bestou\s+(?:muito\s+|super\s+|realmente\s+)?(?:furios[oa]|irritad[oa]"
        r"|revoltad[oa]|indignad[oa])\b|\bque\s+vergonha|\bpessimo\s+atendimento"
        r"|\bsono\s+(?:molto\s+|davvero\s+|proprio\s+)?(?:arrabbiat[oa]|furios[oa]"
        r"|incazzat[oa]|indignat[oa])\b|\bche\s+vergogna|\bservizio\s+pessimo",
    ),
    (
        "swearing",
        "fuck* fck fcking fckin fuk fukin fuking shit shitty shits shite crap crappy damn"
        " dammit damned damnit goddamn goddamned goddamnit bloody bullshit wtf ffs pissed arse"
        " arsehole asshole bastard bastards"
        " bollocks bugger hell mierda joder jodido jodida carajo hostia hostias puta puto merde"
        " putain bordel scheisse scheiss verdammt kacke arschloch merda porra caralho cazzo"
        " vaffanculo minchia stronzo",
        r"\b(?:fu+c?k\w*|fck\w*|fuk\w*|shit(?:ty|s|e)?|crap(?:py)?|damn(?:ed|it)?|dammit"
        r"|goddamn\w*|bloody|bullshit|wtf|ffs|pissed\s+off|arse(?:hole)?|asshole|bastards?"
        r"|bollocks|bugger|what\s+the\s+hell|the\s+hell)\b"
        r"|\b(?:mierda|joder|jodid[oa]|carajo|hostias?|puta|puto|merde|putain|bordel|scheisse"
        r"|scheiss\w*|verdammt|kacke|arschloch|merda|porra|caralho|cazzo|vaffanculo|minchia"
        r"|stronzo)\b",
    ),
)
_GATE = Gate((triggers, pattern) for _, triggers, pattern in _RULES)
_LABELS = tuple(label for label, _, _ in _RULES)

# Three or more capitals in a word (Latin-1 letters cover the supported languages); two such
# words that are not common abbreviations are a raised voice.
_CAPS = "[A-ZÀ-ÖØ-Þ]"
_CAPS_RUN = re.compile(_CAPS * 3)  # a cheap first look: most turns have no three in a row
_CAPS_WORD = re.compile(rf"\b{_CAPS}{{3,}}\b")
_ABBREVIATIONS = frozenset(
    {
        "ATM", "PIN", "USA", "USD", "GBP", "EUR", "FAQ", "API", "SMS", "PDF", "URL", "VIP",
        "CEO", "ASAP", "GDPR", "IBAN", "BIC", "SWIFT", "VAT", "DVD", "CVV", "NHS", "IRS",
        "HMRC", "SSN", "DNI", "NIF", "NIE", "CPF", "IVA", "MWST", "UPS", "DHL", "TNT", "LOL",
        "OMG", "BTW", "FYI",
    }
)  # fmt: skip


def intensity_cues(text: str) -> tuple[str, ...]:
    """The sorted intensity cues in a turn (see `INTENSITY_CUES`)."""
    if not text:
        return ()
    found: set[str] = set()
    folded = fold(text)
    patterns = _GATE.patterns
    for index in _GATE.select(folded):
        if _LABELS[index] not in found and patterns[index].search(folded):
            found.add(_LABELS[index])
    if "!!" in text or "?!" in text or "!?" in text:
        found.add("exclaiming")
    if _CAPS_RUN.search(text):
        shouted = [w for w in _CAPS_WORD.findall(text) if w not in _ABBREVIATIONS]
        if len(shouted) >= 2:
            found.add("shouting")
    return tuple(sorted(found))
