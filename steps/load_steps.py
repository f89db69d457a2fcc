"""Load, performance and soak: many users, ATLAS overhead, save/load cycles, context scaling,
resources. The engine is ``atlas_suite.load``; every bound comes from the feature's Examples."""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from behave import given, then, when
from hamcrest import assert_that, equal_to, greater_than, less_than, less_than_or_equal_to

from atlas_suite.atlas import expect_ok
from atlas_suite.load_engine import LoadEngine, interleaved_pairs
from atlas_suite.load_result import LoadResult
from atlas_suite.load_tables import render_table, summary_rows
from atlas_suite.plots import plot_load, plot_pairs, plot_xy, publish, slug, write_json
from atlas_suite.reporting import attach_text
from atlas_suite.resources import (
    ResourceMonitor,
    gpu_process_ids,
    gpu_unavailable_reason,
    process_tree,
)
from atlas_suite.routes import atlas_extension, completion_body
from atlas_suite.stats import distribution, percentile
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.support import (
    api,
    current_server,
    http,
    noted,
    notes,
    skip,
    skips_when_unsupported,
    use_server,
)
from atlas_suite.timing import (
    ScalingFit,
    doubling_lengths,
    drift_ratio,
    generation_concurrency,
    paired_ratios,
    process_cpu_clock,
    scaling_design,
    scaling_fit,
    tail_ratio,
    total_ratio,
    update_cost_key,
)
from atlas_suite.workloads import RequestSpec, completion_workload, mixed_workload, varied_prompt

# what each kind of completion sends: (ATLAS on, streamed)
KINDS = {"ATLAS": (True, False), "streamed ATLAS": (True, True), "plain": (False, False),
         "streamed plain": (False, True)}
DEFAULT_SOAK_S = 75.0  # CI; -D soak_duration=86400 for the founding document's 24 hours
DEFAULT_TIMEOUT_S = 300.0  # one request, at most (-D load_timeout=S)


@dataclass
class LoadRun:
    """The figures of the scenario's load, where Then steps check them and record the checks."""

    what: str
    figures: dict[str, Any]
    json_path: Path
    result: LoadResult | None = None
    monitor: ResourceMonitor | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# -- helpers ----------------------------------------------------------------------------------
def _kind(text: str) -> tuple[bool, bool]:
    if text.strip() not in KINDS:
        raise AssertionError(f'unknown kind of completion "{text}": use one of '
                             f'{", ".join(repr(k) for k in KINDS)}')
    return KINDS[text.strip()]


def _userdata(context: Any, name: str, default: float) -> float:
    value = context.config.userdata.get(name)
    return float(value) if value not in (None, "") else default


def _engine(context: Any) -> LoadEngine:
    return LoadEngine(headers=dict(http(context).headers),
                      timeout_s=_userdata(context, "load_timeout", DEFAULT_TIMEOUT_S))


def _monitor(context: Any, interval_s: float = 0.5) -> ResourceMonitor:
    server = current_server(context)
    pid = server.process.pid if server.process is not None else None
    return ResourceMonitor(pid=pid, base_url=server.base_url, interval_s=interval_s,
                           headers=dict(http(context).headers))


def _run(context: Any) -> LoadRun:
    run = getattr(context, "load_run", None)
    assert run is not None, "no load was run in this scenario yet"
    return run


def _result(context: Any) -> LoadResult:
    result = _run(context).result
    assert result is not None, "this scenario's load has no request figures"
    return result


def _describe(context: Any) -> dict[str, Any]:
    server = current_server(context)
    return {"scenario": context.scenario.name, "feature": context.feature.name,
            "server": server.config.label(), "target": context.pool.settings.target,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "checks": []}


def _publish(context: Any, what: str, figures: dict[str, Any],
             plot: Callable[[Path], Path], **kept: Any) -> LoadRun:
    figures = {**_describe(context), "what": what, **figures}
    json_path, _ = publish(context, slug(context.scenario.name), figures, plot)
    run = LoadRun(what, figures, json_path, **kept)
    context.load_run = run
    return run


def _check(context: Any, check: str, value: Any, bound: Any, passed: bool) -> None:
    """Record a check and its verdict in the scenario's JSON figures (the report shows them)."""
    run = getattr(context, "load_run", None)
    if run is not None:
        run.figures["checks"].append({"check": check, "value": value, "bound": bound,
                                      "passed": bool(passed)})
        write_json(run.json_path, run.figures)


def _load(context: Any, what: str, drive: Callable[[LoadEngine], LoadResult],
          interval_s: float = 0.5) -> LoadRun:
    """Run ``drive`` with the server's resources sampled; publish figures, plot, summary."""
    engine = _engine(context)
    with _monitor(context, interval_s) as monitor:
        result = drive(engine)
    figures = {**result.to_json(), "resources": monitor.to_json()}
    run = _publish(context, what, figures,
                   lambda path: plot_load(path, what, result, monitor),
                   result=result, monitor=monitor)
    text = render_table(summary_rows(result.summary()))
    resources = monitor.summary()
    if resources["rss_mb"]["peak"] is not None:
        text += (f"\nserver RSS peak {resources['rss_mb']['peak']:.0f} MB, CPU mean "
                 f"{resources['cpu_percent']['mean'] or 0:.0f} %")
    attach_text(context, "load summary", f"{what}\n{text}")
    return run


# -- many users ---------------------------------------------------------------------------------
@given("one user's throughput with {n:Int} {kind} completions of {tokens:Int} tokens is noted")
def step_single_user(context: Any, n: int, kind: str, tokens: int) -> None:
    """One user sends ``n`` completions back to back; keep its tokens per second to compare.
    The next many-users load measures one user again right after itself, and the comparison
    takes the slower of the two: a machine that got busier or quieter meanwhile does not count
    against the server."""
    atlas, stream = _kind(kind)
    workload = completion_workload(current_server(context).base_url, api(context).model_id(),
                                   max_tokens=tokens, atlas=atlas, stream=stream)
    notes(context)["single_user"] = _single_user(context, workload, n)
    notes(context)["single_user_again"] = (workload, n)


