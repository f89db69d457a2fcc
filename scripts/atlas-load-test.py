#!/usr/bin/env python3
"""Load-test a running ATLAS server with the suite's load engine; a summary table at the end.

    scripts/atlas-load-test.py --duration 300 --concurrent 20            # the founding command
    scripts/atlas-load-test.py --url http://127.0.0.1:8080 --rate 5 --duration 60   # open loop
    scripts/atlas-load-test.py --start-reference --duration 60 --concurrent 8
    scripts/atlas-load-test.py --self-test      # the engine's own overhead, against a no-op server
    scripts/atlas-load-test.py --rate 4 --arrival gamma --burstiness 0.5 --warmup 5 \
        --slo "TTFT p99 <= 2 s, TPOT p99 <= 200 ms, e2e <= 30 s"      # SLO attainment, goodput
    scripts/atlas-load-test.py --save-baseline reports/load/base.json ...   # keep the figures
    scripts/atlas-load-test.py --baseline reports/load/base.json --tolerance 10 ...  # compare
    scripts/atlas-load-test.py sweep --start-reference ...   # a rate sweep: see atlas-rate-sweep.py

Users send a mix of ATLAS, streamed ATLAS and plain completions (``--mix``) back to back
(closed loop, ``--concurrent`` users) or at a fixed arrival rate (open loop, ``--rate``). The
server's RSS and CPU are sampled when its process is known (``--pid``, or found by the port it
listens on). Figures (JSON), every request (CSV) and a plot (PNG) go to ``--report-dir``
(reports/load); docs/load-figures.md defines each figure. Exits 1 when a request failed other
than with a documented 503, none succeeded, an objective of ``--slo`` did not hold over the
run, or a figure regressed against ``--baseline`` beyond ``--tolerance`` percent.
"""

# ruff: noqa: E402 - the repository root goes on sys.path first
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from atlas_suite.baseline import DEFAULT_FIGURES, compare, load_baseline, save_baseline
from atlas_suite.calibration import measure_engine_overhead
from atlas_suite.load_engine import ARRIVALS, LoadEngine
from atlas_suite.load_result import LoadResult, Sample
from atlas_suite.load_tables import render_table, summary_rows
from atlas_suite.plots import plot_load, slug, write_json
from atlas_suite.resources import ResourceMonitor, pid_listening_on
from atlas_suite.slo import Slo, evaluate, parse_slos
from atlas_suite.targets import LOCAL_HOSTS
from atlas_suite.workloads import completion_workload

