"""Latency the reference server adds on top of llama.cpp, with ATLAS off and on.

One process starts the reference server (ATLAS enabled at start-up, as ``make serve``) on a free
127.0.0.1 port, then sends the same 1-token completion (temperature 0, a short fixed prompt)
three ways, interleaved round-robin with the order rotated every round so noise hits all alike:

    A  engine     straight to llama.cpp's private listener (``state.engine.base_url``)
    B  atlas off  through the reference server, no ``atlas`` object in the request
    C  atlas on   through the reference server, ``"atlas": {"enabled": true}``

and, in the same rounds, a ``/tokenize`` of the prompt straight to the engine (T), to attribute
the ATLAS-on overhead: a server that tokenizes over HTTP pays two of those per ATLAS request; one
that tokenizes in-process (``state.engine.vocabulary``) pays two in-process calls instead, timed
apart. Overheads are B-A and C-A of the percentiles. Bounds: ATLAS-off overhead p50 <= 1 ms,
ATLAS-on overhead p50 <= 5 ms (the founding document's 3 and 10 ms, with margin). Always exits 0.

    .venv/bin/python benchmarks/bench_overhead.py [--rounds 200] [--quick]
"""

# ruff: noqa: E402 - the environment is set before NumPy loads, as the server's CLI does
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one BLAS thread beside llama.cpp's
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import time
from collections.abc import Callable

import httpx
from _common import p50_p95, pct, print_table, reference_server, write_report

PROMPT = "The capital of France is"
BODY = {"prompt": PROMPT, "max_tokens": 1, "temperature": 0}
OFF_BOUND_MS = 1.0
ON_BOUND_MS = 5.0
PATHS = ("A engine", "B atlas off", "C atlas on", "T tokenize")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=None, help="measured rounds (200)")
    parser.add_argument("--warmup", type=int, default=None, help="unmeasured rounds (20)")
    parser.add_argument("--quick", action="store_true", help="50 rounds, 5 warm-up")
    args = parser.parse_args()
    args.rounds = args.rounds or (50 if args.quick else 200)
    args.warmup = args.warmup if args.warmup is not None else (5 if args.quick else 20)
    return args


def make_senders(clients: dict[str, httpx.Client],
                 update_ms: list[float]) -> dict[str, Callable[[], None]]:
    """One callable per path, each on its own persistent client; each checks its answer."""

    def completion(path: str, body: dict) -> dict:
        response = clients[path].post("/v1/completions", json=body)
        response.raise_for_status()
        return response.json()

    def plain(path: str) -> Callable[[], None]:
        def send() -> None:
            completion(path, BODY)
        return send

    def atlas_on() -> None:
        payload = completion("C atlas on", {**BODY, "atlas": {"enabled": True}})
        update_ms.append(float(payload["atlas"]["memory_update_ms"]))

    def tokenize() -> None:
        clients["T tokenize"].post("/tokenize", json={"content": PROMPT}).raise_for_status()

    return {
        "A engine": plain("A engine"),
        "B atlas off": plain("B atlas off"),
        "C atlas on": atlas_on,
        "T tokenize": tokenize,
    }


def run_rounds(senders: dict[str, Callable[[], None]], rounds: int) -> dict[str, list[float]]:
    """Round-robin, the starting path rotating each round; latency in ms per path."""
    samples: dict[str, list[float]] = {name: [] for name in PATHS}
    for i in range(rounds):
        for j in range(len(PATHS)):
            name = PATHS[(i + j) % len(PATHS)]
            started = time.perf_counter()
            senders[name]()
            samples[name].append((time.perf_counter() - started) * 1000.0)
    return samples


def in_process_tokenize_ms(state: object) -> float | None:
    """Median of the server's own in-process tokenization of the prompt; None over HTTP."""
    vocabulary = getattr(getattr(state, "engine", None), "vocabulary", None)
    if vocabulary is None:
        return None
    times = []
    for _ in range(200):
        started = time.perf_counter()
        vocabulary.tokenize(PROMPT)
        times.append((time.perf_counter() - started) * 1000.0)
    return pct(times, 50)


def measure(args: argparse.Namespace) -> tuple[dict[str, list[float]], list[float], float | None]:
    with reference_server(log_name="bench_overhead.engine.log") as (base_url, state):
        in_process = in_process_tokenize_ms(state)
        engine_url = state.engine.base_url
        urls = {"A engine": engine_url, "B atlas off": base_url, "C atlas on": base_url,
                "T tokenize": engine_url}
        clients = {name: httpx.Client(base_url=url, timeout=60.0) for name, url in urls.items()}
        update_ms: list[float] = []
        try:
            senders = make_senders(clients, update_ms)
            run_rounds(senders, args.warmup)
            update_ms.clear()
            samples = run_rounds(senders, args.rounds)
        finally:
            for client in clients.values():
                client.close()
    return samples, update_ms, in_process


