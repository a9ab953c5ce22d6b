"""Negative sentiment measured on data sets the model never saw: leave one group out.

The sentiment model learns from every labelled set of the development data, so its scores
there are in-sample and measure nothing. Here each group of sets is held out in turn: a model
trained by the same recipe on every other set scores the group's sets, and only those scores
are reported.

Groups (sets of one origin share authors, topics and labelling, so they leave together):

- `tweeteval`: TweetEval sentiment, emotion and offensive (validation splits);
- `vader`: VADER's ground truth (tweets, Amazon, movie and NYT snippets).

Banking77 and CLINC150 queries, every one a neutral example in training, stay in the training
of both folds: they teach what a calm support request looks like and carry no sentiment label
of either group. Whatever the recipe tunes (the shipped one: its operating point) is tuned on
the fold's training sets only. Support turns that are never in training (NLU++, MultiWOZ
customer turns) are scored by each fold's model too, as a false-alarm check.

Figures at the policy's `negative_sentiment` threshold (a score at or below it is negative)
are `n`, `positives`, `tp`, `fp`, `fn`, `tn`, `precision`, `recall`, `f1`, and `auc` (ranking
by the negated score; None when one class is empty). Training needs the `train` extra
(scikit-learn, scipy).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from warmhandoff.streams.lab.eval.metrics import BinaryCounts, roc_auc
from warmhandoff.streams.lab.training import sentiment as training

#: Held-out group → the training sources it is made of.
GROUPS: dict[str, tuple[str, ...]] = training.GROUPS

Scorer = Callable[[str], float]


class Recipe(Protocol):
    """How to read the training sources of a data folder and train a scorer on some of them."""

    @property
    def command(self) -> str:
        """The training command the recipe stands for."""
        ...

    def load(self, data: Path) -> list[training.Source]:
        """Every training source found under `data`, weighted as the recipe weighs them."""
        ...

    def train(self, sources: list[training.Source]) -> Scorer:
        """A scorer (text → score in [-1, 1], negative is unhappy) trained on `sources`."""
        ...


class ShippedRecipe:
    """The recipe the shipped model is trained by (the training script's defaults)."""

    def __init__(
        self,
        settings: training.Settings | None = None,
        featurize: training.Featurizer | None = None,
    ) -> None:
        self.settings = settings or training.Settings()
        # Features depend on the text only: every fold reads them from one cache.
        self.featurize = featurize or training.Featurizer()

    @property
    def command(self) -> str:
        """The training command with these settings."""
        return training.command(self.settings)

    def load(self, data: Path) -> list[training.Source]:
        """The training sources under `data`, weighted by the settings."""
        return training.reweight(training.load_sources(data), self.settings.weights)

    def train(self, sources: list[training.Source]) -> Scorer:
        """The detector's score under a model trained on `sources`."""
        model = training.train(sources, self.settings, self.featurize)
        return lambda text: training.score(text, model)


def leave_one_dataset_out(
    data: Path, threshold: float = -0.6, recipe: Recipe | None = None
) -> dict[str, Any] | None:
    """Figures of every group held out of training in turn; None when no group is there.

    `threshold` is the score at or below which the policy's `negative_sentiment` trigger
    fires. The result: `threshold`, `recipe` (the training command), `always_trained` (the
    neutral query sets in every fold's training) and `groups.<group>`: `held_out` (its
    sources), `training` (source → rows) and `training_rows` of the fold's model, `sets.<key>`
    (the figures, keyed as `warmhandoff eval` keys data sets: "tweeteval_sentiment") and
    `unseen_support_turns.<key>` (`n`, `flagged`, `share` at the threshold).
    """
    recipe = recipe or ShippedRecipe()
    sources = recipe.load(data)
    grouped = {name for names in GROUPS.values() for name in names}
    support = training.support_turns(data)
    report: dict[str, Any] = {
        "threshold": threshold,
        "recipe": recipe.command,
        "always_trained": [s.name for s in sources if s.name not in grouped],
        "groups": {},
    }
    for group, names in GROUPS.items():
        held = [source for source in sources if source.name in names]
        rest = [source for source in sources if source.name not in names]
        labelled = [s for s in rest if s.name in grouped]
        if not held or not labelled:
            continue
        scorer = recipe.train(rest)
        sets = {}
        for source in held:
            truth = [example.negative for example in source.examples]
            scores = [scorer(example.text) for example in source.examples]
            sets[source.name.replace("/", "_")] = figures(truth, scores, threshold)
        unseen = {}
        for name, texts in support.items():
            flagged = sum(scorer(text) <= threshold for text in texts)
            unseen[name.replace("/", "_")] = {
                "n": len(texts),
                "flagged": flagged,
                "share": round(flagged / len(texts), 4),
            }
        report["groups"][group] = {
            "held_out": [source.name for source in held],
            "training": {source.name: len(source.examples) for source in rest},
            "training_rows": sum(len(source.examples) for source in rest),
            "sets": sets,
            "unseen_support_turns": unseen,
        }
    return report if report["groups"] else None


def figures(truth: Sequence[bool], scores: Sequence[float], threshold: float) -> dict[str, Any]:
    """Confusion counts, precision, recall and F1 at `threshold`, and the AUC of -score."""
    counts = BinaryCounts.of(truth, (score <= threshold for score in scores)).as_dict()
    auc = roc_auc([-score for score in scores], truth)
    return counts | {"auc": None if auc is None else round(auc, 4)}