KINDS = {"atlas": (True, False), "stream": (True, True), "plain": (False, False),
         "plain-stream": (False, True)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the server (local only)")
    parser.add_argument("--start-reference", action="store_true",
                        help="start the reference server (ATLAS on) for the run, then stop it")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (60)")
    parser.add_argument("--concurrent", type=int, default=20, help="closed-loop users (20)")
    parser.add_argument("--rate", type=float, default=None,
                        help="open loop instead: requests per second, whatever the answers")
    parser.add_argument("--requests", type=int, default=None, help="stop after this many too")
    parser.add_argument("--max-tokens", type=int, default=16, help="tokens per completion (16)")
    parser.add_argument("--prompt-tokens", type=int, default=24, help="prompt length (24)")
    parser.add_argument("--mix", default="atlas,stream,plain",
                        help=f"kinds of completion in turn, from {', '.join(KINDS)}")
    parser.add_argument("--api-key", default=None, help="sent as Authorization: Bearer KEY")
    parser.add_argument("--timeout", type=float, default=300.0, help="per request, seconds")
    parser.add_argument("--pid", type=int, default=None,
                        help="the server's process id for RSS/CPU (found by its port if absent)")
    parser.add_argument("--report-dir", type=Path, default=Path("reports/load"))
    parser.add_argument("--name", default=None, help="report file name (default: dated)")
    parser.add_argument("--progress", type=float, default=10.0,
                        help="print a progress line every N seconds (0: never)")
    parser.add_argument("--self-test", action="store_true",
                        help="measure the engine against a local no-op server and exit")
    add_arrival_args(parser)
    add_slo_arg(parser)
    parser.add_argument("--baseline", type=Path, default=None,
                        help="compare with this baseline file; exit 1 on a regression")
    parser.add_argument("--save-baseline", type=Path, default=None,
                        help="save this run's figures as a baseline file")
    parser.add_argument("--baseline-figures", default=",".join(DEFAULT_FIGURES),
                        help="the figures compared (docs/load-figures.md names them)")
    parser.add_argument("--tolerance", type=float, default=10.0,
                        help="percent a figure may get worse before it counts as regressed")
    parser.add_argument("--target", default=None,
                        help="what a baseline belongs to (default: the served model's id)")
    args = parser.parse_args(argv)
    unknown = [k for k in args.mix.split(",") if k not in KINDS]
    if unknown:
        parser.error(f"unknown kinds in --mix: {unknown}")
    if urlsplit(args.url).hostname not in LOCAL_HOSTS and not args.start_reference:
        parser.error(f"only a local server (127.0.0.1, localhost), not {args.url}; for load "
                     "from several machines use scripts/locustfile.py")
    return args


def add_arrival_args(parser: argparse.ArgumentParser) -> None:
    """The open loop's arrival process and the warm-up (shared with the rate sweep)."""
    parser.add_argument("--arrival", choices=ARRIVALS, default="constant",
                        help="open loop: gaps between arrivals (constant)")
    parser.add_argument("--burstiness", type=float, default=1.0,
                        help="gamma arrivals' shape: under 1 burstier, 1 Poisson (1)")
    parser.add_argument("--seed", type=int, default=0, help="arrivals' random seed (0)")
    parser.add_argument("--warmup", type=int, default=0,
                        help="requests sent first and left out of every figure (0)")


def add_slo_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--slo", type=_slos, default=None,
                        help='objectives, e.g. "TTFT p99 <= 2 s, TPOT p99 <= 200 ms, e2e <= 30 s"')


