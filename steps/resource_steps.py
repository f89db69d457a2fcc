"""What a server uses under load: its process's memory and CPU, the ATLAS memory, the GPU.
The load itself is run by another step (load, soak); these read its resource samples."""

from __future__ import annotations

import math
from typing import Any

import psutil
from behave import given, then
from hamcrest import assert_that, equal_to, greater_than, less_than, less_than_or_equal_to

from atlas_suite.resources import gpu_process_ids, gpu_unavailable_reason, process_tree
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.load_support import load_result, load_run, record_check
from atlas_suite.steplib.support import current_server, skip

DOMAIN = "load"


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
    monitor = load_run(context).monitor
    assert monitor is not None, "this scenario's load did not sample resources"
    return monitor.summary()


def _peak_under(context: Any, figure: str, bound: float, check: str, missing: str) -> None:
    """The highest sample of a resource figure is under ``bound``; recorded in the report."""
    peak = _resources(context)[figure]["peak"]
    assert peak is not None, missing
    record_check(context, check, peak, bound, peak < bound)
    assert_that(peak, less_than(bound), check)


@then("the server's peak RSS stayed under {mb:Int} MB")
def step_rss_peak(context: Any, mb: int) -> None:
    """The highest resident memory (process and children) sampled during the load."""
    _peak_under(context, "rss_mb", mb, "peak RSS (MB)", "no RSS sample was taken")


@then("the server's RSS grew by less than {mb:Int} MB during the load")
def step_rss_growth(context: Any, mb: int) -> None:
    """The last RSS sample minus the first."""
    rss = _resources(context)["rss_mb"]
    assert rss["start"] is not None, "no RSS sample was taken"
    growth = rss["end"] - rss["start"]
    record_check(context, "RSS growth (MB)", growth, mb, growth < mb)
    assert_that(growth, less_than(mb), f"RSS went from {rss['start']:.0f} to {rss['end']:.0f} MB")


@then("the server used at most {ms:Number} ms of CPU per completion")
def step_cpu_per_request(context: Any, ms: float) -> None:
    """CPU time (user + system, process and children) during the load, per successful
    completion: a server that spins or does needless work shows here."""
    seconds = _resources(context)["cpu_seconds"]
    done = len(load_result(context).succeeded)
    assert seconds is not None and done > 0, "no CPU time or no successful completion"
    value = seconds * 1000.0 / done
    record_check(context, "CPU ms per completion", value, ms, value <= ms)
    assert_that(value, less_than_or_equal_to(ms), "CPU milliseconds per completion")


@then("the ATLAS memory stayed under {mb:Number} MB")
def step_atlas_memory(context: Any, mb: float) -> None:
    """The memories' parameters as the server reports them (status bytes x memories)."""
    _peak_under(context, "atlas_memory_mb", mb, "ATLAS memory peak (MB)",
                "the server's status gave no memory size")


@then("the GPU memory used stayed under {mb:Int} MB")
def step_gpu_memory(context: Any, mb: int) -> None:
    """Memory used on the GPUs (all of them, every process) sampled during the load."""
    _peak_under(context, "gpu_memory_mb", mb, "GPU memory peak (MB)",
                "no GPU memory sample was taken")


@then("GPU utilisation was sampled during the load")
def step_gpu_sampled(context: Any) -> None:
    """At least one GPU utilisation reading was taken (its figures are in the report)."""
    count = _resources(context)["gpu_util_percent"]["count"]
    record_check(context, "GPU utilisation samples", count, ">0", count > 0)
    assert_that(count, greater_than(0), "GPU utilisation samples")


@then("the server's RSS slope is under {mb:Number} MB per hour")
def step_rss_slope(context: Any, mb: float) -> None:
    """Least-squares slope of the server's RSS after the first 20 % of the run (warm-up):
    a leak shows as a steady climb."""
    slope = _resources(context)["rss_mb"]["slope_mb_per_hour"]
    assert slope is not None, "not enough RSS samples for a slope"
    record_check(context, "RSS slope (MB/hour)", slope, mb, slope < mb)
    assert_that(slope, less_than(mb), "RSS slope in MB per hour")


@then("the server's memory grows by less than {kb:Number} KB per completed request")
def step_growth_per_request(context: Any, kb: float) -> None:
    """Resident memory against work done: the least-squares slope of the server's RSS over the
    number of requests completed so far, after the first 20 % of the run. A server that keeps
    something of every request grows by the same amount per request however busy the machine
    is. Growth that stays inside the RSS's own spread around the fit (allocators breathe by
    a few MB) is not counted as a leak: on a short run it is noise; a longer soak decides."""
    run = load_run(context)
    assert run.monitor is not None and run.result is not None, "no load with resources was run"
    growth = run.monitor.growth_per_request(run.result.done_at())
    value = growth["kb_per_request"]
    assert not math.isnan(value), f"too few RSS samples to relate to requests: {growth}"
    leaking = value >= kb and growth["growth_kb"] > growth["noise_kb"]
    record_check(context, "RSS growth per completed request (KB)", value, kb, not leaking)
    assert_that(not leaking, equal_to(True), (
        f"RSS grew {value:.1f} KB per completed request (bound {kb:g}): "
        f"{growth['growth_kb'] / 1024:.1f} MB over {growth['requests']} requests, beyond its "
        f"spread of {growth['noise_kb'] / 1024:.1f} MB around the fit"))


__all__ = [name for name in dir() if name.startswith("step_")]
