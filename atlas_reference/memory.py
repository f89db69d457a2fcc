"""The ATLAS memory in NumPy: a residual 2-layer MLP trained at test time by the Omega rule.

M(k) = k + W2 @ gelu(W1 @ k + b1) + b2. Each update (one per chunk of ``chunk_size`` positions)
minimises the mean squared recall error ||M(k_i) - v_i||^2 over the last ``window_size``
positions of the text being read, using momentum, weight decay (the forget gate) and Muon's
Newton-Schulz orthogonalised update for the matrices. Work per token is bounded by
window_size / chunk_size, so memory work grows linearly with the text.

Everything is float32 and deterministic, so a memory rebuilt from its saved state continues
bit-exactly as the original.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import threading
import time
from dataclasses import dataclass

import numpy as np

LAYERS = 2
PARAM_NAMES = ("W1", "b1", "W2", "b2")  # fixed order: fingerprint and file layout use it
MOMENTUM_NAMES = tuple(f"momentum_{name}" for name in PARAM_NAMES)
STATE_NAMES = PARAM_NAMES + MOMENTUM_NAMES
MUON_COEFFS = (3.4445, -4.7750, 2.0315)
_INIT_STREAM = 0x4154_4C41  # separates the memory's init stream from the feature projections
_GELU_C = math.sqrt(2.0 / math.pi)

_INT_FIELDS = ("key_dim", "hidden_dim", "feature_degree", "window_size",
               "newton_schulz_steps", "chunk_size", "seed")
_FLOAT_FIELDS = ("learning_rate", "momentum", "weight_decay")
# Fields that decide array shapes or what a key means; changing them needs a new memory.
SHAPE_FIELDS = ("key_dim", "hidden_dim", "feature_degree", "seed")


@dataclass(frozen=True)
class MemoryConfig:
    key_dim: int = 64
    hidden_dim: int = 256
    feature_degree: int = 2
    window_size: int = 256
    learning_rate: float = 0.02
    momentum: float = 0.9
    weight_decay: float = 0.001
    newton_schulz_steps: int = 5
    chunk_size: int = 16
    seed: int = 0

    def __post_init__(self) -> None:
        for name in _INT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be an integer")
        for name in _FLOAT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number")
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite")
        self._check_ranges()

    def _check_ranges(self) -> None:
        checks = {
            "key_dim": self.key_dim >= 1,
            "hidden_dim": self.hidden_dim >= 1,
            "feature_degree": self.feature_degree >= 1,
            "window_size": self.window_size >= 1,
            "learning_rate": 0 < self.learning_rate <= 1,
            "momentum": 0 <= self.momentum < 1,
            "weight_decay": 0 <= self.weight_decay < 1,
            "newton_schulz_steps": 0 <= self.newton_schulz_steps <= 20,
            "chunk_size": self.chunk_size >= 1,
            "seed": self.seed >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"{name} out of range: {getattr(self, name)!r}")

    def to_dict(self) -> dict[str, int | float]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> MemoryConfig:
        """Strict: unknown or missing fields raise ValueError (a file's config must be whole)."""
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(data, dict) or set(data) != names:
            raise ValueError("memory config must have exactly the fields " + ", ".join(names))
        return cls(**data)


@dataclass(frozen=True)
class UpdateReport:
    tokens: int  # positions (key/value pairs) memorised by this call
    updates: int  # optimiser steps taken by this call
    omega_loss: float | None  # mean pre-update window loss over the call's steps
    elapsed_ms: float
    work: int = 0  # positions evaluated by the call's gradient steps (the cost measure)
    cpu_ms: float = 0.0  # CPU time of the calling thread (time.thread_time), immune to contention


@dataclass(frozen=True)
class MemoryState:
    """A consistent copy of everything a memory needs to continue exactly."""

    config: MemoryConfig
    model_fingerprint: str
    arrays: dict[str, np.ndarray]  # STATE_NAMES -> float32 arrays
    tokens_memorized: int
    updates: int
    omega_loss: float | None
    fingerprint: str


# GELU, tanh form. x * x * x, not x**3: NumPy's float32 power is ~100x slower here.
def gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(_GELU_C * (x + 0.044715 * (x * x * x))))


def gelu_grad(x: np.ndarray) -> np.ndarray:
    t = np.tanh(_GELU_C * (x + 0.044715 * (x * x * x)))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _GELU_C * (1.0 + 3 * 0.044715 * x * x)