def _single_user(context: Any, workload: Callable[[int], RequestSpec], n: int) -> dict[str, Any]:
    result = _engine(context).closed_loop(workload, 1, requests=n)
    assert_that(result.failed, equal_to([]), "the single user's requests must all succeed")
    return result.summary()


@when("{users:Int} users each send {per_user:Int} {kind} completions of {tokens:Int} tokens "
      "back to back")
def step_closed_loop(context: Any, users: int, per_user: int, kind: str, tokens: int) -> None:
    """A closed loop: ``users`` users on shared connection pools, each sending its next request
    as soon as its previous one is answered, ``users * per_user`` requests in all."""
    atlas, stream = _kind(kind)
    workload = completion_workload(current_server(context).base_url, api(context).model_id(),
                                   max_tokens=tokens, atlas=atlas, stream=stream)
    run = _load(context, f"{users} users x {per_user} {kind} completions of {tokens} tokens",
                lambda engine: engine.closed_loop(workload, users, requests=users * per_user))
    again = notes(context).pop("single_user_again", None)
    if again is not None:  # one user again, right after the load (see the Given)
        run.extra["single_user_after"] = _single_user(context, *again)


@when("{kind} completions of {tokens:Int} tokens arrive at {rate:Number} per second for "
      "{seconds:Int} seconds")
def step_open_loop(context: Any, kind: str, tokens: int, rate: float, seconds: int) -> None:
    """An open loop: requests arrive evenly at ``rate`` per second whether or not earlier ones
    were answered (at most 500 in flight)."""
    atlas, stream = _kind(kind)
    workload = completion_workload(current_server(context).base_url, api(context).model_id(),
                                   max_tokens=tokens, atlas=atlas, stream=stream)
    _load(context, f"{kind} completions of {tokens} tokens at {rate:g}/s for {seconds} s",
          lambda engine: engine.open_loop(workload, rate, duration_s=seconds,
                                          max_in_flight=500))


@then("every request was answered")
def step_all_answered(context: Any) -> None:
    """Every request was sent and got an HTTP answer: no refused connection, no timeout."""
    result = _result(context)
    unanswered = collections.Counter(s.error for s in result.samples if s.status is None)
    _check(context, "every request answered", sum(unanswered.values()) + result.not_sent, 0,
           not unanswered and not result.not_sent)
    assert_that(dict(unanswered), equal_to({}),
                f"requests without an HTTP answer, by error: {dict(unanswered)}")
    assert_that(result.not_sent, equal_to(0), "open-loop arrivals not sent (in-flight cap)")


@then("no request failed except with a documented 503")
def step_no_failures(context: Any) -> None:
    """Every answer is a success, or a 503 ``unavailable_error`` (admission control or a model
    still loading, the two refusals the contract documents)."""
    result = _result(context)
    bad = [s for s in result.failed if not (s.status == 503 and s.error == "unavailable_error")]
    kinds = collections.Counter(f"{s.status} {s.error}" for s in bad)
    _check(context, "failures other than documented 503s", len(bad), 0, not bad)
    assert_that(dict(kinds), equal_to({}),
                f"failed requests: {dict(kinds)}; first: {bad[0].detail if bad else ''}")


@then("the p{q:Int} latency is under {seconds:Number} seconds")
def step_latency_under(context: Any, q: int, seconds: float) -> None:
    """The q-th percentile of the successful requests' end-to-end latency is under ``seconds``."""
    latencies = _result(context).latencies()
    assert_that(len(latencies), greater_than(0), "no request succeeded")
    value = percentile(latencies, q) / 1000.0
    _check(context, f"p{q} latency (s)", value, seconds, value < seconds)
    assert_that(value, less_than(seconds), f"p{q} latency in seconds")


@then("the p{q:Int} time to first token is under {seconds:Number} seconds")
def step_ttft_under(context: Any, q: int, seconds: float) -> None:
    """The q-th percentile of the streams' time to first token is under ``seconds``."""
    ttft = [s.ttft_ms for s in _result(context).succeeded if s.ttft_ms is not None]
    assert_that(len(ttft), greater_than(0), "no stream delivered a token")
    value = percentile(ttft, q) / 1000.0
    _check(context, f"p{q} time to first token (s)", value, seconds, value < seconds)
    assert_that(value, less_than(seconds), f"p{q} time to first token in seconds")


@then("the p{q:Int} latency is at most {k:Number} times the mean latency")
def step_latency_tail(context: Any, q: int, k: float) -> None:
    """The q-th percentile of the latency against the mean latency of the same load: both move
    with the machine's speed, the ratio measures how fairly the queue serves its requests."""
    latencies = _result(context).latencies()
    assert_that(len(latencies), greater_than(0), "no request succeeded")
    value = tail_ratio(latencies, q)
    _check(context, f"p{q} latency / mean latency", value, k, value <= k)
    assert_that(value <= k, equal_to(True),
                f"p{q} latency {percentile(latencies, q):.0f} ms is {value:.2f} times the mean "
                f"({sum(latencies) / len(latencies):.0f} ms), expected at most {k}")


@then("the p{q:Int} time to first token is at most {k:Number} times the mean latency")
def step_ttft_tail(context: Any, q: int, k: float) -> None:
    """The q-th percentile of the streams' time to first token against the mean end-to-end
    latency of the same load: a stream waits its turn, not longer than the queue."""
    result = _result(context)
    ttft = [s.ttft_ms for s in result.succeeded if s.ttft_ms is not None]
    latencies = result.latencies()
    assert_that(len(ttft), greater_than(0), "no stream delivered a token")
    mean = sum(latencies) / len(latencies)
    value = percentile(ttft, q) / mean
    _check(context, f"p{q} time to first token / mean latency", value, k, value <= k)
    assert_that(value <= k, equal_to(True),
                f"p{q} time to first token {percentile(ttft, q):.0f} ms is {value:.2f} times "
                f"the mean latency ({mean:.0f} ms), expected at most {k}")


