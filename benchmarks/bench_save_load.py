"""Save and load time of the default ATLAS memory, and a long run of save/load cycles.

The memory store the server's ``/v1/atlas/memory/save`` and ``/load`` routes call
(``MemoryStore.save`` / ``.load``: atomic write with fsync and rename; read, checksum and model
checks) works on the default memory after it has read 1024 tokens, in a temporary folder:

1. save and load, alternated, N times each: p50 and p95 (``numpy.percentile``, "linear") and the
   file size, against the founding targets (save < 5 s, load < 2 s);
2. C cycles of: the memory reads a short text (so each cycle's state differs), save, load. Every
   load must give back the exact fingerprint just saved, the folder must hold only the memory
   file afterwards (no temp file left), and the save+load time of the first 100 cycles is
   compared with the last 100 (ratio near 1: no drift).

    .venv/bin/python benchmarks/bench_save_load.py [--samples 100] [--cycles 1000] [--quick]
"""

# ruff: noqa: E402 - the environment is set before NumPy loads, as the server's CLI does
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the server: one BLAS thread
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
from _common import model_path, p50_p95, print_table, write_report

from atlas_reference.features import TokenFeatures
from atlas_reference.memory import MemoryConfig
from atlas_reference.params import DEFAULT_MEMORY
from atlas_reference.store import MemoryStore

FILENAME = "bench.atlas"
SAVE_TARGET_MS = 5000.0
LOAD_TARGET_MS = 2000.0
EDGE = 100  # cycles compared at the start and the end
T = TypeVar("T")


@dataclass
class CycleStats:
    ms: list[float] = field(default_factory=list)
    wrong_fingerprint: int = 0
    unchanged_state: int = 0  # the memory did not change between cycles (the check is void)
    leftovers: set[str] = field(default_factory=set)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=None, help="timed saves and loads (100)")
    parser.add_argument("--cycles", type=int, default=None, help="save/load cycles (1000)")
    parser.add_argument("--dir", type=Path, default=None, help="folder for the files (a temp)")
    parser.add_argument("--quick", action="store_true", help="50 samples, 200 cycles")
    args = parser.parse_args()
    args.samples = args.samples or (50 if args.quick else 100)
    args.cycles = args.cycles or (200 if args.quick else 1000)
    return args


def timed_ms(fn: Callable[..., T], *args: object) -> tuple[float, T]:
    started = time.perf_counter()
    result = fn(*args)
    return (time.perf_counter() - started) * 1000.0, result


def read_text(store: MemoryStore, features: TokenFeatures, ids: np.ndarray) -> None:
    keys, values = features.pairs(ids)
    store.get(DEFAULT_MEMORY).memorize(keys, values)


def save_load_samples(store: MemoryStore, samples: int) -> dict:
    saves, loads, size = [], [], 0
    for _ in range(samples):
        ms, outcome = timed_ms(store.save, FILENAME)
        saves.append(ms)
        size = outcome.bytes
        ms, _ = timed_ms(store.load, FILENAME)
        loads.append(ms)
    return {"save_ms": p50_p95(saves), "load_ms": p50_p95(loads), "file_bytes": size}


def run_cycles(store: MemoryStore, features: TokenFeatures, cycles: int) -> CycleStats:
    rng = np.random.default_rng(7)
    stats = CycleStats()
    previous = store.get(DEFAULT_MEMORY).fingerprint
    for _ in range(cycles):
        read_text(store, features, rng.integers(0, features.vocab_size, 17))  # one update
        started = time.perf_counter()
        saved = store.save(FILENAME)
        loaded = store.load(FILENAME)
        stats.ms.append((time.perf_counter() - started) * 1000.0)
        current = store.get(DEFAULT_MEMORY).fingerprint
        if not (saved.fingerprint == loaded.fingerprint == current):
            stats.wrong_fingerprint += 1
        stats.unchanged_state += saved.fingerprint == previous
        previous = saved.fingerprint
        stats.leftovers.update(set(os.listdir(store.directory)) - {FILENAME})
    return stats


def cycle_figures(stats: CycleStats) -> dict:
    edge = min(EDGE, len(stats.ms) // 2)
    first, last = float(np.mean(stats.ms[:edge])), float(np.mean(stats.ms[-edge:]))
    return {"cycles": len(stats.ms), "edge": edge, "first_mean_ms": first,
            "last_mean_ms": last, "last_over_first": last / first,
            "cycle_ms": p50_p95(stats.ms), "wrong_fingerprint": stats.wrong_fingerprint,
            "unchanged_state": stats.unchanged_state, "leftover_files": sorted(stats.leftovers)}


def report(figures: dict) -> None:
    timing = figures["timing"]
    n = timing["save_ms"]["n"]
    print(f"\nDefault memory save/load, {n} each, alternated (ms, percentile 'linear'); "
          f"file {timing['file_bytes']} bytes")
    rows = []
    for what, target in (("save", SAVE_TARGET_MS), ("load", LOAD_TARGET_MS)):
        s = timing[f"{what}_ms"]
        verdict = "PASS" if s["p95"] < target else "OVER"
        rows.append([what, s["p50"], s["p95"], f"< {target:g}", target / s["p95"], verdict])
    print_table(["op", "p50", "p95", "target", "target / p95", "verdict (p95)"], rows)
    c = figures["cycles"]
    print(f"\n{c['cycles']} save+load cycles (the memory reads 16 tokens before each)")
    print_table(["figure", "value"], [
        ["cycle p50 ms", c["cycle_ms"]["p50"]],
        ["cycle p95 ms", c["cycle_ms"]["p95"]],
        [f"mean of first {c['edge']} ms", c["first_mean_ms"]],
        [f"mean of last {c['edge']} ms", c["last_mean_ms"]],
        ["last / first", c["last_over_first"]],
        ["loads with a wrong fingerprint", c["wrong_fingerprint"]],
        ["cycles that did not change the memory", c["unchanged_state"]],
        ["files left besides the memory file", len(c["leftover_files"])],
    ])


def main() -> int:
    args = parse_args()
    features = TokenFeatures.from_gguf(model_path())
    with tempfile.TemporaryDirectory(prefix="atlas-bench-", dir=args.dir) as folder:
        store = MemoryStore(Path(folder), MemoryConfig(), features.model_fingerprint)
        read_text(store, features, np.random.default_rng(0).integers(0, features.vocab_size, 1025))
        figures = {"timing": save_load_samples(store, args.samples),
                   "cycles": cycle_figures(run_cycles(store, features, args.cycles))}
    report(figures)
    path = write_report("bench_save_load", figures, {**vars(args), "dir": str(args.dir)})
    print(f"\nfigures written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
