"""Save and load cycles: a memory file saved and loaded back a thousand times, correct, fast,
stable, and leaving nothing behind. The experiment is ``atlas_suite.experiments.cycles``."""

from __future__ import annotations

from typing import Any

from behave import then, when
from hamcrest import assert_that, equal_to, greater_than, less_than, less_than_or_equal_to

from atlas_suite.atlas import expect_ok
from atlas_suite.experiments.cycles import CyclesResult, save_load_cycles
from atlas_suite.plots import plot_xy
from atlas_suite.stats import percentile
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.load_support import (
    attach_table,
    load_run,
    monitor,
    outcome,
    publish_run,
    record_check,
)
from atlas_suite.steplib.support import api, current_server, http
from atlas_suite.timing import drift_ratio, process_cpu_clock, total_ratio

DOMAIN = "load"


def _folder_listing(context: Any) -> dict[str, Any]:
    """The memory files the server lists, and every entry of its folder when reachable."""
    listing: dict[str, Any] = {"api": sorted(api(context).list_files())}
    folder = current_server(context).memory_dir
    if folder is not None and folder.is_dir():
        listing["folder"] = sorted(p.name for p in folder.iterdir())  # hidden temp files too
    return listing


def _plot(result: CyclesResult) -> Any:
    numbers = [c.cycle for c in result.cycles]
    series = {"save (ms)": (numbers, [c.save_ms for c in result.cycles]),
              "load (ms)": (numbers, [c.load_ms for c in result.cycles])}
    return lambda path: plot_xy(path, f"save and load of {result.filename}, per cycle", series,
                                xlabel="cycle", ylabel="ms", kind="scatter")


@when('the memory is saved and loaded {cycles:Int} times as "{name}", reading a little text '
      "every {every:Int} cycles")
def step_save_load_cycles(context: Any, cycles: int, name: str, every: int) -> None:
    """Save the default memory to ``name`` and load it back, ``cycles`` times, one request at a
    time; every ``every`` cycles a short ATLAS completion changes the memory first. Stops at
    the count, or after ``cycles`` x 0.25 s (60 s at least): 50 times the 5 ms a cycle takes,
    so that a server whose saves or loads take seconds is stopped in minutes, not hours."""
    server, before = current_server(context), _folder_listing(context)
    clock = process_cpu_clock(server.process.pid if server.process is not None else None)
    with monitor(context) as watched:
        result = save_load_cycles(server.base_url, model=api(context).model_id(), cycles=cycles,
                                  filename=name, learn_every=every,
                                  headers=http(context).headers, cpu_clock=clock)
    publish_run(context, f"{cycles} save/load cycles of {name}",
                {**result.figures(), "folder_before": before, "resources": watched.summary()},
                _plot(result), monitor=watched, outcome=result, extra={"before": before})
    attach_table(context, "save/load cycles", result.table())


@then("every save and load succeeded, and each load gave back the fingerprint just saved")
def step_cycles_ok(context: Any) -> None:
    """All cycles ran, none failed, every load's fingerprint equals its save's, and the memory
    really changed along the way (else the check would be empty)."""
    result = outcome(context, CyclesResult)
    failed = result.failed
    record_check(context, "failed cycles", len(failed), 0, not failed)
    assert_that(len(result.cycles), equal_to(result.asked), "cycles done before the deadline")
    assert_that(len(failed), equal_to(0), f"failed cycles, first: {failed[0] if failed else None}")
    assert_that(result.wrong_fingerprints, equal_to(0), "loads that changed the memory")
    assert_that(result.distinct_saved_states, greater_than(1),
                "the memory never changed between saves")


@then("every save took under {save_s:Number} seconds and every load under {load_s:Number} "
      "seconds")
def step_cycle_times(context: Any, save_s: float, load_s: float) -> None:
    """The slowest save and the slowest load of the cycles, timed by the client."""
    result = outcome(context, CyclesResult)
    slowest_save = max(c.save_ms for c in result.cycles) / 1000
    slowest_load = max(c.load_ms for c in result.cycles) / 1000
    record_check(context, "slowest save (s)", slowest_save, save_s, slowest_save < save_s)
    record_check(context, "slowest load (s)", slowest_load, load_s, slowest_load < load_s)
    assert_that(slowest_save, less_than(save_s), "the slowest save, in seconds")
    assert_that(slowest_load, less_than(load_s), "the slowest load, in seconds")


@then("{q:Int} % of saves took under {save_s:Number} seconds and {q2:Int} % of loads under "
      "{load_s:Number} seconds")
def step_cycle_percentiles(context: Any, q: int, save_s: float, q2: int, load_s: float) -> None:
    """The q-th percentile of the saves' times and the q2-th of the loads', timed by the
    client: a few slow moments of a shared disk are tolerated, a slow save or load is not."""
    cycles = outcome(context, CyclesResult).cycles
    save = percentile([c.save_ms for c in cycles], q) / 1000
    load = percentile([c.load_ms for c in cycles], q2) / 1000
    record_check(context, f"p{q} save (s)", save, save_s, save < save_s)
    record_check(context, f"p{q2} load (s)", load, load_s, load < load_s)
    assert_that(save, less_than(save_s), f"the p{q} save, in seconds")
    assert_that(load, less_than(load_s), f"the p{q2} load, in seconds")


@then("the median of the last {n:Int} cycles is at most {ratio:Number} times the median of "
      "the first {m:Int}")
def step_cycles_stable(context: Any, n: int, ratio: float, m: int) -> None:
    """Save+load time does not creep up: the median of the last ``n`` cycles against the
    median of the first ``m``."""
    cycle_ms = outcome(context, CyclesResult).cycle_ms()
    assert_that(len(cycle_ms), greater_than(n + m - 1), "not enough cycles for the comparison")
    first, last = percentile(cycle_ms[:m], 50), percentile(cycle_ms[-n:], 50)
    value = drift_ratio(cycle_ms, m, n)
    record_check(context, f"median last {n} / median first {m}", value, ratio, value <= ratio)
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
    result = outcome(context, CyclesResult)
    series, what = result.cpu_ms(), "server CPU time"
    if series is None:
        series, what = result.cycle_ms(), "wall-clock time"
    assert_that(len(series), greater_than(n + m - 1), "not enough cycles for the comparison")
    value = total_ratio(series, m, n)
    record_check(context, f"{what}, last {n} cycles / first {m}", value, ratio, value <= ratio)
    assert_that(value <= ratio, equal_to(True),
                f"the last {n} cycles took {value:.2f} times the {what} of the first {m} "
                f"({sum(series[-n:]) / n:.2f} ms against {sum(series[:m]) / m:.2f} ms a "
                f"cycle), expected at most {ratio}")


@then('once "{name}" is deleted, the memory folder holds exactly what it held before')
def step_nothing_left(context: Any, name: str) -> None:
    """Delete the cycles' file; the server's listing and the folder itself (hidden temporary
    files included, when the suite can see the folder) are as before the cycles."""
    expect_ok(api(context).delete(name), f'delete "{name}"')
    before, after = load_run(context).extra["before"], _folder_listing(context)
    record_check(context, "memory folder unchanged", after, before, after == before)
    assert_that(after, equal_to(before), "files left behind by the save/load cycles")


__all__ = [name for name in dir() if name.startswith("step_")]