@then("on average at least {n:Number} streams were generating tokens at the same time")
def step_streams_side_by_side(context: Any, n: float) -> None:
    """Each stream generates from its first token to its last byte; over the time any stream
    generated, the mean number generating at once (1 for a server that serialises requests)."""
    value = generation_concurrency(_result(context).generation_intervals())
    _check(context, "streams generating at once (mean)", value, n, value >= n)
    assert_that(value >= n, equal_to(True),
                f"on average {value:.2f} streams were generating tokens at the same time, "
                f"expected at least {n}: the server answers its requests one after another")


@then("the throughput is at least {ratio:Number} times the single-user throughput")
def step_throughput_ratio(context: Any, ratio: float) -> None:
    """Tokens per second under load against one user alone (the slower of the measurements
    just before and just after the load): load must not make it collapse."""
    before = noted(context, "single_user")["tokens_per_s"]
    after = _run(context).extra.get("single_user_after", {}).get("tokens_per_s", before)
    single = min(before, after)
    loaded = _result(context).summary()["tokens_per_s"]
    value = loaded / single if single else 0.0
    _check(context, "throughput / single-user throughput", value, ratio, value >= ratio)
    _check(context, "single-user tokens/s before, after the load (reported)", [before, after],
           None, True)
    assert_that(value >= ratio, equal_to(True),
                f"{loaded:.1f} tokens/s under load against {single:.1f} for one user "
                f"({before:.1f} before the load, {after:.1f} after): {value:.2f} times, "
                f"expected at least {ratio}")


@then("the throughput is at least {rps:Number} requests per second")
def step_rps(context: Any, rps: float) -> None:
    """Successful requests per second over the whole load."""
    value = _result(context).summary()["requests_per_s"]
    _check(context, "requests per second", value, rps, value >= rps)
    assert_that(value >= rps, equal_to(True), f"{value:.2f} requests/s, expected at least {rps}")


@then("the arrivals kept to their schedule within {ms:Number} ms at p95")
def step_punctual(context: Any, ms: float) -> None:
    """The open loop sent 95 % of its requests less than ``ms`` after their planned time. The
    sends are the load generator's, not the server's: when the machine starves the generator,
    the run was no open loop and says nothing about the server, so the scenario is skipped with
    the figure rather than failed."""
    lateness = [s.lateness_ms for s in _result(context).samples if s.lateness_ms is not None]
    value = percentile(lateness, 95)
    _check(context, "p95 send lateness (ms)", value, ms, value < ms)
    if value >= ms:
        skip(context, f"the load generator fell behind its own schedule (p95 {value:.0f} ms "
                      f"late, bound {ms:g} ms): this machine could not hold an open loop")


# -- ATLAS overhead ------------------------------------------------------------------------------
OVERHEAD_PROMPT = "The capital of France is"


@when("I send {pairs:Int} interleaved pairs of the same {tokens:Int}-token completion, with "
      "ATLAS and against {baseline}")
@skips_when_unsupported
def step_overhead_pairs(context: Any, pairs: int, tokens: int, baseline: str) -> None:
    """One request at a time: pairs of the same completion with ATLAS on and, as the baseline,
    either "the same server without the atlas object" or "a plain server started without
    ATLAS"; the order inside a pair alternates. 10 warm-up pairs are not counted."""
    server = current_server(context)
    model = api(context).model_id()
    if baseline == "the same server without the atlas object":
        base_url = server.base_url
    elif baseline == "a plain server started without ATLAS":
        plain = context.pool.get(server.config.with_(atlas=False))
        base_url = plain.base_url
        use_server(context, plain)
        model_plain = api(context).model_id()
        use_server(context, server)
        assert_that(model_plain, equal_to(model), "both servers must serve the same model")
    else:
        raise AssertionError(f'unknown baseline "{baseline}": say "the same server without the '
                             'atlas object" or "a plain server started without ATLAS"')

    def spec(url: str, atlas: bool, label: str) -> Callable[[int], RequestSpec]:
        body = completion_body(model, OVERHEAD_PROMPT, max_tokens=tokens,
                               atlas=atlas_extension() if atlas else None)
        return lambda _: RequestSpec(url + "/v1/completions", body, label=label,
                                     keep_payload=True)

    off = spec(base_url, False, "ATLAS off")
    on = spec(server.base_url, True, "ATLAS on")
    engine = _engine(context)
    with _monitor(context) as monitor:
        pairs_out = interleaved_pairs(engine, off, on, pairs, warmup=10)
    result: LoadResult = pairs_out["result"]
    updates = [s.atlas["memory_update_ms"] for s in result.succeeded
               if s.atlas and isinstance(s.atlas.get("memory_update_ms"), (int, float))]
    figures = {
        "baseline": baseline, "pairs_sent": pairs, "pairs_complete": pairs_out["pairs_complete"],
        "max_tokens": tokens, "prompt": OVERHEAD_PROMPT,
        "atlas_off_ms": distribution(pairs_out["first_ms"]),
        "atlas_on_ms": distribution(pairs_out["second_ms"]),
        "paired_difference_ms": distribution(pairs_out["diff_ms"]),
        "paired_median_ms": pairs_out["paired_median_ms"],
        "difference_of_medians_ms": pairs_out["median_difference_ms"],
        "memory_update_ms": distribution(updates),
        "method": "median of per-pair differences (ATLAS on - ATLAS off), pairs interleaved "
                  "one request at a time, order alternating; numpy.percentile 'linear'",
        "errors": result.summary()["errors"], "resources": monitor.summary(),
    }
    run = _publish(context, f"ATLAS overhead against {baseline}", figures,
                   lambda path: plot_pairs(path, f"ATLAS on vs off ({baseline})",
                                           ("ATLAS off", "ATLAS on"), pairs_out["first_ms"],
                                           pairs_out["second_ms"], pairs_out["diff_ms"],
                                           pairs_out["paired_median_ms"]),
                   result=result, monitor=monitor)
    run.extra.update(pairs_out)
    attach_text(context, "overhead", render_table([
        ("pairs complete", f"{pairs_out['pairs_complete']} of {pairs}"),
        ("ATLAS off p50 (ms)", f"{percentile(pairs_out['first_ms'], 50):.2f}"),
        ("ATLAS on p50 (ms)", f"{percentile(pairs_out['second_ms'], 50):.2f}"),
        ("median of paired differences (ms)", f"{pairs_out['paired_median_ms']:.2f}"),
        ("difference of medians (ms)", f"{pairs_out['median_difference_ms']:.2f}"),
        ("memory update p50 (ms)", f"{percentile(updates, 50):.2f}"),
    ]))


