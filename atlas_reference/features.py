"""Token ids -> (keys, values) for the ATLAS memory, from the model's own token embeddings.

The key of position t is a polynomial feature map of a fixed, seeded projection of token t's
embedding; the value is another seeded projection of token t+1's embedding. Both are computed
once per vocabulary entry, so turning a text into (keys, values) is pure table indexing.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

EMBEDDING_TENSOR = "token_embd.weight"


def _normalise_rows(x: np.ndarray) -> np.ndarray:
    """L2-normalise each row; an all-zero row stays zero rather than becoming NaN."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


def polynomial_features(x: np.ndarray, degree: int) -> np.ndarray:
    """Concat of x**p / sqrt(p!) for p = 1..degree (Taylor terms of the exp kernel)."""
    blocks = [x**p / math.sqrt(math.factorial(p)) for p in range(1, degree + 1)]
    return np.concatenate(blocks, axis=1)


def array_fingerprint(embeddings: np.ndarray, architecture: str = "array") -> str:
    """Fingerprint of an in-memory embedding matrix (used for tests and non-GGUF models)."""
    matrix = np.ascontiguousarray(embeddings, dtype=np.float32)
    return _fingerprint(architecture, matrix.shape, matrix.tobytes())


def _fingerprint(architecture: str, shape: tuple[int, ...] | list[int], raw: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(architecture.encode("utf-8"))
    digest.update(json.dumps([int(n) for n in shape]).encode("ascii"))
    digest.update(raw)
    return digest.hexdigest()


class TokenFeatures:
    """Per-vocabulary key and value tables, built from an embedding matrix [vocab, d_model]."""

    def __init__(
        self,
        embeddings: np.ndarray,
        key_dim: int = 64,
        feature_degree: int = 2,
        seed: int = 0,
        model_fingerprint: str | None = None,
    ) -> None:
        if embeddings.ndim != 2:
            raise ValueError(f"embeddings must be 2-D [vocab, d_model], got {embeddings.shape}")
        if feature_degree < 1 or key_dim % feature_degree:
            raise ValueError("key_dim must be a positive multiple of feature_degree")
        embeddings = np.asarray(embeddings, dtype=np.float32)
        self.vocab_size, self.embedding_length = (int(n) for n in embeddings.shape)
        self.key_dim = key_dim
        self.feature_degree = feature_degree
        self.seed = seed
        self.model_fingerprint = model_fingerprint or array_fingerprint(embeddings)
        self.key_table, self.value_table = self._build_tables(embeddings)

    def _build_tables(self, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d_model = self.embedding_length
        rng = np.random.default_rng(self.seed)
        # Gaussian projections scaled by 1/sqrt(d_model) roughly preserve norms.
        key_proj = rng.standard_normal((d_model, self.key_dim // self.feature_degree))
        value_proj = rng.standard_normal((d_model, self.key_dim))
        scale = 1.0 / math.sqrt(d_model)
        base = _normalise_rows(embeddings @ (key_proj * scale).astype(np.float32))
        keys = _normalise_rows(polynomial_features(base, self.feature_degree))
        values = _normalise_rows(embeddings @ (value_proj * scale).astype(np.float32))
        return np.ascontiguousarray(keys), np.ascontiguousarray(values)

    def pairs(self, token_ids: np.ndarray | list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(keys [n-1, key_dim], values [n-1, key_dim]) for a text of n tokens."""
        ids = np.asarray(token_ids, dtype=np.int64).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"token id out of range 0..{self.vocab_size - 1}")
        if ids.size < 2:
            empty = np.zeros((0, self.key_dim), dtype=np.float32)
            return empty, empty.copy()
        return self.key_table[ids[:-1]], self.value_table[ids[1:]]

    @classmethod
    def from_gguf(
        cls, path: str | Path, key_dim: int = 64, feature_degree: int = 2, seed: int = 0
    ) -> TokenFeatures:
        """Read ``token_embd.weight`` from a GGUF model and build the tables."""
        from gguf import GGUFReader  # imported lazily: only the server needs it
        from gguf.quants import dequantize

        reader = GGUFReader(str(path))
        tensor = next((t for t in reader.tensors if t.name == EMBEDDING_TENSOR), None)
        if tensor is None:
            raise ValueError(f"{path}: no {EMBEDDING_TENSOR} tensor")
        # GGUF lists dims fastest-first ([d_model, vocab]); dequantize gives numpy order
        # [vocab, d_model], i.e. one row per token.
        d_model, vocab = (int(n) for n in tensor.shape[:2])
        matrix = np.asarray(dequantize(tensor.data, tensor.tensor_type), dtype=np.float32)
        matrix = matrix.reshape(vocab, d_model)
        fingerprint = _fingerprint(
            _architecture(reader), [d_model, vocab], np.ascontiguousarray(tensor.data).tobytes()
        )
        return cls(matrix, key_dim, feature_degree, seed, model_fingerprint=fingerprint)


def _architecture(reader: object) -> str:
    field = reader.fields.get("general.architecture")  # type: ignore[attr-defined]
    if field is None:
        return "unknown"
    return bytes(field.parts[field.data[0]]).decode("utf-8", errors="replace")
