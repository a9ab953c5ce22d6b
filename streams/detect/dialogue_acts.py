"""Dialogue acts: turns that only decline, close, thank, greet or acknowledge.

"No, thank you", "nope, that's all", "I don't mind" and "bye!" are how conversations go,
not complaints, yet a sentiment model reads "no" and "not" as negative. A turn made only of
such formulas (in en, es, fr, de, pt, it) is recognised here so the detect stage never reads
it as dissatisfaction. A turn that also says anything else ("no, that's wrong", "thanks for
nothing") is not an act turn: its words are judged as usual.

A turn is read left to right, one formula at a time, with separators and filler ("oh",
"well", "please", ":)") in between; at each position the longest formula is taken and the
reading never backtracks across formulas, so the cost is linear in the turn; only the formulas
that can start with the word at hand are tried. Only short turns whose every word occurs in
some formula are read at all: a set look-up turns the others away in about a microsecond, and
an act turn takes a few microseconds more. Formulas are written against folded text
(`normalize.fold`) with split contractions joined ("do n't" becomes "don't").
"""

from __future__ import annotations

import re
from functools import cache

from warmhandoff.streams.detect.gate import words
from warmhandoff.streams.detect.normalize import fold

#: Acts in the order a turn made of several is labelled: "no, that's all, thanks" closes.
ACTS = ("closing", "decline", "no_preference", "apology", "thanks", "acknowledgement", "greeting")

#: Longer turns are requests or complaints with a politeness formula in them, never only acts.
MAX_CHARS = 160

_THANKS_TAIL = (
    r"(?: (?:so|very|ever so) much| a lot| a bunch| again| anyway| (?:for|4) (?:all )?(?:of )?"
    r"(?:your|the|that|this|it|everything|all)(?: (?:help|time|assistance|patience|info"
    r"|information))?)*"
)