@then("every paired request succeeded")
def step_pairs_ok(context: Any) -> None:
    """Both members of every pair were answered with success."""
    run = _run(context)
    complete, sent = run.extra["pairs_complete"], run.extra["pairs_sent"]
    _check(context, "complete pairs", complete, sent, complete == sent)
    failures = collections.Counter(f"{s.status} {s.error}" for s in _result(context).failed)
    assert_that(complete, equal_to(sent), f"incomplete pairs; failures: {dict(failures)}")


@then("the median of the paired ratios is at most {ratio:Number}")
def step_paired_ratio(context: Any, ratio: float) -> None:
    """ATLAS on / ATLAS off, per pair; the median of those ratios is at most ``ratio``. The
    median of the differences, in ms, is reported beside it."""
    comparison = paired_ratios(_run(context).extra["first_ms"], _run(context).extra["second_ms"])
    _check(context, "median paired ratio (ATLAS on / off)", comparison.median_ratio, ratio,
           comparison.median_ratio <= ratio)
    _check(context, "median paired difference (ms), reported", comparison.median_difference_ms,
           None, True)
    assert_that(comparison.median_ratio <= ratio, equal_to(True),
                f"with ATLAS the median pair took {comparison.median_ratio:.2f} times as long "
                f"({comparison.median_difference_ms:.1f} ms more; p50 {comparison.a_p50_ms:.1f}"
                f" ms off, {comparison.b_p50_ms:.1f} ms on), expected at most {ratio}")


@then("the median of the paired differences is under {ms:Number} ms")
def step_paired_median(context: Any, ms: float) -> None:
    """ATLAS on minus ATLAS off, per pair; the median of those differences is under ``ms``."""
    value = _run(context).extra["paired_median_ms"]
    _check(context, "median paired difference (ms)", value, ms, value < ms)
    assert_that(value, less_than(ms), "ATLAS overhead: median of the paired differences, ms")


# -- save and load cycles ------------------------------------------------------------------------
def _folder_listing(context: Any) -> dict[str, Any]:
    """The memory files the server lists, and every entry of its folder when reachable."""
    listing: dict[str, Any] = {"api": sorted(api(context).list_files())}
    folder = current_server(context).memory_dir
    if folder is not None and folder.is_dir():
        listing["folder"] = sorted(p.name for p in folder.iterdir())  # hidden temp files too
    return listing


@when('the memory is saved and loaded {cycles:Int} times as "{name}", reading a little text '
      "every {every:Int} cycles")
