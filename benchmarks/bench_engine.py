"""The load engine's own ceiling: how many chunks per second it can timestamp within 1 ms.

A local server (``atlas_suite.calibration``'s trivial server, in a process of its own) streams
``--tokens`` chunks ``--interval-ms`` apart on every stream; the engine opens more and more
concurrent streams (two each), and for every step compares each inter-token gap it recorded
with the same gap as the server sent it (the server stamps its send time on every chunk, so its
own scheduling jitter, printed beside, does not count against the engine). A step is within
bounds when no request failed and the ``--quantile``-th percentile of the absolute errors is at
most ``--tolerance-ms``. Where one
process is not within bounds, the step runs again with the users spread over twice the worker
processes (``atlas_suite.load_processes``), up to the CPU count. The ceiling is the highest
aggregate chunk rate within bounds, with the processes it took. Always exits 0.

    .venv/bin/python benchmarks/bench_engine.py [--interval-ms 10] [--streams 1,5,10,...]
"""

from __future__ import annotations

import argparse

from _common import print_table, write_report

from atlas_suite.calibration import measure_engine_ceiling


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval-ms", type=float, default=10.0)
    parser.add_argument("--tokens", type=int, default=100, help="chunks per stream")
    parser.add_argument("--streams", default="1,5,10,20,30,40,50,75,100,150,200,300,400",
                        help="concurrent streams per step, comma-separated")
    parser.add_argument("--tolerance-ms", type=float, default=1.0)
    parser.add_argument("--quantile", type=float, default=95.0)
    parser.add_argument("--max-processes", type=int, default=None, help="(the CPU count)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    figures = measure_engine_ceiling(
        interval_ms=args.interval_ms, tokens=args.tokens,
        streams=tuple(int(n) for n in args.streams.split(",")),
        tolerance_ms=args.tolerance_ms, quantile=args.quantile, max_processes=args.max_processes)
    q = f"error_p{args.quantile:g}_ms"
    print(f"\nInter-token timing against a server streaming every {args.interval_ms:g} ms "
          "(error = |engine's gap - the server's gap as sent|; server jitter = |the server's "
          "gap - interval|; ms)")
    print_table(["streams", "processes", "chunks/s", "gaps", "failed", "error p50",
                 f"error p{args.quantile:g}", f"server jitter p{args.quantile:g}", "within"],
                [[r["streams"], r["processes"], r["chunks_per_s"], r["gaps"], r["failed"],
                  r["error_ms"]["p50"] if r["gaps"] else "-", r[q],
                  r[f"server_jitter_p{args.quantile:g}_ms"],
                  "yes" if r["within"] else "no"] for r in figures["steps"]])
    print(f"\nceiling: {figures['ceiling_chunks_per_s']:.0f} chunks/s within "
          f"{args.tolerance_ms:g} ms at p{args.quantile:g}, {figures['processes_used']} "
          f"process(es); one process: {figures['single_process_ceiling_chunks_per_s']:.0f}")
    path = write_report("bench_engine", figures, vars(args))
    print(f"figures written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