def _slos(text: str) -> list[Slo]:
    try:
        return parse_slos(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@contextlib.contextmanager
def server_for(args: argparse.Namespace) -> Iterator[tuple[str, int | None]]:
    """(base URL, pid or None): the reference server the script starts, or --url."""
    if not args.start_reference:
        yield args.url.rstrip("/"), getattr(args, "pid", None) or pid_listening_on(args.url)
        return
    from atlas_suite.server import ServerPool
    from atlas_suite.targets import TargetSettings

    pool = ServerPool(TargetSettings())
    try:
        server = pool.get()
        print(f"reference server at {server.base_url} (log {server.process.log_path})",
              file=sys.stderr)
        yield server.base_url, server.process.pid
    finally:
        pool.stop_all()




class Progress:
    """Counts samples as they complete; a thread prints a line every ``every`` seconds."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.done = self.failed = self.tokens = 0
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __call__(self, sample: Sample) -> None:
        self.done += 1
        self.failed += 0 if sample.ok else 1
        self.tokens += sample.tokens

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            elapsed = time.monotonic() - self.started
            print(f"  {elapsed:6.0f} s  {self.done} answered, {self.failed} failed, "
                  f"{self.done / elapsed:.2f} requests/s, {self.tokens / elapsed:.1f} tokens/s",
                  file=sys.stderr, flush=True)

    def __enter__(self) -> Progress:
        if self.every > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()


def run(args: argparse.Namespace) -> int:
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    with server_for(args) as (base_url, pid):
        model = served_model(base_url, headers)
        args.target = args.target or model
        workload = mix_workload(base_url, model, args)

        progress = Progress(args.progress)
        engine = LoadEngine(headers=headers, timeout_s=args.timeout, on_sample=progress)
        what = (f"{args.rate:g} requests/s, {args.arrival} arrivals (open loop)" if args.rate
                else f"{args.concurrent} users (closed loop)")
        print(f"load: {what}, {args.duration:g} s, {args.mix}, {args.max_tokens} tokens, "
              f"{base_url}", file=sys.stderr)
        monitor = ResourceMonitor(pid=pid, base_url=base_url, headers=headers,
                                  interval_s=max(0.5, args.duration / 2000))
        with monitor, progress:
            if args.rate:
                result = engine.open_loop(workload, args.rate, duration_s=args.duration,
                                          requests=args.requests,
                                          max_in_flight=max(64, args.concurrent),
                                          arrival=args.arrival, burstiness=args.burstiness,
                                          seed=args.seed, warmup=args.warmup)
            else:
                result = engine.closed_loop(workload, args.concurrent, requests=args.requests,
                                            duration_s=args.duration, warmup=args.warmup)
    return report(args, result, monitor, what)


def served_model(base_url: str, headers: dict[str, str]) -> str:
    """The first model the server lists."""
    return httpx.get(f"{base_url}/v1/models", headers=headers, timeout=30,
                     trust_env=False).json()["data"][0]["id"]


def mix_workload(base_url: str, model: str, args: argparse.Namespace):  # noqa: ANN201
    """The kinds of ``--mix`` in turn (a Workload)."""
    kinds = [completion_workload(base_url, model, max_tokens=args.max_tokens, atlas=a,
                                 stream=s, prompt_tokens=args.prompt_tokens, label=k)
             for k in args.mix.split(",") for a, s in [KINDS[k]]]
    return lambda i: kinds[i % len(kinds)](i)


def judge_slo_and_baseline(args: argparse.Namespace, summary: dict, figures: dict,
                           result: LoadResult) -> tuple[list[tuple[str, str]], list[str]]:
    """Rows for the SLOs and the baseline comparison, and what failed among them."""
    rows: list[tuple[str, str]] = []
    failed: list[str] = []
    if args.slo:
        slo = evaluate(result, args.slo)
        figures["slo"] = slo.figures()
        rows += slo.rows()
        failed += [f"SLO {s} missed" for s in slo.slos if not slo.run_holds(s)]
    if args.baseline:
        try:
            comparison = compare(load_baseline(args.baseline), summary, target=args.target,
                                 figures=args.baseline_figures.split(","),
                                 tolerance_pct=args.tolerance)
        except (ValueError, KeyError) as exc:
            rows.append(("baseline", str(exc)))
            failed.append(f"no comparison with the baseline: {exc}")
        else:
            figures["baseline"] = comparison.figures()
            rows += [(f"baseline {a}", b) for a, b in comparison.rows()]
            failed += [f"{c.name} regressed against the baseline" for c in comparison.regressed]
    return rows, failed


def report(args: argparse.Namespace, result: LoadResult, monitor: ResourceMonitor,
           what: str) -> int:
    summary = result.summary()
    name = args.name or f"atlas-load-test-{time.strftime('%Y%m%d-%H%M%S')}"
    figures = {"what": what, "args": {k: str(v) for k, v in vars(args).items()},
               **result.to_json(), "resources": monitor.to_json()}
    judged, failed = judge_slo_and_baseline(args, summary, figures, result)
    json_path = write_json(args.report_dir / f"{slug(name)}.json", figures)
    csv_path = result.write_csv(args.report_dir / f"{slug(name)}.csv")
    png_path = plot_load(args.report_dir / f"{slug(name)}.png", f"atlas-load-test: {what}",
                         result, monitor)
    rows = summary_rows(summary)
    resources = monitor.summary()
    rss = resources["rss_mb"]
    if rss["peak"] is not None:
        rows.append(("server RSS start / peak / end (MB)",
                     f"{rss['start']:.0f} / {rss['peak']:.0f} / {rss['end']:.0f}"))
        rows.append(("server RSS slope (MB/hour, after 20 %)", f"{rss['slope_mb_per_hour']:.1f}"))
        rows.append(("server CPU mean / peak (%; 100 = a core)",
                     f"{resources['cpu_percent']['mean']:.0f} / "
                     f"{resources['cpu_percent']['max']:.0f}"))
    else:
        rows.append(("server RSS / CPU", resources["unavailable"].get("process", "not sampled")))
    if resources["atlas_memory_mb"]["peak"] is not None:
        rows.append(("ATLAS memory peak (MB)", f"{resources['atlas_memory_mb']['peak']:.2f}"))
    if resources["gpu_util_percent"]["count"]:
        rows.append(("GPU utilisation mean / peak (%)",
                     f"{resources['gpu_util_percent']['mean']:.0f} / "
                     f"{resources['gpu_util_percent']['max']:.0f}"))
        rows.append(("GPU memory peak (MB)", f"{resources['gpu_memory_mb']['peak']:.0f}"))
    rows += judged
    print("\n" + render_table(rows))
    if len(result.labels()) > 1:
        print("\nby kind            requests  ok    p50 ms    p95 ms    p99 ms  tokens/s")
        for label in result.labels():
            part = result.select(label).summary()
            lat = part["latency_ms"]
            print(f"{label:<18} {part['requests']:>8} {part['succeeded']:>4} "
                  f"{_num(lat['p50'])} {_num(lat['p95'])} {_num(lat['p99'])} "
                  f"{part['tokens_per_s']:>9.1f}")
    print(f"\nfigures: {json_path}\nrequests: {csv_path}\nplot:    {png_path}")
    if args.save_baseline:
        path = save_baseline(args.save_baseline, summary, target=args.target, what=what)
        print(f"baseline saved: {path} (target {args.target})")
    bad = [s for s in result.failed if not (s.status == 503 and s.error == "unavailable_error")]
    for reason in failed:
        print(f"FAILED: {reason}", file=sys.stderr)
    return 1 if bad or not result.succeeded or failed else 0


def _num(value: float | None) -> str:
    return f"{value:>9.1f}" if value is not None else f"{'-':>9}"


def self_test() -> int:
    """The engine's own overhead against a local server that does nothing."""
    figures = measure_engine_overhead()
    seq, cap = figures["sequential"], figures["closed_loop_capacity"]
    late = figures["open_loop_punctuality"]
    rows = [
        ("raw socket round trip p50 / p99 (ms)",
         f"{seq['raw_socket_ms']['p50']:.3f} / {seq['raw_socket_ms']['p99']:.3f}"),
        ("engine, one user, p50 / p99 (ms)",
         f"{seq['engine_ms']['p50']:.3f} / {seq['engine_ms']['p99']:.3f}"),
        ("engine overhead per request, p50 (ms)", f"{seq['engine_overhead_p50_ms']:.3f}"),
        (f"capacity, {cap['users']} users (requests/s)", f"{cap['requests_per_s']:.0f}"),
        (f"open loop at {late['rate_per_s']:g}/s: lateness p50 / p95 / p99 (ms)",
         f"{late['lateness_ms']['p50']:.2f} / {late['lateness_ms']['p95']:.2f} / "
         f"{late['lateness_ms']['p99']:.2f}"),
    ]
    for key, value in figures.items():
        if key.startswith("stream_timing_"):
            users = key.split("_")[2]
            rows.append((f"streams, {users} users: token gap {value['interval_ms']:g} ms "
                         "measured p50 / p95 (ms)",
                         f"{value['itl_ms']['p50']:.2f} / {value['itl_ms']['p95']:.2f}"))
    print(render_table(rows))
    path = write_json(Path("reports/load/engine-overhead.json"), figures)
    print(f"\nfigures: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sweep"]:  # the rate sweep, as its own script does it
        path = Path(__file__).resolve().parent / "atlas-rate-sweep.py"
        spec = importlib.util.spec_from_file_location("atlas_rate_sweep", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return int(module.main(argv[1:]))
    args = parse_args(argv)
    if args.self_test:
        return self_test()
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