def step_save_load_cycles(context: Any, cycles: int, name: str, every: int) -> None:
    """Save the default memory to ``name`` and load it back, ``cycles`` times, one request at a
    time; every ``every`` cycles a short ATLAS completion changes the memory first. Stops at
    the count, or after ``cycles`` x 0.25 s (60 s at least): 50 times the 5 ms a cycle takes,
    so that a server whose saves or loads take seconds is stopped in minutes, not hours."""
    atlas = api(context)
    before = _folder_listing(context)
    base_url = current_server(context).base_url
    model = atlas.model_id()
    rows: list[dict[str, Any]] = []
    deadline = time.monotonic() + max(60.0, cycles * 0.25)
    headers = dict(http(context).headers)
    server = current_server(context)
    cpu_clock = process_cpu_clock(server.process.pid if server.process is not None else None)
    with _monitor(context) as monitor, \
            httpx.Client(base_url=base_url, headers=headers, timeout=60, trust_env=False) as c:
        for cycle in range(cycles):
            if time.monotonic() > deadline:
                break
            row: dict[str, Any] = {"cycle": cycle, "learned": cycle % every == 0}
            if row["learned"]:
                body = completion_body(model, varied_prompt(24, cycle), max_tokens=1,
                                       atlas=atlas_extension())
                row["learn_status"] = c.post("/v1/completions", json=body).status_code
            cpu_before, started = cpu_clock(), time.perf_counter()
            saved = c.post("/v1/atlas/memory/save", json={"filename": name})
            middle = time.perf_counter()
            loaded = c.post("/v1/atlas/memory/load", json={"filename": name})
            ended, cpu_after = time.perf_counter(), cpu_clock()
            row.update(save_ms=(middle - started) * 1000.0, load_ms=(ended - middle) * 1000.0,
                       save_status=saved.status_code, load_status=loaded.status_code,
                       server_cpu_ms=None if cpu_before is None or cpu_after is None
                       else cpu_after - cpu_before)
            if saved.status_code == 200 and loaded.status_code == 200:
                row["saved_fp"] = saved.json()["fingerprint"]
                row["same_fingerprint"] = loaded.json()["fingerprint"] == row["saved_fp"]
            else:
                row["error"] = (saved.text if saved.status_code != 200 else loaded.text)[:300]
            rows.append(row)
    cycle_ms = [r["save_ms"] + r["load_ms"] for r in rows]
    cpu = [r["server_cpu_ms"] for r in rows]
    cycle_cpu_ms = cpu if rows and all(v is not None for v in cpu) else None
    window = min(100, max(1, len(rows) // 2))
    figures = {
        "cycles_asked": cycles, "cycles_done": len(rows), "filename": name,
        "learn_every": every,
        "save_ms": distribution([r["save_ms"] for r in rows]),
        "load_ms": distribution([r["load_ms"] for r in rows]),
        "cycle_ms": distribution(cycle_ms),
        "first_window_median_ms": percentile(cycle_ms[:window], 50),
        "last_window_median_ms": percentile(cycle_ms[-window:], 50),
        "failed_cycles": sum(1 for r in rows if "error" in r),
        "wrong_fingerprints": sum(1 for r in rows if r.get("same_fingerprint") is False),
        "distinct_saved_states": len({r.get("saved_fp") for r in rows if r.get("saved_fp")}),
        "folder_before": before, "resources": monitor.summary(), "cycles": rows,
    }
    xs = [r["cycle"] for r in rows]
    _publish(context, f"{cycles} save/load cycles of {name}", figures,
             lambda path: plot_xy(path, f"save and load of {name}, per cycle",
                                  {"save (ms)": (xs, [r["save_ms"] for r in rows]),
                                   "load (ms)": (xs, [r["load_ms"] for r in rows])},
                                  xlabel="cycle", ylabel="ms", kind="scatter"),
             monitor=monitor, extra={"rows": rows, "cycle_ms": cycle_ms, "before": before,
                                     "cycles": cycles, "cycle_cpu_ms": cycle_cpu_ms})
    attach_text(context, "save/load cycles", render_table([
        ("cycles done", f"{len(rows)} of {cycles}"),
        ("save p50 / p95 (ms)", f"{figures['save_ms']['p50']:.2f} / "
                                f"{figures['save_ms']['p95']:.2f}"),
        ("load p50 / p95 (ms)", f"{figures['load_ms']['p50']:.2f} / "
                                f"{figures['load_ms']['p95']:.2f}"),
        (f"median of first / last {window} cycles (ms)",
         f"{figures['first_window_median_ms']:.2f} / {figures['last_window_median_ms']:.2f}"),
    ]))


@then("every save and load succeeded, and each load gave back the fingerprint just saved")
def step_cycles_ok(context: Any) -> None:
    """All cycles ran, none failed, every load's fingerprint equals its save's, and the memory
    really changed along the way (else the check would be empty)."""
    figures = _run(context).figures
    failed = [r for r in _run(context).extra["rows"] if "error" in r]
    _check(context, "failed cycles", len(failed), 0, not failed)
    assert_that(figures["cycles_done"], equal_to(figures["cycles_asked"]),
                "cycles done before the deadline")
    assert_that(len(failed), equal_to(0),
                f"failed cycles, first: {failed[0] if failed else None}")
    assert_that(figures["wrong_fingerprints"], equal_to(0), "loads that changed the memory")
    assert_that(figures["distinct_saved_states"], greater_than(1),
                "the memory never changed between saves")


@then("every save took under {save_s:Number} seconds and every load under {load_s:Number} "
      "seconds")
def step_cycle_times(context: Any, save_s: float, load_s: float) -> None:
    """The slowest save and the slowest load of the cycles, timed by the client."""
    figures = _run(context).figures
    slowest_save, slowest_load = figures["save_ms"]["max"] / 1000, figures["load_ms"]["max"] / 1000
    _check(context, "slowest save (s)", slowest_save, save_s, slowest_save < save_s)
    _check(context, "slowest load (s)", slowest_load, load_s, slowest_load < load_s)
    assert_that(slowest_save, less_than(save_s), "the slowest save, in seconds")
    assert_that(slowest_load, less_than(load_s), "the slowest load, in seconds")


@then("{q:Int} % of saves took under {save_s:Number} seconds and {q2:Int} % of loads under "
      "{load_s:Number} seconds")
def step_cycle_percentiles(context: Any, q: int, save_s: float, q2: int, load_s: float) -> None:
    """The q-th percentile of the saves' times and the q2-th of the loads', timed by the
    client: a few slow moments of a shared disk are tolerated, a slow save or load is not."""
    rows = _run(context).extra["rows"]
    save = percentile([r["save_ms"] for r in rows], q) / 1000
    load = percentile([r["load_ms"] for r in rows], q2) / 1000
    _check(context, f"p{q} save (s)", save, save_s, save < save_s)
    _check(context, f"p{q2} load (s)", load, load_s, load < load_s)
    assert_that(save, less_than(save_s), f"the p{q} save, in seconds")
    assert_that(load, less_than(load_s), f"the p{q2} load, in seconds")


@then("the median of the last {n:Int} cycles is at most {ratio:Number} times the median of "
      "the first {m:Int}")
def step_cycles_stable(context: Any, n: int, ratio: float, m: int) -> None:
    """Save+load time does not creep up: the median of the last ``n`` cycles against the
    median of the first ``m``."""
    cycle_ms = _run(context).extra["cycle_ms"]
    assert_that(len(cycle_ms), greater_than(n + m - 1), "not enough cycles for the comparison")
    first, last = percentile(cycle_ms[:m], 50), percentile(cycle_ms[-n:], 50)
    value = drift_ratio(cycle_ms, m, n)
    _check(context, f"median last {n} / median first {m}", value, ratio, value <= ratio)
    assert_that(value, less_than_or_equal_to(ratio),
                f"the last {n} cycles (median {last:.2f} ms) against the first {m} "
                f"({first:.2f} ms)")


@then("the last {n:Int} cycles cost the server at most {ratio:Number} times what the first "
      "{m:Int} did")
def step_cycles_cost_stable(context: Any, n: int, ratio: float, m: int) -> None:
    """Save+load does not grow costlier: the server process's CPU time over the last ``n``
    cycles against the first ``m`` (other jobs on the machine barely move it). A server the
    suite did not start has no known process: then the cycles' wall-clock time, total over
    total, which a machine getting busier meanwhile also moves."""
    extra = _run(context).extra
    series, what = extra["cycle_cpu_ms"], "server CPU time"
    if series is None:
        series, what = extra["cycle_ms"], "wall-clock time"
    assert_that(len(series), greater_than(n + m - 1), "not enough cycles for the comparison")
    value = total_ratio(series, m, n)
    _check(context, f"{what}, last {n} cycles / first {m}", value, ratio, value <= ratio)
    assert_that(value <= ratio, equal_to(True),
                f"the last {n} cycles took {value:.2f} times the {what} of the first {m} "
                f"({sum(series[-n:]) / n:.2f} ms against {sum(series[:m]) / m:.2f} ms a cycle), "
                f"expected at most {ratio}")


@then('once "{name}" is deleted, the memory folder holds exactly what it held before')
def step_nothing_left(context: Any, name: str) -> None:
    """Delete the cycles' file; the server's listing and the folder itself (hidden temporary
    files included, when the suite can see the folder) are as before the cycles."""
    expect_ok(api(context).delete(name), f'delete "{name}"')
    before, after = _run(context).extra["before"], _folder_listing(context)
    _check(context, "memory folder unchanged", after, before, after == before)
    assert_that(after, equal_to(before), "files left behind by the save/load cycles")


# -- context scaling --------------------------------------------------------------------------
@given("an ATLAS server with {slots:Int} slots of {tokens:Int} tokens of context")
@skips_when_unsupported
def step_context_server(context: Any, slots: int, tokens: int) -> None:
    """A server started with ``-np SLOTS -c SLOTS*TOKENS`` (llama.cpp splits the context among
    the slots); with 4 slots of 1024 it is the default server."""
    config = context.pool.default_config.with_(parallel=slots, ctx_size=slots * tokens)
    use_server(context, context.pool.get(config))
    notes(context)["slot_tokens"] = tokens


@when("ATLAS prompts doubling from {start:Int} tokens up to the slot's context are each sent "
      "{repeats:Int} times")
def step_scaling(context: Any, start: int, repeats: int) -> None:
    """Prompts of start, 2 x start, ... tokens, up to the slot's context less the completion
    (4 tokens), every length ``repeats`` times in a shuffled order (seeded), one at a time.
    Fitted against the tokens the answer reports: the memory update's cost (the answer's
    ``atlas.memory_update_cpu_ms`` when every answer has it, else ``atlas.memory_update_ms``)
    against ``atlas.tokens_memorized``, and the latency against ``usage.prompt_tokens``; per
    length the minimum of the repeats (noise on a shared machine only ever adds time)."""
    slot = int(noted(context, "slot_tokens"))
    max_tokens = 4
    top = int((slot - max_tokens) * 0.9)  # the tokenizer may count a little over the estimate
    lengths = doubling_lengths(start, top)
    order = scaling_design(lengths, repeats)
    model = api(context).model_id()
    url = current_server(context).base_url + "/v1/completions"

    def workload(i: int) -> RequestSpec:
        r, length = order[i]
        body = completion_body(model, varied_prompt(length, 10_000 * r + length),
                               max_tokens=max_tokens, atlas=atlas_extension())
        return RequestSpec(url, body, label=str(length), keep_payload=True)

    run = _load(context, f"ATLAS prompts of {lengths[0]} to {lengths[-1]} tokens, "
                         f"{repeats} times each",
                lambda engine: engine.closed_loop(workload, 1, requests=len(order)))
    points = [{"length": int(s.label), "prompt_tokens": s.payload["usage"]["prompt_tokens"],
               "tokens_memorized": s.atlas["tokens_memorized"],
               "update_ms": s.atlas["memory_update_ms"],
               "update_cpu_ms": s.atlas.get("memory_update_cpu_ms"), "latency_ms": s.latency_ms}
              for s in (run.result.samples if run.result else [])
              if s.ok and s.atlas and isinstance(s.payload, dict)]
    update_key = update_cost_key(points)
    fits = {"memory update": scaling_fit("memory update", points, "length", "tokens_memorized",
                                         update_key),
            "latency": scaling_fit("latency", points, "length", "prompt_tokens", "latency_ms")}
    run.figures.update(lengths=lengths, repeats=repeats, points=points,
                       fits={k: f.to_json() for k, f in fits.items()},
                       memory_update_figure=update_key, statistic="minimum of the repeats")
    run.extra["fits"] = fits
    write_json(run.json_path, run.figures)
    plot_xy(run.json_path.with_suffix(".png"), "context scaling: minimum per length",
            {f"memory update ({update_key})": (fits["memory update"].x, fits["memory update"].y),
             "latency (ms)": (fits["latency"].x, fits["latency"].y)},
            xlabel="tokens", ylabel="ms",
            fits={f"memory update ({update_key})": fits["memory update"].to_json(),
                  "latency (ms)": fits["latency"].to_json()},
            separate=True)
    attach_text(context, "context scaling", render_table(
        [(f"{name} ({fit.y_is}): R², slope ratio, per-token ratio, per 1k tokens",
          f"{fit.r2:.4f}, {fit.slope_ratio:.2f}, {fit.per_token_ratio:.2f}, "
          f"{fit.per_1k_tokens_ms:.1f} ms") for name, fit in fits.items()]))


def _fit(context: Any, what: str) -> ScalingFit:
    names = {"memory update time": "memory update", "memory update cost": "memory update",
             "latency": "latency"}
    assert what in names, f'say "memory update time" or "latency", not "{what}"'
    return _run(context).extra["fits"][names[what]]


@then("the {what} grows linearly with the length: R-squared at least {r2:Number}, slope ratio "
      "at most {ratio:Number}")
def step_linear(context: Any, what: str, r2: float, ratio: float) -> None:
    """``what`` is "memory update time" or "latency": the straight-line fit of its per-length
    minimum explains at least ``r2`` of the variance, and the slope over the longer half of the
    lengths is at most ``ratio`` times the slope over the shorter half. Absolute enough to
    belong to a dedicated machine (``@hardware``); the default run uses the next two steps."""
    fit = _fit(context, what)
    _check(context, f"{what} R²", fit.r2, r2, fit.r2 >= r2)
    _check(context, f"{what} slope ratio", fit.slope_ratio, ratio, fit.slope_ratio <= ratio)
    assert_that(fit.r2 >= r2, equal_to(True), f"{what}: R² {fit.r2:.4f} < {r2} "
                                              f"({fit.describe()})")
    assert_that(fit.slope_ratio <= ratio, equal_to(True),
                f"{what}: slope ratio {fit.slope_ratio:.2f} > {ratio} ({fit.describe()})")


@then("the memory update cost grows linearly with the length: slope ratio at most "
      "{ratio:Number}")
def step_update_slope_ratio(context: Any, ratio: float) -> None:
    """The memory update's cost for one more token, over the longer half of the lengths
    against the shorter half, is at most ``ratio`` (1 for any straight line). The cost is its
    CPU time when the server reports ``atlas.memory_update_cpu_ms``, else its wall time."""
    fit = _fit(context, "memory update cost")
    _check(context, f"memory update slope ratio ({fit.y_is})", fit.slope_ratio, ratio,
           fit.slope_ratio <= ratio)
    assert_that(fit.slope_ratio <= ratio, equal_to(True),
                f"each added token cost the memory update {fit.slope_ratio:.2f} times more "
                f"over the longer prompts than over the shorter ones, expected at most "
                f"{ratio} ({fit.describe()})")


@then("the latency per token at the longest prompt is at most {ratio:Number} times that at "
      "the shortest")
def step_latency_per_token(context: Any, ratio: float) -> None:
    """Latency / prompt tokens at the longest prompt against the shortest (minimum of the
    repeats): at most 1 for a straight line with a fixed part, the span for a quadratic."""
    fit = _fit(context, "latency")
    _check(context, "latency per-token ratio", fit.per_token_ratio, ratio,
           fit.per_token_ratio <= ratio)
    assert_that(fit.per_token_ratio <= ratio, equal_to(True),
                f"a token of the longest prompt took {fit.per_token_ratio:.2f} times as long "
                f"as one of the shortest, expected at most {ratio} ({fit.describe()})")


# -- resources ------------------------------------------------------------------------------------
@given("the server's process can be watched")
def step_process_watchable(context: Any) -> None:
    """The suite started the server and psutil can read its process; otherwise the scenario is
    skipped with the reason (a url target's process is unknown to the suite)."""
    server = current_server(context)
    if server.process is None or server.process.pid is None:
        skip(context, "the suite did not start this server (target=url), so its process is "
                      "unknown: RSS and CPU cannot be sampled")
        return
    try:
        psutil.Process(server.process.pid).memory_info()
    except psutil.Error as exc:
        skip(context, f"psutil cannot read the server's process: {exc}")


@given("a GPU is visible to this machine")
def step_gpu_visible(context: Any) -> None:
    """pynvml sees at least one NVIDIA GPU; otherwise the scenario is skipped with the reason."""
    reason = gpu_unavailable_reason()
    if reason is not None:
        skip(context, reason)


@given("the server runs on the GPU")
def step_server_on_gpu(context: Any) -> None:
    """The server's process (or, for a server the suite did not start, some process) holds GPU
    memory; otherwise the scenario is skipped: GPU bounds mean nothing for a CPU server."""
    users = gpu_process_ids()
    server = current_server(context)
    if server.process is not None and server.process.pid is not None:
        if not users & process_tree(server.process.pid):
            skip(context, "the server holds no GPU memory (it runs on the CPU): the GPU "
                          "figures are for a GPU deployment (-ngl N / --cuda)")
    elif not users:
        skip(context, "no process holds GPU memory, so the server does not run on the GPU")


def _resources(context: Any) -> dict[str, Any]:
    monitor = _run(context).monitor
    assert monitor is not None, "this scenario's load did not sample resources"
    return monitor.summary()


@then("the server's peak RSS stayed under {mb:Int} MB")
def step_rss_peak(context: Any, mb: int) -> None:
    """The highest resident memory (process and children) sampled during the load."""
    peak = _resources(context)["rss_mb"]["peak"]
    assert peak is not None, "no RSS sample was taken"
    _check(context, "peak RSS (MB)", peak, mb, peak < mb)
    assert_that(peak, less_than(mb), "the server's peak RSS in MB")


@then("the server's RSS grew by less than {mb:Int} MB during the load")
def step_rss_growth(context: Any, mb: int) -> None:
    """The last RSS sample minus the first."""
    rss = _resources(context)["rss_mb"]
    assert rss["start"] is not None, "no RSS sample was taken"
    growth = rss["end"] - rss["start"]
    _check(context, "RSS growth (MB)", growth, mb, growth < mb)
    assert_that(growth, less_than(mb), f"RSS went from {rss['start']:.0f} to {rss['end']:.0f} MB")


@then("the server used at most {ms:Number} ms of CPU per completion")
def step_cpu_per_request(context: Any, ms: float) -> None:
    """CPU time (user + system, process and children) during the load, per successful
    completion: a server that spins or does needless work shows here."""
    seconds = _resources(context)["cpu_seconds"]
    done = len(_result(context).succeeded)
    assert seconds is not None and done > 0, "no CPU time or no successful completion"
    value = seconds * 1000.0 / done
    _check(context, "CPU ms per completion", value, ms, value <= ms)
    assert_that(value, less_than_or_equal_to(ms), "CPU milliseconds per completion")


@then("the ATLAS memory stayed under {mb:Number} MB")
def step_atlas_memory(context: Any, mb: float) -> None:
    """The memories' parameters as the server reports them (status bytes x memories)."""
    peak = _resources(context)["atlas_memory_mb"]["peak"]
    assert peak is not None, "the server's status gave no memory size"
    _check(context, "ATLAS memory peak (MB)", peak, mb, peak < mb)
    assert_that(peak, less_than(mb), "ATLAS memory in MB")


@then("the GPU memory used stayed under {mb:Int} MB")
def step_gpu_memory(context: Any, mb: int) -> None:
    """Memory used on the GPUs (all of them, every process) sampled during the load."""
    peak = _resources(context)["gpu_memory_mb"]["peak"]
    assert peak is not None, "no GPU memory sample was taken"
    _check(context, "GPU memory peak (MB)", peak, mb, peak < mb)
    assert_that(peak, less_than(mb), "GPU memory used in MB")


@then("GPU utilisation was sampled during the load")
def step_gpu_sampled(context: Any) -> None:
    """At least one GPU utilisation reading was taken (its figures are in the report)."""
    count = _resources(context)["gpu_util_percent"]["count"]
    _check(context, "GPU utilisation samples", count, ">0", count > 0)
    assert_that(count, greater_than(0), "GPU utilisation samples")


# -- soak -------------------------------------------------------------------------------------
@when("{users:Int} users send a mix of ATLAS, streamed ATLAS and plain completions of "
      "{tokens:Int} tokens for the soak duration")
def step_soak(context: Any, users: int, tokens: int) -> None:
    """A closed loop for ``-D soak_duration=SECONDS`` (75 s by default, 86400 for a day): the
    kinds of completion in turn, resources sampled throughout."""
    seconds = _userdata(context, "soak_duration", DEFAULT_SOAK_S)
    workload = mixed_workload(current_server(context).base_url, api(context).model_id(),
                              max_tokens=tokens)
    _load(context, f"soak: {users} users, mixed completions of {tokens} tokens, {seconds:g} s",
          lambda engine: engine.closed_loop(workload, users, duration_s=seconds),
          interval_s=max(0.5, seconds / 2000))


def _thirds(context: Any) -> tuple[LoadResult, LoadResult]:
    result = _result(context)
    third = result.duration_s / 3

    def part(lo: float, hi: float) -> LoadResult:
        return LoadResult(result.mode, [s for s in result.samples if lo <= s.sent_s < hi],
                          third, result.users)

    return part(0, third), part(2 * third, result.duration_s + 1)


@then("the throughput of the last third is at least {ratio:Number} times that of the first "
      "third")
def step_soak_throughput(context: Any, ratio: float) -> None:
    """Successful requests per second, requests sent in the last third of the run against
    those sent in the first third."""
    first, last = _thirds(context)
    a, b = len(first.succeeded), len(last.succeeded)
    value = b / a if a else 0.0
    _check(context, "throughput last third / first third", value, ratio, value >= ratio)
    assert_that(value >= ratio, equal_to(True),
                f"{b} successful requests in the last third against {a} in the first")


@then("the p95 latency of the last third is at most {ratio:Number} times that of the first "
      "third")
def step_soak_latency(context: Any, ratio: float) -> None:
    """p95 end-to-end latency, last third of the run against the first third."""
    first, last = _thirds(context)
    a, b = percentile(first.latencies(), 95), percentile(last.latencies(), 95)
    value = b / a
    _check(context, "p95 latency last third / first third", value, ratio, value <= ratio)
    assert_that(value, less_than_or_equal_to(ratio),
                f"p95 {b:.0f} ms in the last third against {a:.0f} ms in the first")


@then("the server's RSS slope is under {mb:Number} MB per hour")
def step_rss_slope(context: Any, mb: float) -> None:
    """Least-squares slope of the server's RSS after the first 20 % of the run (warm-up):
    a leak shows as a steady climb."""
    slope = _resources(context)["rss_mb"]["slope_mb_per_hour"]
    assert slope is not None, "not enough RSS samples for a slope"
    _check(context, "RSS slope (MB/hour)", slope, mb, slope < mb)
    assert_that(slope, less_than(mb), "RSS slope in MB per hour")


@then("the server's memory grows by less than {kb:Number} KB per completed request")
def step_growth_per_request(context: Any, kb: float) -> None:
    """Resident memory against work done: the least-squares slope of the server's RSS over the
    number of requests completed so far, after the first 20 % of the run. A server that keeps
    something of every request grows by the same amount per request however busy the machine
    is. Growth that stays inside the RSS's own spread around the fit (allocators breathe by
    a few MB) is not counted as a leak: on a short run it is noise; a longer soak decides."""
    run = _run(context)
    assert run.monitor is not None and run.result is not None, "no load with resources was run"
    growth = run.monitor.growth_per_request(run.result.done_at())
    value = growth["kb_per_request"]
    assert not math.isnan(value), f"too few RSS samples to relate to requests: {growth}"
    leaking = value >= kb and growth["growth_kb"] > growth["noise_kb"]
    _check(context, "RSS growth per completed request (KB)", value, kb, not leaking)
    assert_that(not leaking, equal_to(True), (
        f"RSS grew {value:.1f} KB per completed request (bound {kb:g}): "
        f"{growth['growth_kb'] / 1024:.1f} MB over {growth['requests']} requests, beyond its "
        f"spread of {growth['noise_kb'] / 1024:.1f} MB around the fit"))


__all__ = [name for name in dir() if name.startswith("step_")]
