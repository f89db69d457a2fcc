"""Load spread over Locust's master and workers on this machine: the locustfile sends the
suite's request mix (``scripts/locustfile.py``), ``atlas_suite.locust_run`` starts the processes
and maps Locust's statistics to the suite's figure names."""

from __future__ import annotations

from typing import Any

from behave import then, when
from hamcrest import assert_that, equal_to, greater_than

from atlas_suite.locust_run import LocustRun, run_distributed
from atlas_suite.plots import attach_file, report_dir, slug, write_json
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.support import current_server

DOMAIN = "load"


def _locust(context: Any) -> LocustRun:
    run = getattr(context, "locust_run", None)
    if run is None:
        raise AssertionError("no Locust run yet: a When ... Locust ... step comes first")
    return run


@when("Locust runs {users:Int} users sending {tokens:Int}-token completions for {seconds:Int} "
      "seconds from a master and {workers:Int} workers on this machine")
def step_locust_distributed(context: Any, users: int, tokens: int, seconds: int,
                            workers: int) -> None:
    """One Locust master and ``workers`` workers, headless, on 127.0.0.1, against the server
    under test; the master starts the users once every worker has connected. Locust's
    statistics, logs and the suite's figures are attached and written to the load reports."""
    server = current_server(context)
    out = report_dir(context) / f"{slug(context.scenario.name)}-locust"
    env = {"ATLAS_API_KEY": server.api_key or "", "ATLAS_MAX_TOKENS": str(tokens)}
    run = run_distributed(server.base_url, out, workers=workers, users=users,
                          spawn_rate=float(users), run_time_s=float(seconds), env=env)
    context.locust_run = run
    path = write_json(out / "figures.json", {"scenario": context.scenario.name, **run.figures})
    attach_file(context, f"Locust figures ({path.name})", path)
    attach_file(context, "Locust master log", out / "locust-master.log")


@then("all {workers:Int} Locust workers connected and ended cleanly")
def step_locust_workers(context: Any, workers: int) -> None:
    """The master saw every worker connect, and every worker process exited with code 0."""
    run = _locust(context)
    assert_that(run.workers_connected, equal_to(workers),
                f"workers the Locust master saw connected; its log ends:\n{run.log[-1500:]}")
    assert_that(run.worker_returncodes, equal_to([0] * workers), "the workers' exit codes")


@then("every Locust entry of the request mix ran: {names}")
def step_locust_entries(context: Any, names: str) -> None:
    """Each named entry (a request kind or a stream figure) was recorded at least once."""
    run = _locust(context)
    for name in (n.strip() for n in names.split(",")):
        assert_that(run.entry(name)["num_requests"], greater_than(0),
                    f"Locust recorded no '{name}'; entries seen: {sorted(run.entries)}")


@then("no Locust request failed")
def step_locust_no_failure(context: Any) -> None:
    """Every entry's failures are zero; otherwise Locust's failure messages are shown."""
    run = _locust(context)
    failed = {name: e["num_failures"] for name, e in run.entries.items() if e["num_failures"]}
    assert_that(failed, equal_to({}), f"Locust failures; the master's log ends:\n{run.log[-1500:]}")


@then("the Locust figures give {keys} percentiles")
def step_locust_figures(context: Any, keys: str) -> None:
    """Each named figure (``latency_ms``, ``ttft_ms``, ``tpot_ms``, ``itl_ms``) has samples and
    ordered percentiles, p50 <= p90 <= p99 <= max, as the suite's engine reports them."""
    figures = _locust(context).figures
    for key in (k.strip() for k in keys.replace(" and ", ",").split(",") if k.strip()):
        dist = figures[key]
        assert_that(dist["count"], greater_than(0), f"Locust gave no samples for {key}")
        ordered = [dist["p50"], dist["p90"], dist["p99"], dist["max"]]
        assert_that(ordered, equal_to(sorted(ordered)), f"{key} percentiles out of order")