def newton_schulz(matrix: np.ndarray, steps: int = 5, eps: float = 1e-7) -> np.ndarray:
    """Muon's quintic Newton-Schulz iteration: approximately U V^T of the SVD U S V^T.

    The singular values land near 1 (roughly 0.7..1.2 after 5 steps), not exactly 1: Muon
    trades exactness for a fast, stable iteration.
    """
    a, b, c = MUON_COEFFS
    x = matrix.astype(np.float32) / np.float32(np.linalg.norm(matrix) + eps)
    tall = x.shape[0] > x.shape[1]
    if tall:  # iterate on the smaller Gram matrix
        x = x.T
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return (x.T if tall else x).astype(np.float32)


def _fingerprint(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in PARAM_NAMES:
        digest.update(np.ascontiguousarray(arrays[name], dtype=np.float32).tobytes())
    return digest.hexdigest()


def initial_arrays(config: MemoryConfig) -> dict[str, np.ndarray]:
    """Seeded initial parameters (W2 small so M starts near the identity) and zero momentum."""
    rng = np.random.default_rng([config.seed, _INIT_STREAM])
    k, h = config.key_dim, config.hidden_dim
    params = {
        "W1": rng.standard_normal((h, k)) / math.sqrt(k),
        "b1": np.zeros(h),
        "W2": rng.standard_normal((k, h)) * (0.01 / math.sqrt(h)),
        "b2": np.zeros(k),
    }
    arrays = {name: value.astype(np.float32) for name, value in params.items()}
    for name in PARAM_NAMES:
        arrays[f"momentum_{name}"] = np.zeros_like(arrays[name])
    return arrays


def expected_shapes(config: MemoryConfig) -> dict[str, tuple[int, ...]]:
    k, h = config.key_dim, config.hidden_dim
    shapes = {"W1": (h, k), "b1": (h,), "W2": (k, h), "b2": (k,)}
    shapes.update({f"momentum_{name}": shape for name, shape in list(shapes.items())})
    return shapes


class AtlasMemory:
    """One ATLAS memory. Thread-safe: memorize, reset, configure and snapshot serialise."""

    def __init__(self, config: MemoryConfig | None = None, model_fingerprint: str = "") -> None:
        self.config = config or MemoryConfig()
        self.model_fingerprint = model_fingerprint
        self._lock = threading.Lock()
        self._set_state(initial_arrays(self.config), 0, 0, None)

    # -- state -----------------------------------------------------------------------------

    def _set_state(
        self, arrays: dict[str, np.ndarray], tokens: int, updates: int, loss: float | None
    ) -> None:
        self._arrays = {name: np.array(arrays[name], dtype=np.float32) for name in STATE_NAMES}
        self._tokens = tokens
        self._updates = updates
        self._omega_loss = loss
        self._fingerprint = _fingerprint(self._arrays)

    def snapshot(self) -> MemoryState:
        with self._lock:
            return MemoryState(
                config=self.config,
                model_fingerprint=self.model_fingerprint,
                arrays={name: value.copy() for name, value in self._arrays.items()},
                tokens_memorized=self._tokens,
                updates=self._updates,
                omega_loss=self._omega_loss,
                fingerprint=self._fingerprint,
            )

    def state_arrays(self) -> dict[str, np.ndarray]:
        return self.snapshot().arrays

    @classmethod
    def from_state(cls, state: MemoryState) -> AtlasMemory:
        shapes = expected_shapes(state.config)
        for name in STATE_NAMES:
            if state.arrays[name].shape != shapes[name]:
                raise ValueError(f"{name}: shape {state.arrays[name].shape} != {shapes[name]}")
        memory = cls(state.config, state.model_fingerprint)
        memory._set_state(state.arrays, state.tokens_memorized, state.updates, state.omega_loss)
        return memory

    def reset(self) -> None:
        """Back to the seeded initial state with zero counters (the config is kept)."""
        with self._lock:
            self._set_state(initial_arrays(self.config), 0, 0, None)

    def configure(self, **changes: int | float) -> MemoryConfig:
        """Change hyperparameters (not the shape fields) for future updates."""
        bad = set(changes) & set(SHAPE_FIELDS)
        if bad:
            raise ValueError(f"cannot change {sorted(bad)} of an existing memory")
        with self._lock:
            self.config = dataclasses.replace(self.config, **changes)
            return self.config

    # -- read-only views --------------------------------------------------------------------

    @property
    def tokens_memorized(self) -> int:
        return self._tokens

    @property
    def updates(self) -> int:
        return self._updates

    @property
    def omega_loss(self) -> float | None:
        return self._omega_loss

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def parameters(self) -> int:
        return sum(self._arrays[name].size for name in PARAM_NAMES)

    @property
    def nbytes(self) -> int:
        return sum(self._arrays[name].nbytes for name in PARAM_NAMES)

    @property
    def layers(self) -> int:
        return LAYERS

    @property
    def dims(self) -> dict[str, int]:
        """What a memory file must match to be loaded into this memory's place."""
        c = self.config
        return {"layers": LAYERS, "key_dim": c.key_dim, "hidden_dim": c.hidden_dim,
                "feature_degree": c.feature_degree}

    # -- maths ------------------------------------------------------------------------------

    def recall(self, keys: np.ndarray) -> np.ndarray:
        """M(k) for each row of keys."""
        with self._lock:
            return self._forward(np.asarray(keys, dtype=np.float32))[0]

    def _forward(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = self._arrays
        pre = keys @ a["W1"].T + a["b1"]
        act = gelu(pre)
        return keys + act @ a["W2"].T + a["b2"], pre, act

    def _loss_and_grads(
        self, keys: np.ndarray, values: np.ndarray
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Mean over positions of ||M(k) - v||^2, and its gradients."""
        out, pre, act = self._forward(keys)
        err = out - values
        loss = float(np.mean(np.sum(err * err, axis=1)))
        d_out = err * np.float32(2.0 / len(keys))
        d_pre = (d_out @ self._arrays["W2"]) * gelu_grad(pre)
        grads = {"W1": d_pre.T @ keys, "b1": d_pre.sum(axis=0),
                 "W2": d_out.T @ act, "b2": d_out.sum(axis=0)}
        return loss, grads

    def _step(self, grads: dict[str, np.ndarray]) -> None:
        c, a = self.config, self._arrays
        lr, decay = np.float32(c.learning_rate), np.float32(1.0 - c.weight_decay)
        for name in PARAM_NAMES:
            buf = a[f"momentum_{name}"]
            buf *= np.float32(c.momentum)
            buf += grads[name].astype(np.float32)
            if buf.ndim == 2:  # Muon: orthogonalised momentum, scaled for the matrix shape
                rows, cols = buf.shape
                update = newton_schulz(buf, c.newton_schulz_steps)
                update *= np.float32(math.sqrt(max(1.0, rows / cols)))
            else:  # biases take plain momentum
                update = buf
            a[name] *= decay
            a[name] -= lr * update

    def memorize(
        self, keys: np.ndarray, values: np.ndarray, window_size: int | None = None
    ) -> UpdateReport:
        """Read one text's (key, value) pairs with the Omega rule; see the module docstring."""
        keys = np.ascontiguousarray(keys, dtype=np.float32)
        values = np.ascontiguousarray(values, dtype=np.float32)
        if keys.shape != values.shape or keys.ndim != 2 or keys.shape[1] != self.config.key_dim:
            raise ValueError(f"keys/values must both be [n, {self.config.key_dim}]")
        with self._lock:
            return self._memorize_locked(keys, values, window_size)

    def _memorize_locked(
        self, keys: np.ndarray, values: np.ndarray, window_size: int | None
    ) -> UpdateReport:
        started, cpu_started = time.perf_counter(), time.thread_time()
        window = self.config.window_size if window_size is None else int(window_size)
        if window < 1:
            raise ValueError("window_size must be at least 1")
        chunk = self.config.chunk_size
        losses: list[float] = []
        work = 0
        for end in range(chunk, len(keys) + chunk, chunk):
            end = min(end, len(keys))
            start = max(0, end - window)  # the window ends at the chunk's last position
            loss, grads = self._loss_and_grads(keys[start:end], values[start:end])
            self._step(grads)
            losses.append(loss)
            work += end - start
        if losses:
            self._tokens += len(keys)
            self._updates += len(losses)
            self._omega_loss = float(np.mean(losses))
            self._fingerprint = _fingerprint(self._arrays)
        elapsed = (time.perf_counter() - started) * 1000.0
        cpu = (time.thread_time() - cpu_started) * 1000.0
        loss = float(np.mean(losses)) if losses else None
        return UpdateReport(len(keys), len(losses), loss, elapsed, work, cpu)
