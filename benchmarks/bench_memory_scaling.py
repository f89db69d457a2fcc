"""How the ATLAS memory's update time grows with the length of the text it reads.

For texts of 256 .. 8192 tokens (real token ids: a generated English text tokenized by the
model's own llama.cpp tokenizer, or ``--random-ids`` for ids drawn from the vocabulary with a
fixed seed), a fresh default memory (window 256) reads the text: ``features.pairs`` then
``memory.memorize``, as the server does after a completion. Repetitions are interleaved across
sizes (the order shuffled each repetition with a fixed seed) so machine noise spreads evenly; the
median per size is fitted with ``numpy.polyfit`` to time = a + b * tokens, and R^2 says how
linear it is (target >= 0.98).

    .venv/bin/python benchmarks/bench_memory_scaling.py [--repeats 10] [--quick] [--random-ids]
"""

# ruff: noqa: E402 - the environment is set before NumPy loads, as the server's CLI does
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the server: one BLAS thread
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import random
import time

import httpx
import numpy as np
from _common import REPORT_DIR, engine_log_to, model_path, print_table, write_report

from atlas_reference.features import TokenFeatures
from atlas_reference.memory import AtlasMemory, MemoryConfig

SIZES = (256, 512, 1024, 2048, 4096, 8192)
WINDOW = 256
TARGET_R2 = 0.98
SENTENCES = (
    "The river ran quietly past the old mill, where the miller kept his accounts by candlelight.",
    "Every morning the baker opened her shop before dawn and sold warm bread to the fishermen.",
    "Scientists measured the temperature of the lake each week and wrote the results in a book.",
    "A small library in the village lent books to anyone who promised to return them in a month.",
    "The train to the capital left at noon, and the station master rang a bell to warn travellers.",
    "In spring the farmers planted wheat and barley, hoping for rain but not too much of it.",
    "Children learned arithmetic by counting apples, coins and the windows of the town hall.",
    "When the storm came, the lighthouse keeper climbed the stairs and checked the great lamp.",
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=None, help="repetitions per size (10)")
    parser.add_argument("--quick", action="store_true", help="3 repetitions")
    parser.add_argument("--random-ids", action="store_true",
                        help="ids drawn from the vocabulary (seed 0) instead of the tokenizer")
    args = parser.parse_args()
    args.repeats = args.repeats or (3 if args.quick else 10)
    return args


def english_text(min_chars: int, seed: int = 0) -> str:
    """Sentences from a fixed pool in a seeded random order, until long enough."""
    rng = random.Random(seed)
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < min_chars:
        parts.append(rng.choice(SENTENCES))
    return " ".join(parts)


def tokenized_ids(count: int) -> np.ndarray:
    """At least ``count`` real token ids from the model's tokenizer (llama.cpp's /tokenize)."""
    from atlas_reference.engine import Engine

    with engine_log_to(REPORT_DIR / "bench_memory_scaling.engine.log"):
        engine = Engine(model_path(), ctx_size=512, parallel=1, threads=None, gpu_layers=0)
        try:
            text = english_text(min_chars=count * 6)
            response = httpx.post(f"{engine.base_url}/tokenize", json={"content": text},
                                  timeout=60.0)
            response.raise_for_status()
            ids = np.asarray(response.json()["tokens"], dtype=np.int64)
        finally:
            engine.stop()
    if ids.size < count:
        raise RuntimeError(f"the text gave {ids.size} tokens, {count} needed")
    return ids[:count]


def time_update(features: TokenFeatures, ids: np.ndarray, fingerprint: str) -> float:
    """Milliseconds for a fresh memory to read ``ids``: pairs, then memorize."""
    memory = AtlasMemory(MemoryConfig(window_size=WINDOW), fingerprint)
    started = time.perf_counter()
    keys, values = features.pairs(ids)
    memory.memorize(keys, values, window_size=WINDOW)
    return (time.perf_counter() - started) * 1000.0


def measure(features: TokenFeatures, ids: np.ndarray, repeats: int) -> dict[int, list[float]]:
    """Every size once per repetition, in a freshly shuffled order; one warm-up pass first."""
    fingerprint = features.model_fingerprint
    texts = {n: ids[: n + 1] for n in SIZES}  # n + 1 ids give n (key, value) positions
    for n in SIZES:
        time_update(features, texts[n], fingerprint)
    rng = random.Random(1)
    samples: dict[int, list[float]] = {n: [] for n in SIZES}
    for _ in range(repeats):
        order = list(SIZES)
        rng.shuffle(order)
        for n in order:
            samples[n].append(time_update(features, texts[n], fingerprint))
    return samples


def fit(samples: dict[int, list[float]]) -> dict:
    tokens = np.asarray(SIZES, dtype=float)
    medians = np.asarray([np.median(samples[n]) for n in SIZES])
    slope, intercept = np.polyfit(tokens, medians, 1)
    predicted = intercept + slope * tokens
    ss_res = float(np.sum((medians - predicted) ** 2))
    ss_tot = float(np.sum((medians - medians.mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    per_size = {str(n): {"median_ms": float(m), "min_ms": float(min(samples[n])),
                         "ms_per_1k_tokens": float(m) / n * 1000.0, "fit_ms": float(p)}
                for n, m, p in zip(SIZES, medians, predicted, strict=True)}
    return {"window_size": WINDOW, "sizes": per_size, "intercept_ms": float(intercept),
            "ms_per_token": float(slope), "us_per_token": float(slope) * 1000.0,
            "r2": r2, "r2_target": TARGET_R2, "r2_meets_target": r2 >= TARGET_R2}


def report(figures: dict, repeats: int, source: str) -> None:
    print(f"\nMemory update time by text length (window {WINDOW}, fresh memory each time, "
          f"{repeats} interleaved repetitions, ids: {source})")
    sizes = figures["sizes"]
    print_table(["tokens", "median ms", "min ms", "ms / 1k tokens", "fit ms"],
                [[int(n), s["median_ms"], s["min_ms"], s["ms_per_1k_tokens"], s["fit_ms"]]
                 for n, s in sizes.items()])
    verdict = "meets" if figures["r2_meets_target"] else "BELOW"
    print(f"\nfit: time = {figures['intercept_ms']:.3f} ms + {figures['us_per_token']:.2f} us "
          f"* tokens;  R^2 = {figures['r2']:.4f} ({verdict} the {TARGET_R2} target)")


def main() -> int:
    args = parse_args()
    model = model_path()
    features = TokenFeatures.from_gguf(model)
    count = max(SIZES) + 1
    if args.random_ids:
        ids, source = np.random.default_rng(0).integers(0, features.vocab_size, count), "random"
    else:
        ids, source = tokenized_ids(count), "tokenized English"
    samples = measure(features, ids, args.repeats)
    figures = fit(samples)
    figures["ids"] = source
    report(figures, args.repeats, source)
    path = write_report("bench_memory_scaling", figures, vars(args))
    print(f"\nfigures written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
