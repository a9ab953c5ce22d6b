"""Per-turn sentiment: a small learned model over words and VADER's scores.

Two logistic regressions, one for "negative" and one for "positive" (each against the rest),
score a turn from

- its words, lowercased, with words in the scope of a negation ("not", "never", "n't", up to
  the next punctuation or "but") kept apart from the same words outside one;
- VADER's compound, negative and positive scores (vaderSentiment: a lexicon and rule model
  tuned on social media, with emoji and emoticons), so words the training data never saw
  still count.

Words are read the way people type them in chats and tweets: "@user" handles and links are
dropped, "#hashtag" is its word, emoji are words, and "do n't" (text split by a tokeniser)
reads "don't".

Their weights live in `sentiment_model.json` (package data), written by
`python -m warmhandoff.streams.lab.training.sentiment`, which records the training data, its
licences and the figures measured on data each model never saw (leave one dataset out, and
cross-validated) in the same file. Inference is dictionary look-ups in pure Python; nothing is
downloaded.

Support conversations are not what VADER and the training data (tweets, reviews) know;
corrected here:

- words that are requests, politeness or bare answers when a customer says them to a support
  bot ("help", "please", "sorry", "I'd like", "no") carry valence in VADER, so "can you help
  me with my bill?" scored +0.40; they are neutral in this module's analyzer and the model
  gives them no weight;
- declining and closing ("no, not right now", "nothing else", "that's all", "it doesn't
  matter") answer the bot's question; their negations say nothing about the customer's
  mood, so those phrases are not read;
- frustration is often said without any negative word ("this is the third time I ask",
  "still not working"); each such phrase adds a fixed amount to the negative log-odds. Tweets
  and reviews hardly contain these phrases, so the amount is set here, not learned;
- a question about a problem ("why did my payment fail?", "is there a problem with my
  card?") asks for an explanation: the malfunction it names is its topic, not the customer's
  feeling, so in a turn that ends by asking, without "!", words such as "fail", "problem" and
  "wrong" are not read (affect words and frustration phrases still are).

`sentiment()` is in [-1, 1]: a falling, piecewise-linear function of `negative_probability()`
once a turn is more likely negative than a turn without any sentiment, placed so that the
policy's default threshold (-0.6) sits at the model's operating point (so ranking turns by it
ranks them by the negative model); near zero for neutral turns; up to +1 for positive ones
(the positive model, faded out as the negative probability rises).
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from warmhandoff.streams.detect.fastvader import FastAnalyzer
from warmhandoff.streams.detect.gate import words as word_set
from warmhandoff.streams.detect.normalize import fold

MODEL_FILE = "sentiment_model.json"
#: Bumped when what the model reads changes (`prepare`, `tokens`, `words`, `vader_scores`, the
#: neutral words); a model file trained for another version is refused.
FEATURES_VERSION = 3

# VADER's rules look back and forth around every lexicon word (its own implementation costs
# about 30 ms for 1,000 words), so a long message is scored on its opening and its closing,
# where greetings, the complaint and the sign-off sit: the cost per turn stays bounded.
_HEAD_CHARS = 700
_TAIL_CHARS = 300

_ANALYZER = FastAnalyzer()

# Requests, politeness and bare answers in support conversations, not feelings: "can you
# help me", "sorry, what was that?", "no" (to "anything else?"). VADER rates them (help +1.7,
# sorry -0.3, no -1.2) and tweets teach the same, so they carry no weight here; "no" still
# negates what follows it. ("Nope" and "nah" are "no" said casually.)
NEUTRAL_WORDS = ("help", "please", "pls", "plz", "support", "sorry", "no", "nope", "nah")
for _word in NEUTRAL_WORDS:
    _ANALYZER.lexicon.pop(_word, None)
# Customer-service words VADER's lexicon lacks or rates too mildly.
_ANALYZER.lexicon.update(
    {
        "useless": -2.4,
        "ridiculous": -2.2,
        "rubbish": -2.0,
        "unacceptable": -2.6,
        "incompetent": -2.5,
        "nonsense": -1.8,
        "waste": -1.8,
        "unhelpful": -2.0,
        "frustrating": -2.2,
        "frustrated": -2.2,
        "annoying": -2.0,
        "disappointed": -2.2,
        "disappointing": -2.2,
    }
)
_ANALYZER.reindex()

# Frustration said without a negative word; each match adds _PHRASE_LOGIT to the negative
# log-odds. A plain problem report ("my card doesn't work") is not one: support queries are
# full of them, and the detect stage's dissatisfaction cue covers them. Written against
# folded text.
_FRUSTRATION = re.compile(
    r"\b(?:still\s+(?:not|no|never|hasn'?t|haven'?t|isn'?t|doesn'?t|don'?t|can'?t|didn'?t|won'?t)"
    r"\s+(?:\w+\s+)?(?:work|working|received?|got|gotten|heard|fixed|resolved|arrived"
    r"|answered|sorted|refunded|helped|showing|loading|charged|solved)"
    r"|still\s+waiting"
    r"|(?:for|is)\s+the\s+(?:second|third|fourth|fifth|2nd|3rd|4th|5th)\s+time"
    r"|again\s+and\s+again|over\s+and\s+over"
    r"|not\s+what\s+i\s+(?:asked|said|meant)"
    r"|how\s+many\s+times|already\s+(?:told|said|asked|explained)"
    r"|waste\s+of\s+(?:time|money)|fed\s+up|had\s+enough"
    r"|been\s+waiting\s+(?:for\s+)?(?:\w+\s+)?(?:hours|days|weeks|months|ages|forever)"
    r"|(?:no\s*one|nobody)\s+(?:is\s+)?(?:helping|answers|responds|replie[sd]|cares|helps)"
    r"|thanks?\s+(?:you\s+)?for\s+nothing"
    # ("joke" is a positive word to VADER and to tweets)
    r"|(?:what|is|was|are|'s|'re)\s+(?:such\s+|an?\s+)?(?:absolute\s+|complete\s+|total\s+)?"
    r"(?:joke|farce|shambles|disgrace))\b"
)
# Words one of which every `_FRUSTRATION` match holds as a whole word (each alternative's
# first word, or a word between two spaces): turns with none of them skip the scan.
_FRUSTRATION_WORD_TEXT = (
    "still second third fourth fifth 2nd 3rd 4th 5th again over not many already waste fed had"
    " waiting no noone nobody thank thanks joke farce shambles disgrace"
)
_FRUSTRATION_WORDS = frozenset(_FRUSTRATION_WORD_TEXT.split())
# About the evidence of a clearly negative word: one phrase takes a neutral turn to a mild
# negative (about -0.3), two to the policy's threshold.
_PHRASE_LOGIT = 3.5
# "I'd like to know my balance" is a request, not a liking.
_POLITE_LIKE = re.compile(r"\b(would|'d|d)\s+like\b", re.IGNORECASE)
# "No thanks" declines politely; read as thanks, not as negated thanks.
_POLITE_NO = re.compile(r"\bno\b[\s,.!]+(?=thank)", re.IGNORECASE)
# A bare "no" ("No, that's fine", "nope. cheers") answers the bot; VADER, whose negations
# look three words back across punctuation, would read it as negating what follows.
_BARE_NO = re.compile(r"\b(?:(?:no|nope|nah)\s+)*(?:no|nope|nah)\b(?=\s*[,.!;])", re.IGNORECASE)
_NO_WORDS = frozenset(("no", "nope", "nah"))
# Answers to "anything else?" or "which one?" that decline, close or leave the choice to the
# bot. Their negations ("nothing", "not", "doesn't") would otherwise make the customer sound
# unhappy. "Not yet" and "not now" only as the answer itself (at the start of the turn or of
# a sentence): "it has not yet arrived" is a complaint. "Don't care" only where it leaves a
# choice open ("I don't care which", "...as long as", "either way", or said alone).
# Each rule: two sets of folded words, one word of each being in every match (the rule runs
# only on turns that hold both; most turns hold neither), and its pattern.
_DO = frozenset(("do", "does", "did", "dont", "doesnt", "didnt", "don", "doesn", "didn"))
_DECLINES: tuple[tuple[frozenset[str], frozenset[str], re.Pattern[str]], ...] = tuple(
    (frozenset(first.split()), frozenset(second.split()) or _DO, re.compile(pattern, re.I))
    for first, second, pattern in (
        (
            "nothing anything",
            "else more further",
            r"\b(?:nothing|not\s+anything)\s+(?:else|more|further)\b",
        ),
        (
            "that thats",
            "all everything",
            r"\bthat(?:'s|s|\s+is|\s+will\s+be|'ll\s+be|\s+would\s+be|'d\s+be)"
            r"\s+(?:all|everything)\b",
        ),
        (
            "not",
            "now today yet moment",
            r"(?:^|(?<=[.!?,;]))[\s,]*(?:(?:no|nope|nah)\b[\s,.!]*)*"
            r"not\s+(?:right\s+)?(?:now|today|yet|at\s+the\s+moment)\b",
        ),
        ("matter", "", r"\b(?:does|do|did)(?:n't|nt|\s+not)\s+matter\b"),
        ("mind", "", r"\b(?:do|does)(?:n't|nt|\s+not)\s+mind\b"),
        ("preference", "no", r"\bno\s+preference\b"),
        (
            "care",
            "",
            r"\b(?:do|does)(?:n't|nt|\s+not)\s+(?:really\s+)?care\b(?=\s*(?:[.,!]|$|which"
            r"|what|where|when|how|whether|if|as\s+long|about\s+the|either|much))",
        ),
    )
)
_DECLINE_WORDS = frozenset(word for first, _, _ in _DECLINES for word in first)
# Tokenised text ("I do n't know", "it 's"): the clitic goes back on its word.
_CLITIC = re.compile(r"(\w) (n't|'(?:s|m|re|ll|ve|d))\b", re.IGNORECASE)
# Twitter handles and links name someone or something, not a feeling.
_HANDLE_OR_LINK = re.compile(r"@\w+|https?://\S+|www\.\S+")
# A question asks about a problem; the problem is its topic, not the customer's feeling: "why
# did my payment fail?", "is there a problem with my card?" ask for an explanation. Tweets
# taught the model (and VADER rates) "fail", "problem", "wrong" as negative, so in a turn that
# ends by asking (and has no "!") the words that name a malfunction are not read. Affect
# ("useless", "ridiculous", "annoying"), frustration phrases ("still not", "for the third
# time") and statements ("my transfer failed, this is a joke") still count.
_PROBLEM = re.compile(
    r"\b(?:fail(?:s|ed|ing|ures?)?|problems?|issues?|errors?|wrong|broken|declined?|declining"
    r"|denied|rejected|refused|missing|stuck|pending|delayed)\b",
    re.IGNORECASE,
)
# Every `_PROBLEM` match, folded, is one of these words.
_PROBLEM_WORD_TEXT = (
    "fail fails failed failing failure failures problem problems issue issues error errors"
    " wrong broken decline declined declining denied rejected refused missing stuck pending"
    " delayed"
)
_PROBLEM_WORDS = frozenset(_PROBLEM_WORD_TEXT.split())
_QUESTION_START = re.compile(
    # ("what a mess" exclaims)
    r"\s*(?:why|what(?!\s+an?\b)|what's|how|when|where|which|who|whose|is|are|was|were|am|do|does|did"
    r"|can|could|will|would|should|has|have|had|may|might|must|shall)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.?;]+\s+")
# Text that went through JSON or HTML encoding twice ("don\u2019t", "&amp;").
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")

# Words, emoticons, emoji, and the punctuation that ends a negation's scope; "!" and "?" are
# words too (they carry emphasis).
_TOKEN = re.compile(
    r"[:;=8][-'^o]?[()\[\]dpo3/\\|*]+|<3|\w+(?:'\w+)*|[!?]|[.,;:]"
    r"|[\U0001F300-\U0001FAFF\u2600-\u27BF]"
)
_SCOPE_END = frozenset(".,;:")
_NEGATOR_WORDS = (
    "not no never cannot nothing nobody none neither nor nowhere without hardly barely"
    " cant dont doesnt didnt isnt wasnt arent werent wont wouldnt couldnt shouldnt havent"
    " hasnt hadnt aint can't don't doesn't didn't isn't wasn't aren't weren't won't wouldn't"
    " couldn't shouldn't haven't hasn't hadn't ain't mustn't needn't mightn't shan't"
)
_NEGATORS = frozenset(_NEGATOR_WORDS.split())


def prepare(text: str) -> str:
    """The text the model reads: bounded, escapes decoded, handles and links dropped, and
    requests, declines and questions about a problem made plain."""
    if len(text) > _HEAD_CHARS + _TAIL_CHARS:
        text = f"{text[:_HEAD_CHARS]} ... {text[-_TAIL_CHARS:]}"
    if "\\u" in text:
        text = _ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)
    if "&" in text and ";" in text:
        text = html.unescape(text)
    if "\u2019" in text:
        # (VADER's negations and this module's patterns are written with "'".)
        text = text.replace("\u2019", "'")
    if " '" in text or " n'" in text:
        text = _CLITIC.sub(r"\1\2", text)
    if "@" in text or "http" in text or "www." in text:
        text = _HANDLE_OR_LINK.sub(" ", text)
    if "like" in text:
        text = _POLITE_LIKE.sub(r"\1 ask", text)
    # (The word set is the one the detectors share: most turns hold none of these words.)
    present = word_set(fold(text))
    if not _DECLINE_WORDS.isdisjoint(present):
        for first, second, pattern in _DECLINES:
            if not (first.isdisjoint(present) or second.isdisjoint(present)):
                text = pattern.sub(" ", text)
    if "hank" in text:
        text = _POLITE_NO.sub("", text)
    if not _NO_WORDS.isdisjoint(present):
        text = _BARE_NO.sub("", text)
    if not _PROBLEM_WORDS.isdisjoint(present) and asks(text):
        text = _PROBLEM.sub("", text)
    return text


def asks(text: str) -> bool:
    """Whether a turn ends by asking a question ("...?", "why did it fail"), exclaiming nothing."""
    if "!" in text:
        return False
    stripped = text.rstrip()
    if stripped.endswith("?"):
        return True
    return _QUESTION_START.match(_SENTENCE_END.split(stripped)[-1]) is not None


def vader_scores(prepared: str) -> tuple[float, float, float]:
    """VADER's (compound, negative, positive) for prepared text, with this module's lexicon."""
    return _ANALYZER.scores(prepared)


def tokens(prepared: str) -> list[str]:
    """The tokens of prepared text: folded words, emoticons, emoji and punctuation."""
    return _TOKEN.findall(fold(prepared))


def words(prepared: str) -> tuple[list[str], list[str]]:
    """The words of prepared text outside and inside the scope of a negation."""
    return _scopes(tokens(prepared))


def _scopes(tokens: list[str]) -> tuple[list[str], list[str]]:
    plain: list[str] = []
    negated: list[str] = []
    negating = False
    for token in tokens:
        if token in _SCOPE_END:
            negating = False
            continue
        if negating:
            negated.append(token)
            if token in "!?" or token == "but":
                negating = False
        else:
            plain.append(token)
        if token in _NEGATORS:
            negating = True
    return plain, negated


def frustration_phrases(prepared: str) -> int:
    """How many customer-service frustration phrases the text contains."""
    return len(_FRUSTRATION.findall(fold(prepared)))


def _frustration_hits(folded: str, present: frozenset[str]) -> int:
    """`frustration_phrases` of folded text whose word set is `present`."""
    if _FRUSTRATION_WORDS.isdisjoint(present):
        return 0
    return len(_FRUSTRATION.findall(folded))


@dataclass(frozen=True, slots=True)
class Model:
    """Weights of the negative and positive models, and the score's calibration."""

    bias: tuple[float, float]
    vader: tuple[tuple[float, float], tuple[float, float], tuple[float, float]]
    plain: dict[str, tuple[float, float]]
    negated: dict[str, tuple[float, float]]
    #: P(negative) of a turn that shows no sentiment; the score turns negative above it.
    neutral: float
    #: P(negative) below which a turn can score positive.
    positive_below: float
    #: The P(negative) that maps to a score of -0.6 (the policy's default threshold).
    operating_point: float
    meta: dict[str, Any]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Model:
        """Build a model from the JSON the training script writes."""
        if data.get("features_version") != FEATURES_VERSION:
            raise ValueError(
                f"sentiment model has features_version {data.get('features_version')!r},"
                f" this code reads {FEATURES_VERSION}"
            )
        weights = data["weights"]

        def table(entries: dict[str, list[float]]) -> dict[str, tuple[float, float]]:
            return {key: (pair[0], pair[1]) for key, pair in entries.items()}

        compound, negative, positive = (
            tuple(weights["vader"][k]) for k in ("compound", "neg", "pos")
        )
        calibration = data["calibration"]
        if any(
            mark in table for table in (weights["plain"], weights["negated"]) for mark in _SCOPE_END
        ):
            # `words` never yields these, and `logits` relies on it.
            raise ValueError("sentiment model weighs punctuation that ends a negation's scope")
        return cls(
            bias=(weights["bias"][0], weights["bias"][1]),
            vader=(
                (compound[0], compound[1]),
                (negative[0], negative[1]),
                (positive[0], positive[1]),
            ),
            plain=table(weights["plain"]),
            negated=table(weights["negated"]),
            neutral=float(calibration["neutral"]),
            positive_below=float(calibration["positive_below"]),
            operating_point=float(calibration["operating_point"]),
            meta={k: v for k, v in data.items() if k != "weights"},
        )

    def logits(self, text: str) -> tuple[float, float]:
        """Log-odds of (negative, positive) for one turn.

        The same sums as `reference_logits`, with the per-turn shortcuts (see there).
        """
        prepared = prepare(text)
        folded = fold(prepared)
        # The word set the other detectors share (cached): VADER and the phrase scan are
        # skipped on turns that hold none of their words.
        present = word_set(folded)
        zn, zp = self.bias
        compound, neg, pos = _ANALYZER.scores(prepared, present)
        if compound or neg or pos:
            (cn, cp), (nn, np_), (pn, pp) = self.vader
            zn += cn * compound + nn * neg + pn * pos
            zp += cp * compound + np_ * neg + pp * pos
        found = _TOKEN.findall(folded)
        plain_words: list[str]
        negated_words: list[str] = []
        if _NEGATORS.isdisjoint(found):
            # No negation: every token is a plain word (punctuation has no weight).
            plain_words = found
        else:
            plain_words, negated_words = _scopes(found)
        # Presence, not counts: a long turn does not pile up evidence by repeating itself.
        # (dict.fromkeys keeps first-seen order, so the float sums do not depend on the
        # process's string-hash seed, as a set's order would.)
        for pair in filter(None, map(self.plain.get, dict.fromkeys(plain_words))):
            zn += pair[0]
            zp += pair[1]
        for pair in filter(None, map(self.negated.get, dict.fromkeys(negated_words))):
            zn += pair[0]
            zp += pair[1]
        hits = _frustration_hits(folded, present)
        if hits:
            zn += _PHRASE_LOGIT * hits
        return zn, zp

    def reference_logits(self, text: str) -> tuple[float, float]:
        """`logits` computed plainly, for tests: every step runs on every turn."""
        prepared = prepare(text)
        zn, zp = self.bias
        compound, neg, pos = vader_scores(prepared)
        if compound or neg or pos:
            (cn, cp), (nn, np_), (pn, pp) = self.vader
            zn += cn * compound + nn * neg + pn * pos
            zp += cp * compound + np_ * neg + pp * pos
        plain_words, negated_words = words(prepared)
        for table, found in ((self.plain, plain_words), (self.negated, negated_words)):
            for word in dict.fromkeys(found):
                pair = table.get(word)
                if pair is not None:
                    zn += pair[0]
                    zp += pair[1]
        hits = frustration_phrases(prepared)
        if hits:
            zn += _PHRASE_LOGIT * hits
        return zn, zp

    def score(self, negative: float, positive: float) -> float:
        """Map the two probabilities onto [-1, 1] (see the module docstring)."""
        neutral, point = self.neutral, self.operating_point
        # Piecewise linear through (neutral, 0), (point, -0.6) and (1, -1).
        if negative <= neutral:
            score = 0.0
        elif negative <= point:
            score = -0.6 * (negative - neutral) / (point - neutral)
        else:
            score = -0.6 - 0.4 * (negative - point) / (1.0 - point)
        # Positive only as far as the turn is not negative. The sum falls as P(negative)
        # rises, and every turn at or above `positive_below` scores below every turn under
        # it, so ranking by the score ranks negative turns by the negative model.
        if negative < self.positive_below:
            score += positive * (1.0 - negative / self.positive_below)
        return score


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def load_model(path: str | None = None) -> Model:
    """Load the packaged model, or the one at `path`."""
    if path is None:
        raw = files(__package__).joinpath(MODEL_FILE).read_text(encoding="utf-8")
    else:
        with open(path, encoding="utf-8") as handle:
            raw = handle.read()
    return Model.from_json(json.loads(raw))


@cache
def default_model() -> Model:
    """The packaged model, loaded on first use."""
    return load_model()


def probabilities(text: str, model: Model | None = None) -> tuple[float, float]:
    """Return (P(negative), P(positive)) of one customer turn, each in [0, 1]."""
    if not text or text.isspace():
        return 0.0, 0.0
    zn, zp = (model or default_model()).logits(text)
    return _sigmoid(zn), _sigmoid(zp)


def negative_probability(text: str) -> float:
    """Return the probability that one customer turn is negative, in [0, 1]."""
    return probabilities(text)[0]


def sentiment(text: str) -> float:
    """Return the sentiment of one customer turn in [-1, 1] (negative is unhappy)."""
    if not text or text.isspace():
        return 0.0
    model = default_model()
    negative, positive = probabilities(text, model)
    return max(-1.0, min(1.0, model.score(negative, positive)))
