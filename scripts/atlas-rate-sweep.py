#!/usr/bin/env python3
"""Sweep the request rate (or the concurrency) up until the SLOs stop holding or the server
saturates.

    scripts/atlas-rate-sweep.py --start-reference --rates 0.5,1,2,4 --step-seconds 20 \\
        --slo "TTFT p99 <= 5 s, TPOT p99 <= 500 ms"
    scripts/atlas-rate-sweep.py --url http://127.0.0.1:8080 --start 1 --factor 2 --steps 8 \\
        --arrival poisson --slo "TTFT p99 <= 500 ms, TPOT p99 <= 50 ms, e2e <= 10 s"
    scripts/atlas-rate-sweep.py --start-reference --concurrency 1,2,4,8 --step-seconds 20 \
        --slo "TTFT p99 <= 5 s"                    # users instead of a rate: closed loops
    scripts/atlas-load-test.py sweep ...          # the same

Each step is an open loop of ``--step-seconds`` at one rate (``--kind`` completions, streamed
by default so that TTFT, TPOT and ITL are measured). The sweep stops at the first step that is
not sustained: an objective missed over the step, attainment under ``--min-attainment``,
completions falling behind the offered rate, a queue growing, failures (docs/load.md, "Rate
sweep"). It prints the highest sustainable rate with its figures and writes the table (CSV,
JSON) and a curve (PNG: latency percentiles and goodput against the offered rate) to
``--report-dir``. With ``--concurrency``, each step is a closed loop of that many users
instead, and a step is also not sustained when its throughput stopped rising with the users
(the knee: more users add only waiting). Exits 0 when some level was sustained, 1 when none
was.
"""

# ruff: noqa: E402 - the repository root goes on sys.path first
from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from atlas_suite.experiments.sweep import (
    SweepResult,
    SweepStep,
    concurrency_sweep,
    geometric_rates,
    rate_sweep,
)
from atlas_suite.load_engine import LoadEngine
from atlas_suite.load_tables import render_table, summary_rows
from atlas_suite.plots import slug, write_json
from atlas_suite.targets import LOCAL_HOSTS
from atlas_suite.workloads import Workload


def _load_test() -> ModuleType:
    """scripts/atlas-load-test.py as a module: its server, kinds and shared options."""
    path = Path(__file__).resolve().parent / "atlas-load-test.py"
    spec = importlib.util.spec_from_file_location("atlas_load_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LOAD_TEST = _load_test()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the server (local only)")
    parser.add_argument("--start-reference", action="store_true",
                        help="start the reference server (ATLAS on) for the sweep, then stop it")
    parser.add_argument("--rates", default=None, help="the rates, comma-separated (per second)")
    parser.add_argument("--start", type=float, default=0.5, help="first rate (0.5/s)")
    parser.add_argument("--factor", type=float, default=2.0, help="each rate x this (2)")
    parser.add_argument("--steps", type=int, default=6, help="rates at most (6)")
    parser.add_argument("--concurrency", default=None,
                        help="sweep users instead of the rate: rising numbers, comma-separated "
                             "(closed loops; --rates, --start, --factor, --arrival are unused)")
    parser.add_argument("--min-gain", type=float, default=10.0,
                        help="concurrency: a step whose throughput rose by less than this "
                             "percent of the users' rise is saturated (10)")
    parser.add_argument("--step-seconds", type=float, default=20.0,
                        help="seconds of arrivals per rate (20); ten requests or more per step")
    parser.add_argument("--kind", choices=list(LOAD_TEST.KINDS), default="stream",
                        help="the completions sent (stream: ATLAS, streamed)")
    parser.add_argument("--max-tokens", type=int, default=16, help="tokens per completion (16)")
    parser.add_argument("--prompt-tokens", type=int, default=24, help="prompt length (24)")
    parser.add_argument("--min-attainment", type=float, default=0.0,
                        help="percent of requests that must meet every SLO (0: the run-wide "
                             "percentiles decide alone)")
    parser.add_argument("--max-in-flight", type=int, default=256)
    parser.add_argument("--api-key", default=None, help="sent as Authorization: Bearer KEY")
    parser.add_argument("--timeout", type=float, default=300.0, help="per request, seconds")
    parser.add_argument("--report-dir", type=Path, default=Path("reports/load"))
    parser.add_argument("--name", default=None, help="report file name (default: dated)")
    LOAD_TEST.add_arrival_args(parser)
    LOAD_TEST.add_slo_arg(parser)
    args = parser.parse_args(argv)
    if urlsplit(args.url).hostname not in LOCAL_HOSTS and not args.start_reference:
        parser.error(f"only a local server (127.0.0.1, localhost), not {args.url}")
    try:
        args.rate_list = ([float(r) for r in args.rates.split(",")] if args.rates
                          else geometric_rates(args.start, args.factor, args.steps))
    except ValueError as exc:
        parser.error(f"rates: {exc}")
    if not args.rate_list or min(args.rate_list) <= 0:
        parser.error("rates must be positive")
    try:
        args.users_list = ([int(n) for n in args.concurrency.split(",")] if args.concurrency
                           else None)
    except ValueError:
        parser.error("--concurrency: whole numbers of users, comma-separated")
    if args.users_list is not None and (min(args.users_list) < 1 or
                                        args.users_list != sorted(set(args.users_list))):
        parser.error("--concurrency: rising numbers of users, 1 or more")
    return args


