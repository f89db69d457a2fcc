"""Service-level objectives, goodput, arrival processes, rate sweeps and baselines. The library
is ``atlas_suite.slo``, ``atlas_suite.experiments.sweep`` and ``atlas_suite.baseline``;
docs/load-figures.md defines every figure."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from behave import given, then, when
from hamcrest import assert_that, equal_to, greater_than, greater_than_or_equal_to, is_not, none

from atlas_suite.baseline import compare, load_baseline, save_baseline
from atlas_suite.experiments.sweep import SweepResult, concurrency_sweep, rate_sweep
from atlas_suite.load_result import figure
from atlas_suite.plots import report_dir
from atlas_suite.slo import Slo, SloReport, evaluate, parse_slos
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.load_support import (
    attach_table,
    engine,
    load_result,
    load_run,
    outcome,
    publish_run,
    record_check,
    run_load,
)
from atlas_suite.steplib.load_support import kind as completion_kind
from atlas_suite.steplib.support import api, current_server, noted, notes
from atlas_suite.workloads import Workload, completion_workload

DOMAIN = "load"

_ARRIVAL = re.compile(r"^(constant|poisson|gamma)(?: \(burstiness (\d+(?:\.\d+)?)\))?$", re.I)
# the figures a scenario may name, in the words the reports print
FIGURE_WORDS = {"TTFT": "ttft_ms", "TPOT": "tpot_ms", "ITL": "itl_ms", "e2e": "latency_ms",
                "end-to-end latency": "latency_ms"}


def _arrival(text: str) -> tuple[str, float]:
    match = _ARRIVAL.match(text.strip())
    if match is None:
        raise AssertionError(f'unknown arrivals "{text}": use constant, Poisson or '
                             '"gamma (burstiness B)"')
    return match[1].lower(), float(match[2] or 1.0)


def _workload(context: Any, kind: str, tokens: int) -> Workload:
    atlas, stream = completion_kind(kind)
    return completion_workload(current_server(context).base_url, api(context).model_id(),
                               max_tokens=tokens, atlas=atlas, stream=stream)


def _slos(context: Any) -> list[Slo]:
    return list(noted(context, "slos"))


def _slo_report(context: Any) -> SloReport:
    report = evaluate(load_result(context), _slos(context))
    load_run(context).figures["slo"] = report.figures()
    return report


def _figure_key(words: str) -> str:
    if words.strip() not in FIGURE_WORDS:
        raise AssertionError(f'unknown figure "{words}": use one of {", ".join(FIGURE_WORDS)}')
    return FIGURE_WORDS[words.strip()]


# -- SLOs and goodput ---------------------------------------------------------------------------
@given('the service-level objectives "{objectives}"')
def step_slos(context: Any, objectives: str) -> None:
    """The scenario's objectives, e.g. ``TTFT p99 <= 2000 ms, TPOT p99 <= 200 ms, e2e <= 30 s``
    (figures TTFT, TPOT, e2e; a percentile, or none for every request; units ms or s)."""
    try:
        notes(context)["slos"] = parse_slos(objectives)
    except ValueError as exc:
        raise AssertionError(str(exc)) from None


@when("{kind} completions of {tokens:Int} tokens arrive at {rate:Number} per second with "
      "{arrival} arrivals for {seconds:Number} seconds after {warmup:Int} warm-up requests")
def step_open_loop_arrivals(context: Any, kind: str, tokens: int, rate: float, arrival: str,
                            seconds: float, warmup: int) -> None:
    """An open loop with an arrival process: ``constant``, ``Poisson`` or ``gamma (burstiness
    B)`` (B under 1 is burstier than Poisson), seeded; the warm-up requests go first, one at a
    time, and count in no figure. With objectives noted, the SLO report is attached."""
    process, burstiness = _arrival(arrival)
    workload = _workload(context, kind, tokens)
    run_load(context, f"{kind} completions of {tokens} tokens at {rate:g}/s, {arrival} "
                      f"arrivals, {seconds:g} s after {warmup} warm-up requests",
             lambda e: e.open_loop(workload, rate, duration_s=seconds, max_in_flight=500,
                                   arrival=process, burstiness=burstiness, seed=0,
                                   warmup=warmup))
    if "slos" in notes(context):
        attach_table(context, "service-level objectives", _slo_report(context).rows())


@then("the SLO attainment is at least {percent:Number} percent")
def step_attainment(context: Any, percent: float) -> None:
    """The share of requests (failed ones and arrivals not sent count as misses) that met
    every objective, each by its own figures."""
    report = _slo_report(context)
    value = 100.0 * report.attainment
    record_check(context, "SLO attainment (%)", value, percent, value >= percent)
    assert_that(value, greater_than_or_equal_to(percent),
                f"SLO attainment in percent ({report.met} of {report.offered} met "
                f"{', '.join(map(str, report.slos))}; misses by objective: {report.misses})")


@then("every service-level objective holds over the run")
def step_slos_hold(context: Any) -> None:
    """Each objective's figure at its percentile over the whole run (a failed request counts
    as infinitely slow) is within its bound."""
    report = _slo_report(context)
    missed = {str(s): report.run_values[str(s)] for s in report.slos if not report.run_holds(s)}
    record_check(context, "objectives missed over the run", missed, {}, not missed)
    assert_that(missed, equal_to({}), "objectives missed over the run (figure in ms)")


@then("the goodput is at least {rps:Number} requests per second")
def step_goodput(context: Any, rps: float) -> None:
    """Requests per second that met every objective (an absolute figure: @hardware rows)."""
    value = _slo_report(context).goodput_per_s
    record_check(context, "goodput (requests/s)", value, rps, value >= rps)
    assert_that(value, greater_than_or_equal_to(rps), "goodput in requests per second")


@then("the p{q:Int} {words} is at most {k:Number} times its median")
def step_figure_tail(context: Any, q: int, words: str, k: float) -> None:
    """A figure's tail against its own median in the same run (TTFT, TPOT, ITL, e2e): a
    server that leaves some requests or tokens waiting far longer than the typical one."""
    summary = load_result(context).summary()
    key = _figure_key(words)
    tail, median = figure(summary, f"{key}.p{q}"), figure(summary, f"{key}.p50")
    assert_that(median, is_not(none()), f"the run has no {words} figures (no streams?)")
    ratio = (tail or 0.0) / median if median else float("inf")
    record_check(context, f"{words} p{q} / p50", ratio, k, ratio <= k)
    assert ratio <= k, (f"{words} p{q} {tail:.1f} ms is {ratio:.2f} times its median "
                        f"{median:.1f} ms (at most {k:g})")


# -- the rate and concurrency sweeps ------------------------------------------------------------
@when("the request rate is swept over {rates:Numbers} per second, {seconds:Number} seconds each, "
      "with {kind} completions of {tokens:Int} tokens")
def step_sweep(context: Any, rates: list[float], seconds: float, kind: str, tokens: int) -> None:
    """An open-loop step at each rate (``0.5, 1, 2``) in turn until one is not sustained: an
    objective missed (when noted), completions falling behind the offered rate, a growing
    queue, failures. The table (JSON, CSV) and the curve (PNG) are attached."""
    sweep = rate_sweep(engine(context), _workload(context, kind, tokens), rates,
                       step_s=seconds, slos=_noted_slos(context), warmup=2)
    _publish_sweep(context, f"rate sweep over {', '.join(f'{r:g}' for r in rates)}/s, "
                            f"{seconds:g} s each, {kind} completions of {tokens} tokens", sweep)


@when("the concurrency is swept over {users:Numbers} users, {seconds:Number} seconds each, "
      "with {kind} completions of {tokens:Int} tokens")
def step_concurrency_sweep(context: Any, users: list[float], seconds: float, kind: str,
                           tokens: int) -> None:
    """A closed loop of each number of users (``1, 2, 4``) in turn until one is not sustained:
    an objective missed (when noted), failures, or throughput that stopped rising with the
    users (the knee). The table (JSON, CSV) and the curve (PNG) are attached."""
    levels = [int(n) for n in users]
    sweep = concurrency_sweep(engine(context), _workload(context, kind, tokens), levels,
                              step_s=seconds, slos=_noted_slos(context), warmup=2)
    _publish_sweep(context, f"concurrency sweep over {', '.join(map(str, levels))} users, "
                            f"{seconds:g} s each, {kind} completions of {tokens} tokens", sweep)


def _noted_slos(context: Any) -> list[Slo]:
    return list(notes(context).get("slos", []))


def _publish_sweep(context: Any, what: str, sweep: SweepResult) -> None:
    title = f"{what}: highest sustainable {sweep.best_words}"
    run = publish_run(context, what, sweep.figures(), lambda path: sweep.plot(path, title),
                      result=sweep.best.result if sweep.best else sweep.steps[-1].result,
                      outcome=sweep)
    sweep.write_csv(run.json_path.with_suffix(".csv"))
    attach_table(context, sweep.axis + " sweep", sweep.table())


@then("the sweep found a highest sustainable {axis:SweepAxis}")
def step_sweep_found(context: Any, axis: str) -> None:
    """At least the first rate (or number of users) was sustained."""
    sweep = outcome(context, SweepResult)
    assert_that(sweep.axis, equal_to(axis), "the last sweep's kind")
    record_check(context, f"highest sustainable {axis}", sweep.best.level if sweep.best
                 else None, "any", sweep.best is not None)
    assert_that(sweep.best, is_not(none()), f"no {axis} was sustained: {sweep.stopped_because}")


@then("the highest sustainable concurrency is at least {users:Int} users")
def step_sweep_users(context: Any, users: int) -> None:
    """An absolute capacity in users (@hardware rows)."""
    sweep = outcome(context, SweepResult)
    value = sweep.best.users or 0 if sweep.best else 0
    record_check(context, "highest sustainable concurrency (users)", value, users,
                 value >= users)
    assert_that(value, greater_than_or_equal_to(users),
                f"highest sustainable concurrency ({sweep.stopped_because})")


@then("the highest sustainable rate is at least {rate:Number} requests per second")
def step_sweep_rate(context: Any, rate: float) -> None:
    """An absolute capacity (@hardware rows)."""
    sweep = outcome(context, SweepResult)
    value = sweep.best.offered_per_s if sweep.best else 0.0
    record_check(context, "highest sustainable rate (requests/s)", value, rate, value >= rate)
    assert_that(value, greater_than_or_equal_to(rate),
                f"highest sustainable rate ({sweep.stopped_because})")


@then("at the highest sustainable rate the goodput is at least {percent:Number} percent of "
      "the offered rate")
def step_sweep_goodput(context: Any, percent: float) -> None:
    """Goodput against the rate it was offered, at the best step (a ratio of the same run)."""
    sweep = outcome(context, SweepResult)
    assert_that(sweep.best, is_not(none()), f"no rate was sustained: {sweep.stopped_because}")
    assert sweep.best is not None
    value = 100.0 * sweep.best.slo.goodput_per_s / sweep.best.offered_per_s
    record_check(context, "goodput / offered rate (%)", value, percent, value >= percent)
    assert_that(value, greater_than_or_equal_to(percent), "goodput in percent of the offered rate")


# -- baselines ----------------------------------------------------------------------------------
def _baseline_path(context: Any, name: str) -> Path:
    userdata = context.config.userdata
    directory = Path(str(userdata.get("baseline_dir") or report_dir(context) / "baselines"))
    return directory / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.json"


def _target(context: Any) -> str:
    return current_server(context).config.label()


@when('the load\'s figures are saved as the baseline "{name}"')
def step_save_baseline(context: Any, name: str) -> None:
    """This scenario's load figures as a baseline file (``-D baseline_dir=DIR``, default
    reports/load/baselines) for the server's configuration."""
    result = load_result(context)
    assert_that(len(result.succeeded), greater_than(0), "no request succeeded: nothing to keep")
    path = save_baseline(_baseline_path(context, name), result.summary(),
                         target=_target(context), what=load_run(context).what)
    notes(context)[f"baseline {name}"] = path


@then('the figures "{figures}" are within {tolerance:Number} percent of the baseline "{name}"')
def step_compare_baseline(context: Any, figures: str, tolerance: float, name: str) -> None:
    """Each named figure (``latency_ms.p50``, ``tpot_ms.p99``, ``requests_per_s``; see
    docs/load-figures.md) is at most ``tolerance`` percent worse than in the baseline of the
    same server configuration: a latency no higher, a rate no lower. Both are shown."""
    path = _baseline_path(context, name)
    try:
        comparison = compare(load_baseline(path), load_result(context).summary(),
                             target=_target(context),
                             figures=[f.strip() for f in figures.split(",") if f.strip()],
                             tolerance_pct=tolerance)
    except (ValueError, KeyError) as exc:
        raise AssertionError(str(exc)) from None
    attach_table(context, f'against the baseline "{name}"', comparison.rows())
    load_run(context).figures["baseline"] = comparison.figures()
    regressed = [c.name for c in comparison.regressed]
    record_check(context, f"figures regressed beyond {tolerance:g} %", regressed, [],
                 not regressed)
    shown = "; ".join(f"{a}: {b}" for a, b in comparison.rows()[1:])
    assert_that(regressed, equal_to([]), f"figures worse than the baseline ({shown})")