# (act, formulas). Within an act, a formula that starts like another comes first.
_FORMULAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "closing",
        (
            r"(?:i think )?(?:that|this|it)(?:'?s| is| was|'?ll be| will be| would be"
            r"| should be) (?:all|it|everything)(?: (?:i|we) (?:need|needed|wanted|require"
            r"|required|was looking for))?(?: (?:for (?:now|today|the moment)|today))?",
            r"(?:i|we) (?:have|'ve got|have got|got) (?:all|everything) (?:i|we) need(?:ed)?",
            r"(?:i'?m|i am|we'?re|we are) all (?:set|good|sorted)|all (?:set|sorted)",
            r"(?:good )?bye(?: bye| for now| then)?|goodbye|see (?:you|ya)(?: (?:later|soon))?"
            r"|take care|talk (?:to you )?(?:later|soon)|have a (?:good|nice|great|lovely"
            r"|wonderful|pleasant|fantastic) (?:day|one|evening|night|weekend|trip|stay|time"
            r"|afternoon|morning|holiday)|(?:and )?you too|same to you|enjoy your (?:day"
            r"|evening|weekend|trip|stay)",
            # es fr de pt it
            r"adios|hasta (?:luego|pronto|manana)|(?:(?:eso|esto) )?es todo|chao|chau"
            r"|que (?:tengas?|tenga) (?:un )?buen (?:dia|fin de semana)",
            r"au revoir|a (?:bientot|plus tard)|c'?est tout|ce sera tout|bonne (?:journee|soiree"
            r"|fin de journee)",
            r"tschuss|auf wiedersehen|bis (?:dann|bald|spater)|das (?:ist|war) (?:alles|es)"
            r"|das war'?s|schonen (?:tag|abend|wochenende)",
            r"tchau|ate (?:logo|mais|breve)|(?:isso )?e (?:so|tudo)(?: isso)?|era so isso"
            r"|tenha um bom dia",
            r"arrivederci|a presto|(?:questo )?e tutto|buona (?:giornata|serata)",
        ),
    ),
    (
        "decline",
        (
            r"no (?:need|thanks?|thank you|thx)|no|nope|nah|none(?: for now)?",
            r"not (?:now|today|yet|just yet|right now|at (?:the|this) (?:moment|time)|for now"
            r"|really|necessary|needed|at all|this time)",
            r"(?:that|it)(?:'?s| is) not (?:necessary|needed|required)|that'?s not needed",
            r"(?:that|it) (?:won'?t|will not) be (?:necessary|needed)",
            r"(?:i|we) (?:don'?t|do not) (?:need|want) (?:anything|that|it|one|any|them|more"
            r"|to)(?: (?:else|more|right now|now|today|at the moment|for now|thanks))?",
            r"(?:i|we) (?:don'?t|do not)(?: think so)?|i'?m not sure(?: yet)?"
            r"|(?:i'?m|i am) not (?:sure|ready)(?: yet)?",
            r"(?:i'?m|i am|we'?re|we are) (?:good|fine|ok|okay|set)(?: for now| now)?",
            r"nothing(?: (?:else|more|further))?(?: (?:for (?:now|today)|today|right now"
            r"|at the moment))?|maybe (?:later|next time|another time)",
            # es fr de pt it
            r"no gracias|nada(?: (?:mas|por ahora))?|no hace falta|no es necesario"
            r"|(?:estoy|estamos) bien|(?:ahora|todavia|aun|por ahora) no|no por ahora",
            r"non(?: merci)?|rien(?: (?:d'?autre|de plus))?|pas besoin|ce n'?est pas necessaire"
            r"|ca ira|pas (?:maintenant|pour l'?instant|pour le moment)",
            r"nein(?: danke)?|nichts(?: (?:mehr|weiter|anderes))?|nicht notig"
            r"|(?:das )?brauche ich nicht|jetzt nicht|passt schon",
            r"nao(?: obrigad[oa])?|nada mais|nao precisa|nao e necessario|agora nao|estou bem"
            r"|(?:por )?enquanto nao",
            r"no grazie|niente(?: (?:altro|di piu))?|non serve|non e necessario|non ora|sto bene"
            r"|a posto cosi",
        ),
    ),
    (
        "no_preference",
        (
            r"(?:i |we )?(?:really )?(?:don'?t|do not) (?:really )?(?:care|mind)(?: (?:either way"
            r"|which one|which|where|when))?",
            r"(?:it )?(?:doesn'?t|does not|don'?t) (?:really )?matter(?: to me)?",
            r"(?:i have )?no (?:real )?preference|either way|either(?: one| of them)?(?: (?:is"
            r" fine|is ok|will do|works))?|any(?: one| of them)? (?:is fine|will do|works)"
            r"|anything (?:is fine|will do|works)"
            r"|(?:it'?s |it is )?up to you|you (?:choose|pick|decide)|surprise me",
            r"(?:me )?da igual|no importa|cualquiera|peu importe|ca m'?est egal"
            r"|n'?importe (?:lequel|laquelle)|(?:ist )?(?:mir )?egal|tanto faz|nao importa"
            r"|qualquer um|non importa|e uguale|qualsiasi",
        ),
    ),
    (
        "apology",
        (
            r"sorry (?:for|about) (?:the|my|that) (?:confusion|mistake|error|typo|trouble)"
            r"|(?:sorry )?my (?:mistake|bad|apologies)|sorry|oops|whoops",
            r"perdon|perdona|desculpa|scusa(?:te)?|entschuldigung",
        ),
    ),
    (
        "thanks",
        (
            rf"(?:(?:many|big|huge) )?thanks?(?: (?:you|u|ya))?{_THANKS_TAIL}",
            rf"thx|ty|tyvm|cheers|much appreciated|(?:i |we )?(?:really )?appreciate (?:it|that"
            rf"|this|your help|the help)(?: (?:so|very) much)?{_THANKS_TAIL}",
            r"(?:you'?ve|you have) been (?:very |so |really |most |super |extremely )?(?:helpful"
            r"|great|a (?:great|big) help|wonderful|amazing)",
            r"(?:muchas |mil )?gracias(?: (?:por (?:tu|su|la) (?:ayuda|atencion|tiempo)|de nuevo"
            r"|igualmente))?",
            r"merci(?: (?:beaucoup|bien|infiniment|pour (?:votre aide|ton aide|l'?aide)))?",
            r"(?:vielen )?dank(?:e)?(?: (?:schon|sehr|vielmals|fur (?:ihre|deine|die) hilfe))?",
            r"(?:muito )?obrigad[oa](?: pela ajuda)?|valeu",
            r"grazie(?: (?:mille|tante|per l'?aiuto))?",
        ),
    ),
    (
        "acknowledgement",
        (
            r"no (?:problem|worries)|not a problem|ok(?:ay)?(?: then)?|kk?|alright|all right"
            r"|sure(?: thing)?|of course|yes(?: please)?|yeah|yep|yup",
            r"(?:that|it|this)(?:'?s| is| sounds| looks| works| seems)"
            r" (?:(?:so|very|really|all|quite|pretty|super) )?(?:good|great|perfect|fine|ok|okay"
            r"|lovely|wonderful|excellent|fantastic|helpful|useful|brilliant)"
            r"|(?:that|it) works(?: for me)?|works for me",
            r"sounds (?:good|great|perfect|fine|lovely|wonderful)|good to know|got it|gotcha"
            r"|understood|i see|i understand|makes sense|noted|will do|very (?:good|well|helpful)",
            r"great|perfect|excellent|wonderful|lovely|brilliant|fantastic|awesome|amazing|cool"
            r"|nice|fine|good",
            # es fr de pt it
            r"vale|de acuerdo|perfecto|entendido|(?:muy )?bien|claro|si(?: por favor)?|genial"
            r"|estupendo|listo",
            r"d'?accord|parfait|entendu|tres bien|oui(?: merci)?|super|c'?est bon",
            r"alles (?:klar|gut)|gut|verstanden|ja(?: bitte)?|prima|genau|perfekt|in ordnung",
            r"certo|beleza|entendi|perfeito|sim|ta(?: bom)?|otimo|combinado",
            r"va bene|perfetto|capito|d'?accordo|ottimo|benissimo",
        ),
    ),
    (
        "greeting",
        (
            r"(?:hi|hello|hey|hiya)(?: there)?|howdy|good (?:morning|afternoon|evening|day)"
            r"|greetings",
            r"hola|buen(?:os)? dias|buenas(?: (?:tardes|noches))?|bonjour|bonsoir|salut|coucou"
            r"|hallo|guten (?:tag|morgen|abend)|servus|moin|ola|oi|bom dia|boa (?:tarde|noite)"
            r"|ciao|buongiorno|buonasera|salve",
        ),
    ),
)

