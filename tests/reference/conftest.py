"""Fixtures for the ATLAS memory tests: small random embeddings, so no model is needed."""

from __future__ import annotations

import numpy as np
import pytest

from atlas_reference.features import TokenFeatures
from atlas_reference.memory import AtlasMemory, MemoryConfig

SMALL_VOCAB = 512
SMALL_D_MODEL = 48


@pytest.fixture(scope="session")
def small_embeddings() -> np.ndarray:
    return np.random.default_rng(1234).standard_normal((SMALL_VOCAB, SMALL_D_MODEL)).astype(
        np.float32
    )


@pytest.fixture(scope="session")
def features(small_embeddings: np.ndarray) -> TokenFeatures:
    """Features with the default key_dim (64) and feature_degree (2)."""
    return TokenFeatures(small_embeddings, key_dim=64, feature_degree=2, seed=0)


@pytest.fixture(scope="session")
def text_ids() -> np.ndarray:
    """A 257-token 'text' (256 key/value pairs)."""
    return np.random.default_rng(7).integers(0, SMALL_VOCAB, size=257)


@pytest.fixture(scope="session")
def other_text_ids() -> np.ndarray:
    return np.random.default_rng(8).integers(0, SMALL_VOCAB, size=129)


@pytest.fixture
def memory(features: TokenFeatures) -> AtlasMemory:
    return AtlasMemory(MemoryConfig(), features.model_fingerprint)


@pytest.fixture
def tiny_memory(small_embeddings: np.ndarray) -> AtlasMemory:
    """A small memory (key 16, hidden 24) whose file is small enough to flip every byte of."""
    tiny = TokenFeatures(small_embeddings, key_dim=16, feature_degree=2, seed=3)
    mem = AtlasMemory(MemoryConfig(key_dim=16, hidden_dim=24), tiny.model_fingerprint)
    keys, values = tiny.pairs(np.arange(40) % tiny.vocab_size)
    mem.memorize(keys, values)
    return mem
