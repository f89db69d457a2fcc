"""The ATLAS memory and its features: learning, Muon, linear cost, isolation, determinism."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from atlas_models import default_model_path
from atlas_reference.features import TokenFeatures, polynomial_features
from atlas_reference.memory import AtlasMemory, MemoryConfig, newton_schulz


def _read(memory: AtlasMemory, features: TokenFeatures, ids: np.ndarray, **kw: int):
    keys, values = features.pairs(ids)
    return memory.memorize(keys, values, **kw)


# -- features -------------------------------------------------------------------------------


def test_pairs_are_table_lookups_with_unit_norm(features: TokenFeatures) -> None:
    ids = np.array([5, 9, 5, 11])
    keys, values = features.pairs(ids)
    assert keys.shape == values.shape == (3, 64)
    assert keys.dtype == values.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(keys, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(values, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(keys[0], keys[2])  # same token, same key
    np.testing.assert_array_equal(values[0], features.value_table[9])  # value = next token


def test_short_texts_and_bad_ids(features: TokenFeatures) -> None:
    for ids in ([], [3]):
        keys, values = features.pairs(ids)
        assert keys.shape == values.shape == (0, 64)
    with pytest.raises(ValueError):
        features.pairs([0, features.vocab_size])


def test_polynomial_feature_map_layout() -> None:
    x = np.array([[2.0, 3.0]])
    np.testing.assert_allclose(polynomial_features(x, 2), [[2, 3, 4 / 2**0.5, 9 / 2**0.5]])


def test_features_are_seeded(small_embeddings: np.ndarray) -> None:
    a = TokenFeatures(small_embeddings, seed=0)
    b = TokenFeatures(small_embeddings, seed=0)
    c = TokenFeatures(small_embeddings, seed=1)
    np.testing.assert_array_equal(a.key_table, b.key_table)
    assert not np.array_equal(a.key_table, c.key_table)
    assert a.model_fingerprint == c.model_fingerprint  # the model, not the projection


@pytest.mark.skipif(not default_model_path().is_file(), reason="SmolLM2 GGUF not downloaded")
def test_features_from_the_real_gguf() -> None:
    features = TokenFeatures.from_gguf(default_model_path())
    assert (features.vocab_size, features.embedding_length) == (49152, 576)
    assert features.key_table.shape == features.value_table.shape == (49152, 64)
    assert len(features.model_fingerprint) == 64
    keys, _ = features.pairs([1, 2, 3])
    np.testing.assert_allclose(np.linalg.norm(keys, axis=1), 1.0, rtol=1e-5)
    # Rows are tokens: distinct tokens get distinct keys.
    assert len({row.tobytes() for row in features.key_table[:1000]}) > 990


# -- Muon -----------------------------------------------------------------------------------


def _with_singular_values(rows: int, cols: int, singular: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(0)
    u, _ = np.linalg.qr(rng.standard_normal((rows, len(singular))))
    v, _ = np.linalg.qr(rng.standard_normal((cols, len(singular))))
    return ((u * singular) @ v.T).astype(np.float32)


@pytest.mark.parametrize("shape", [(256, 64), (64, 256), (64, 32)])
def test_newton_schulz_is_near_orthogonal(shape: tuple[int, int]) -> None:
    """A matrix with condition number 100 comes out with every singular value near 1."""
    rank = min(shape)
    g = _with_singular_values(*shape, np.logspace(-2, 0, rank))
    singular = np.linalg.svd(newton_schulz(g, 5), compute_uv=False)
    # Muon's 5-step quintic trades exactness for speed: it lands in ~0.7..1.2, not on 1.
    assert singular.min() > 0.5 and singular.max() < 1.3, singular
    assert abs(np.median(singular) - 1.0) < 0.3


def test_newton_schulz_keeps_the_singular_vectors() -> None:
    g = np.random.default_rng(1).standard_normal((64, 32)).astype(np.float32)
    u, _, vt = np.linalg.svd(g, full_matrices=False)
    ortho, target = newton_schulz(g), u @ vt  # NS approximates U V^T
    cosine = np.sum(ortho * target) / (np.linalg.norm(ortho) * np.linalg.norm(target))
    assert cosine > 0.95


# -- learning -------------------------------------------------------------------------------


def test_rereading_a_text_lowers_the_loss(memory, features, text_ids) -> None:
    first = _read(memory, features, text_ids)
    second = _read(memory, features, text_ids)
    assert first.omega_loss is not None and second.omega_loss is not None
    assert second.omega_loss < 0.75 * first.omega_loss


def test_counters_and_fingerprint(memory, features, text_ids) -> None:
    start = memory.fingerprint
    assert (memory.tokens_memorized, memory.updates, memory.omega_loss) == (0, 0, None)
    report = _read(memory, features, text_ids)
    assert report.tokens == 256 and report.updates == 16  # 256 positions / chunk 16
    assert (memory.tokens_memorized, memory.updates) == (256, 16)
    assert memory.omega_loss == report.omega_loss
    assert memory.fingerprint != start
    assert memory.parameters == 64 * 256 * 2 + 256 + 64 and memory.nbytes == 4 * memory.parameters


def test_too_short_text_changes_nothing(memory, features) -> None:
    before = memory.fingerprint
    report = _read(memory, features, np.array([4]))
    assert (report.tokens, report.updates, report.omega_loss) == (0, 0, None)
    assert memory.fingerprint == before and memory.tokens_memorized == 0


def test_reset_restores_the_seeded_state(memory, features, text_ids) -> None:
    fresh = memory.fingerprint
    first = _read(memory, features, text_ids).omega_loss
    memory.reset()
    assert memory.fingerprint == fresh
    assert (memory.tokens_memorized, memory.updates, memory.omega_loss) == (0, 0, None)
    assert _read(memory, features, text_ids).omega_loss == first  # momentum reset too


def test_memories_are_deterministic(features, text_ids) -> None:
    a, b = (AtlasMemory(MemoryConfig(), "m") for _ in range(2))
    assert _read(a, features, text_ids).omega_loss == _read(b, features, text_ids).omega_loss
    assert a.fingerprint == b.fingerprint


def test_two_memories_never_see_each_others_text(features, text_ids, other_text_ids) -> None:
    a, b = AtlasMemory(MemoryConfig(), "m"), AtlasMemory(MemoryConfig(), "m")
    untouched = b.fingerprint
    _read(a, features, text_ids)
    assert b.fingerprint == untouched and b.tokens_memorized == 0
    _read(b, features, other_text_ids)
    # b now matches a fresh memory that read only b's text: nothing of a's leaked in.
    control = AtlasMemory(MemoryConfig(), "m")
    _read(control, features, other_text_ids)
    assert b.fingerprint == control.fingerprint != a.fingerprint


def test_cost_per_token_is_constant(features) -> None:
    """Work (positions in gradient steps) is bounded per token and linear in the length."""
    config = MemoryConfig(window_size=64, chunk_size=16)
    ids = np.random.default_rng(3).integers(0, features.vocab_size, size=4097)
    work = {}
    for n in (1024, 4096):
        report = _read(AtlasMemory(config, "m"), features, ids[: n + 1])
        work[n] = report.work
        assert report.updates == n // 16
        assert report.work <= report.updates * config.window_size
    assert 3.8 < work[4096] / work[1024] < 4.2


def test_window_size_argument_bounds_the_work(features, text_ids) -> None:
    narrow = _read(AtlasMemory(MemoryConfig(), "m"), features, text_ids, window_size=16)
    assert narrow.work == 256  # each of the 16 steps sees exactly its own 16 positions
    with pytest.raises(ValueError):
        _read(AtlasMemory(MemoryConfig(), "m"), features, text_ids, window_size=0)


def test_concurrent_memorize_calls_serialise(features, text_ids, other_text_ids) -> None:
    shared = AtlasMemory(MemoryConfig(), "m")
    threads = [threading.Thread(target=_read, args=(shared, features, ids))
               for ids in (text_ids, other_text_ids, text_ids, other_text_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert shared.tokens_memorized == 2 * (256 + 128)
    assert shared.updates == 2 * (16 + 8)


def test_configure_changes_hyperparameters_only(memory) -> None:
    assert memory.configure(learning_rate=0.01).learning_rate == 0.01
    with pytest.raises(ValueError):
        memory.configure(key_dim=32)
    with pytest.raises(ValueError):
        memory.configure(momentum=1.5)