# Words and marks that may sit between formulas without saying anything.
_FILLER = (
    r"oh|ah+|well|u+m+|u+h+|h+m+|erm|so|actually|then|again|anyway|and|also|just|please|pls"
    r"|plz|por favor|s'?il (?:vous|te) plait|bitte|per favore|lol|haha|(?<=:)d|(?<=:-)d"
)
# Smileys are separators; a sad face is not ("no :(" is not a polite decline).
_SEPARATORS = re.compile(r"[\s,.!?;:~*()\"'-]*")
_SAD_FACE = re.compile(r"[:;=]'?-?[(\[/]|\bd:")
_SPLIT_CONTRACTION = re.compile(r"\s+(n't|'(?:s|m|re|ll|ve|d))\b")


def _compile(formulas: str) -> re.Pattern[str]:
    # A formula ends at a word's end; a space in a formula stands for any run of spaces.
    return re.compile(f"(?:{formulas})(?![a-z0-9'])".replace(" ", r"\s+"))


# Filler last: at one position the longest formula wins, and on a tie the earlier act.
_SOURCES: tuple[tuple[str | None, str], ...] = (
    *((act, "|".join(f"(?:{f})" for f in formulas)) for act, formulas in _FORMULAS),
    (None, _FILLER),
)
_UNITS = tuple((act, _compile(source)) for act, source in _SOURCES)
_RANK = {act: rank for rank, act in enumerate(ACTS)}