def paired_median(samples: dict[str, list[float]], path: str, base: str) -> float:
    """Median of the per-round differences: robust to slow rounds that hit every path."""
    diffs = [x - y for x, y in zip(samples[path], samples[base], strict=True)]
    return pct(diffs, 50)


def overheads(stats: dict[str, dict[str, float]], samples: dict[str, list[float]]) -> dict:
    pairs = {"atlas_off": ("B atlas off", "A engine"), "atlas_on": ("C atlas on", "A engine"),
             "atlas_on_minus_off": ("C atlas on", "B atlas off")}
    return {key: {"p50": stats[path]["p50"] - stats[base]["p50"],
                  "p95": stats[path]["p95"] - stats[base]["p95"],
                  "paired_median": paired_median(samples, path, base)}
            for key, (path, base) in pairs.items()}


def attribution(atlas_work_ms: float, tokenize_ms: float, update_ms: float,
                in_process_ms: float | None = None) -> dict:
    """Split C-B (p50) into two tokenizations (/tokenize round trips, or in-process calls),
    the memory update, and the rest."""
    two = ({"two_tokenize_round_trips": 2 * tokenize_ms} if in_process_ms is None
           else {"two_in_process_tokenizations": 2 * in_process_ms})
    parts = {**two, "memory_update": update_ms}
    parts["rest"] = atlas_work_ms - sum(parts.values())
    return {name: {"ms": ms, "share": ms / atlas_work_ms if atlas_work_ms > 0 else 0.0}
            for name, ms in parts.items()}


def summarise(samples: dict[str, list[float]], update_ms: list[float],
              in_process_ms: float | None = None) -> dict:
    stats = {name: p50_p95(values) for name, values in samples.items()}
    over = overheads(stats, samples)
    update = p50_p95(update_ms)
    return {
        "latency_ms": stats, "overhead_ms": over, "memory_update_ms": update,
        "atlas_work_attribution_p50": attribution(
            over["atlas_on_minus_off"]["p50"], stats["T tokenize"]["p50"], update["p50"],
            in_process_ms),
        "tokenizes": "over HTTP" if in_process_ms is None else "in-process",
        "bounds_ms": {"atlas_off_p50": OFF_BOUND_MS, "atlas_on_p50": ON_BOUND_MS},
        "pass": {"atlas_off": over["atlas_off"]["p50"] <= OFF_BOUND_MS,
                 "atlas_on": over["atlas_on"]["p50"] <= ON_BOUND_MS},
    }


def report(figures: dict, rounds: int) -> None:
    print(f"\n1-token completion latency, {rounds} interleaved rounds (ms, percentile 'linear')")
    stats = figures["latency_ms"]
    print_table(["path", "p50", "p95"], [[n, stats[n]["p50"], stats[n]["p95"]] for n in PATHS])
    over, ok = figures["overhead_ms"], figures["pass"]
    rows = []
    for label, key, bound in (("B-A atlas off", "atlas_off", OFF_BOUND_MS),
                              ("C-A atlas on", "atlas_on", ON_BOUND_MS),
                              ("C-B atlas work", "atlas_on_minus_off", None)):
        o = over[key]
        verdict = "" if bound is None else ("PASS" if ok[key] else "OVER")
        rows.append([label, o["p50"], o["p95"], o["paired_median"],
                     "" if bound is None else f"<= {bound:g}", verdict])
    print("\nOverhead (ms): difference of percentiles; paired = median of per-round differences")
    print_table(["overhead", "p50", "p95", "paired", "bound (p50)", "verdict"], rows)
    print(f"\nWhere C-B goes (p50); the server tokenizes {figures['tokenizes']}")
    print_table(["component", "ms", "share"],
                [[name.replace("_", " "), part["ms"], f"{part['share']:.0%}"]
                 for name, part in figures["atlas_work_attribution_p50"].items()])


def main() -> int:
    args = parse_args()
    samples, update_ms, in_process_ms = measure(args)
    figures = summarise(samples, update_ms, in_process_ms)
    report(figures, args.rounds)
    path = write_report("bench_overhead", figures, vars(args))
    print(f"\nfigures written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