def _progress(step: SweepStep) -> None:
    row = step.row()
    verdict = "sustained" if step.sustained else f"NOT sustained: {row['why_not']}"
    print(f"  {step.label}: achieved {row['achieved_per_s']:.2f}/s, goodput "
          f"{row['goodput_per_s']:.2f}/s, e2e p99 {row['e2e_p99_ms'] or 0:,.0f} ms: {verdict}",
          file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    atlas, stream = LOAD_TEST.KINDS[args.kind]
    with LOAD_TEST.server_for(args) as (base_url, _pid):
        model = LOAD_TEST.served_model(base_url, headers)
        workload = LOAD_TEST.completion_workload(
            base_url, model, max_tokens=args.max_tokens, atlas=atlas, stream=stream,
            prompt_tokens=args.prompt_tokens, label=args.kind)
        sweep = _sweep(args, LoadEngine(headers=headers, timeout_s=args.timeout), workload,
                       base_url)
    what = "concurrency" if args.users_list else "rate"
    name = slug(args.name or f"atlas-{what}-sweep-{time.strftime('%Y%m%d-%H%M%S')}")
    figures = {"target": model, "url": base_url, "kind": args.kind,
               "step_seconds": args.step_seconds, **sweep.figures()}
    json_path = write_json(args.report_dir / f"{name}.json", figures)
    csv_path = sweep.write_csv(args.report_dir / f"{name}.csv")
    png_path = sweep.plot(args.report_dir / f"{name}.png",
                          f"{what} sweep: {args.kind}, {sweep.arrival}, {model}")
    print("\n" + render_table(sweep.table()))
    best = sweep.best
    if best is not None:
        print(f"\nat the highest sustainable {what}, {sweep.best_words}:")
        print(render_table(summary_rows(best.result.summary()) + best.slo.rows()))
    print(f"\ntable:  {csv_path}\nfigures: {json_path}\ncurve:  {png_path}")
    print(f"highest sustainable {what}: {sweep.best_words}")
    return 0 if best is not None else 1


def _sweep(args: argparse.Namespace, engine: LoadEngine, workload: Workload,
           base_url: str) -> SweepResult:
    """The rate sweep, or the concurrency sweep with ``--concurrency``, printing each step."""
    common = {"step_s": args.step_seconds, "slos": args.slo or [], "warmup": args.warmup,
              "min_attainment": args.min_attainment / 100.0, "on_step": _progress}
    tail = f"{args.step_seconds:g} s each, {args.kind} completions of {args.max_tokens} tokens"
    if args.users_list:
        print(f"concurrency sweep: {', '.join(map(str, args.users_list))} users, {tail}, "
              f"{base_url}", file=sys.stderr)
        return concurrency_sweep(engine, workload, args.users_list,
                                 min_gain=args.min_gain / 100.0, **common)
    print(f"rate sweep: {', '.join(f'{r:g}' for r in args.rate_list)} requests/s, "
          f"{args.arrival} arrivals, {tail}, {base_url}", file=sys.stderr)
    return rate_sweep(engine, workload, args.rate_list, arrival=args.arrival,
                      burstiness=args.burstiness, seed=args.seed,
                      max_in_flight=args.max_in_flight, **common)


if __name__ == "__main__":
    sys.exit(main())