def dialogue_act(text: str) -> str | None:
    """The act of a turn made only of declines, closings, thanks, greetings or acknowledgements.

    None when the turn says anything else (or nothing). A turn of several acts is labelled
    by the first of `ACTS` among them.
    """
    if not text or len(text) > MAX_CHARS:
        return None
    folded = fold(text)
    # Most turns have a word no formula has: one set difference (over the word set the other
    # detectors share) turns them away before any pattern runs.
    vocabulary, starts = _word_gate()
    if not words(folded) <= vocabulary or _SAD_FACE.search(folded):
        return None
    if " '" in folded or " n't" in folded:
        folded = _SPLIT_CONTRACTION.sub(r"\1", folded)
    end = len(folded)
    pos = _skip(folded, 0)
    best: str | None = None
    while pos < end:
        word = _WORD.match(folded, pos)
        if word is None:
            return None
        first = word.group()
        longest, act = pos, None
        # Only the formulas that can start with this word are tried.
        for (candidate, pattern), can_start in zip(_UNITS, starts, strict=True):
            if first in can_start:
                unit = pattern.match(folded, pos)
                if unit is not None and unit.end() > longest:
                    longest, act = unit.end(), candidate
        if longest == pos:
            return None
        if act is not None and (best is None or _RANK[act] < _RANK[best]):
            best = act
        pos = _skip(folded, longest)
    return best


def _skip(folded: str, pos: int) -> int:
    """The position after any separators at `pos`."""
    found = _SEPARATORS.match(folded, pos)
    return found.end() if found is not None else pos


# --- the word gate ----------------------------------------------------------------------------
# The words of every string a formula matches, read off the formulas themselves so the gate
# never drifts from them. Formulas use only literals, (?:...) groups, look-behinds, |, ?, *,
# +, [...] classes and escaped punctuation; a repetition taken at most once yields every
# word. A string is kept as its first and last partial word (the words between are complete
# and collected as they appear), so the sets stay small however many strings a formula
# matches.

_Piece = tuple[str] | tuple[str, str]  # (word part,) or (first part, last part)
_WORD = re.compile(r"[a-z0-9]+")
_WORD_CHAR = re.compile(r"[a-z0-9]")
_WORD_PARTS = frozenset({"n", "t"})  # "do n't", tokenised as the other detectors do


@cache
def _word_gate() -> tuple[frozenset[str], tuple[frozenset[str], ...]]:
    """Every word in any formula, and the words each of `_UNITS` can start with."""
    found: set[str] = set(_WORD_PARTS)
    starts = []
    for _, source in _SOURCES:
        pieces, end = _alternatives(source, 0, found)
        if end != len(source):
            raise ValueError(f"unbalanced formula at {end}: {source!r}")
        found.update(part for piece in pieces for part in piece)
        starts.append(frozenset(piece[0] for piece in pieces))
    found.discard("")
    return frozenset(found), tuple(starts)


def _alternatives(source: str, pos: int, found: set[str]) -> tuple[set[_Piece], int]:
    pieces, pos = _sequence(source, pos, found)
    while pos < len(source) and source[pos] == "|":
        more, pos = _sequence(source, pos + 1, found)
        pieces |= more
    return pieces, pos


def _sequence(source: str, pos: int, found: set[str]) -> tuple[set[_Piece], int]:
    pieces: set[_Piece] = {("",)}
    while pos < len(source) and source[pos] not in "|)":
        atom, pos = _atom(source, pos, found)
        if pos < len(source) and source[pos] in "?*+":
            if source[pos] != "+":
                atom = atom | {("",)}
            pos += 1
        pieces = {_join(head, tail, found) for head in pieces for tail in atom}
    return pieces, pos


def _atom(source: str, pos: int, found: set[str]) -> tuple[set[_Piece], int]:
    if source.startswith("(?:", pos):
        inner, pos = _alternatives(source, pos + 3, found)
        return inner, pos + 1
    if source.startswith(("(?<=", "(?<!"), pos):  # a look-behind matches no text of its own
        _, pos = _alternatives(source, pos + 4, set())
        return {("",)}, pos + 1
    char = source[pos]
    if char == "[":
        close = source.index("]", pos)
        return {_char(c) for c in source[pos + 1 : close]}, close + 1
    if char == "\\":
        return {_char(source[pos + 1])}, pos + 2
    if char in "(.":
        raise ValueError(f"unsupported syntax at {pos}: {source!r}")
    return {_char(char)}, pos + 1


def _char(char: str) -> _Piece:
    return (char,) if _WORD_CHAR.match(char) else ("", "")


def _join(head: _Piece, tail: _Piece, found: set[str]) -> _Piece:
    if len(head) == 1:
        return (head[0] + tail[0], *tail[1:])
    if len(tail) == 1:
        return (head[0], head[1] + tail[0])
    found.add(head[1] + tail[0])
    return (head[0], tail[1])
