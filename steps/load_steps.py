"""Many users and the soak: closed and open loops, answers, latency, throughput, and a long run
that stays stable. The engine is ``atlas_suite.load_engine``; every bound comes from the
feature's Examples."""

from __future__ import annotations

import collections
from typing import Any

from behave import given, then, when
from hamcrest import assert_that, equal_to, greater_than, less_than, less_than_or_equal_to

from atlas_suite.load_result import LoadResult
from atlas_suite.stats import percentile
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.load_support import (
    engine,
    load_result,
    load_run,
    record_check,
    run_load,
    userdata_number,
)
from atlas_suite.steplib.load_support import (
    kind as completion_kind,
)
from atlas_suite.steplib.support import api, current_server, noted, notes, skip
from atlas_suite.timing import generation_concurrency, tail_ratio
from atlas_suite.workloads import RequestSpec, Workload, completion_workload, mixed_workload

DOMAIN = "load"

DEFAULT_SOAK_S = 75.0  # CI; -D soak_duration=86400 for the founding document's 24 hours


# -- many users ---------------------------------------------------------------------------------
@given("one user's throughput with {n:Int} {kind} completions of {tokens:Int} tokens is noted")
def step_single_user(context: Any, n: int, kind: str, tokens: int) -> None:
    """One user sends ``n`` completions back to back; keep its tokens per second to compare.
    The next many-users load measures one user again right after itself, and the comparison
    takes the slower of the two: a machine that got busier or quieter meanwhile does not count
    against the server."""
    atlas, stream = completion_kind(kind)
    workload = completion_workload(current_server(context).base_url, api(context).model_id(),
                                   max_tokens=tokens, atlas=atlas, stream=stream)
    notes(context)["single_user"] = _single_user(context, workload, n)
    notes(context)["single_user_again"] = (workload, n)


def _single_user(context: Any, workload: Workload, n: int) -> dict[str, Any]:
    result = engine(context).closed_loop(workload, 1, requests=n)
    assert_that(result.failed, equal_to([]), "the single user's requests must all succeed")
    return result.summary()


@when("{users:Int} users each send {per_user:Int} {kind} completions of {tokens:Int} tokens "
      "back to back")
def step_closed_loop(context: Any, users: int, per_user: int, kind: str, tokens: int) -> None:
    """A closed loop: ``users`` users on shared connection pools, each sending its next request
    as soon as its previous one is answered, ``users * per_user`` requests in all."""
    atlas, stream = completion_kind(kind)
    workload = completion_workload(current_server(context).base_url, api(context).model_id(),
                                   max_tokens=tokens, atlas=atlas, stream=stream)
    run = run_load(context, f"{users} users x {per_user} {kind} completions of {tokens} tokens",
                lambda engine: engine.closed_loop(workload, users, requests=users * per_user))
    again = notes(context).pop("single_user_again", None)
    if again is not None:  # one user again, right after the load (see the Given)
        run.extra["single_user_after"] = _single_user(context, *again)


@when("{kind} completions of {tokens:Int} tokens arrive at {rate:Number} per second for "
      "{seconds:Int} seconds")
def step_open_loop(context: Any, kind: str, tokens: int, rate: float, seconds: int) -> None:
    """An open loop: requests arrive evenly at ``rate`` per second whether or not earlier ones
    were answered (at most 500 in flight)."""
    atlas, stream = completion_kind(kind)
    workload = completion_workload(current_server(context).base_url, api(context).model_id(),
                                   max_tokens=tokens, atlas=atlas, stream=stream)
    run_load(context, f"{kind} completions of {tokens} tokens at {rate:g}/s for {seconds} s",
          lambda engine: engine.open_loop(workload, rate, duration_s=seconds,
                                          max_in_flight=500))


@then("every request was answered")
def step_all_answered(context: Any) -> None:
    """Every request was sent and got an HTTP answer: no refused connection, no timeout."""
    result = load_result(context)
    unanswered = collections.Counter(s.error for s in result.samples if s.status is None)
    record_check(context, "every request answered", sum(unanswered.values()) + result.not_sent, 0,
           not unanswered and not result.not_sent)
    assert_that(dict(unanswered), equal_to({}),
                f"requests without an HTTP answer, by error: {dict(unanswered)}")
    assert_that(result.not_sent, equal_to(0), "open-loop arrivals not sent (in-flight cap)")


@then("no request failed except with a documented 503")
def step_no_failures(context: Any) -> None:
    """Every answer is a success, or a 503 ``unavailable_error`` (admission control or a model
    still loading, the two refusals the contract documents)."""
    result = load_result(context)
    bad = [s for s in result.failed if not (s.status == 503 and s.error == "unavailable_error")]
    kinds = collections.Counter(f"{s.status} {s.error}" for s in bad)
    record_check(context, "failures other than documented 503s", len(bad), 0, not bad)
    assert_that(dict(kinds), equal_to({}),
                f"failed requests: {dict(kinds)}; first: {bad[0].detail if bad else ''}")


@then("the p{q:Int} latency is under {seconds:Number} seconds")
def step_latency_under(context: Any, q: int, seconds: float) -> None:
    """The q-th percentile of the successful requests' end-to-end latency is under ``seconds``."""
    latencies = load_result(context).latencies()
    assert_that(len(latencies), greater_than(0), "no request succeeded")
    value = percentile(latencies, q) / 1000.0
    record_check(context, f"p{q} latency (s)", value, seconds, value < seconds)
    assert_that(value, less_than(seconds), f"p{q} latency in seconds")


@then("the p{q:Int} time to first token is under {seconds:Number} seconds")
def step_ttft_under(context: Any, q: int, seconds: float) -> None:
    """The q-th percentile of the streams' time to first token is under ``seconds``."""
    ttft = [s.ttft_ms for s in load_result(context).succeeded if s.ttft_ms is not None]
    assert_that(len(ttft), greater_than(0), "no stream delivered a token")
    value = percentile(ttft, q) / 1000.0
    record_check(context, f"p{q} time to first token (s)", value, seconds, value < seconds)
    assert_that(value, less_than(seconds), f"p{q} time to first token in seconds")


@then("the p{q:Int} latency is at most {k:Number} times the mean latency")
def step_latency_tail(context: Any, q: int, k: float) -> None:
    """The q-th percentile of the latency against the mean latency of the same load: both move
    with the machine's speed, the ratio measures how fairly the queue serves its requests."""
    latencies = load_result(context).latencies()
    assert_that(len(latencies), greater_than(0), "no request succeeded")
    value = tail_ratio(latencies, q)
    record_check(context, f"p{q} latency / mean latency", value, k, value <= k)
    assert_that(value <= k, equal_to(True),
                f"p{q} latency {percentile(latencies, q):.0f} ms is {value:.2f} times the mean "
                f"({sum(latencies) / len(latencies):.0f} ms), expected at most {k}")


@then("the p{q:Int} time to first token is at most {k:Number} times the mean latency")
def step_ttft_tail(context: Any, q: int, k: float) -> None:
    """The q-th percentile of the streams' time to first token against the mean end-to-end
    latency of the same load: a stream waits its turn, not longer than the queue."""
    result = load_result(context)
    ttft = [s.ttft_ms for s in result.succeeded if s.ttft_ms is not None]
    latencies = result.latencies()
    assert_that(len(ttft), greater_than(0), "no stream delivered a token")
    mean = sum(latencies) / len(latencies)
    value = percentile(ttft, q) / mean
    record_check(context, f"p{q} time to first token / mean latency", value, k, value <= k)
    assert_that(value <= k, equal_to(True),
                f"p{q} time to first token {percentile(ttft, q):.0f} ms is {value:.2f} times "
                f"the mean latency ({mean:.0f} ms), expected at most {k}")


@then("on average at least {n:Number} streams were generating tokens at the same time")
def step_streams_side_by_side(context: Any, n: float) -> None:
    """Each stream generates from its first token to its last byte; over the time any stream
    generated, the mean number generating at once (1 for a server that serialises requests)."""
    value = generation_concurrency(load_result(context).generation_intervals())
    record_check(context, "streams generating at once (mean)", value, n, value >= n)
    assert_that(value >= n, equal_to(True),
                f"on average {value:.2f} streams were generating tokens at the same time, "
                f"expected at least {n}: the server answers its requests one after another")


@then("the throughput is at least {ratio:Number} times the single-user throughput")
def step_throughput_ratio(context: Any, ratio: float) -> None:
    """Tokens per second under load against one user alone (the slower of the measurements
    just before and just after the load): load must not make it collapse."""
    before = noted(context, "single_user")["tokens_per_s"]
    after = load_run(context).extra.get("single_user_after", {}).get("tokens_per_s", before)
    single = min(before, after)
    loaded = load_result(context).summary()["tokens_per_s"]
    value = loaded / single if single else 0.0
    record_check(context, "throughput / single-user throughput", value, ratio, value >= ratio)
    record_check(context, "single-user tokens/s before, after the load (reported)", [before, after],
           None, True)
    assert_that(value >= ratio, equal_to(True),
                f"{loaded:.1f} tokens/s under load against {single:.1f} for one user "
                f"({before:.1f} before the load, {after:.1f} after): {value:.2f} times, "
                f"expected at least {ratio}")


@then("the throughput is at least {rps:Number} requests per second")
def step_rps(context: Any, rps: float) -> None:
    """Successful requests per second over the whole load."""
    value = load_result(context).summary()["requests_per_s"]
    record_check(context, "requests per second", value, rps, value >= rps)
    assert_that(value >= rps, equal_to(True), f"{value:.2f} requests/s, expected at least {rps}")


@then("the arrivals kept to their schedule within {ms:Number} ms at p95")
def step_punctual(context: Any, ms: float) -> None:
    """The open loop sent 95 % of its requests less than ``ms`` after their planned time. The
    sends are the load generator's, not the server's: when the machine starves the generator,
    the run was no open loop and says nothing about the server, so the scenario is skipped with
    the figure rather than failed."""
    lateness = [s.lateness_ms for s in load_result(context).samples if s.lateness_ms is not None]
    value = percentile(lateness, 95)
    record_check(context, "p95 send lateness (ms)", value, ms, value < ms)
    if value >= ms:
        skip(context, f"the load generator fell behind its own schedule (p95 {value:.0f} ms "
                      f"late, bound {ms:g} ms): this machine could not hold an open loop")


# -- soak -------------------------------------------------------------------------------------
@when("{users:Int} users send a mix of ATLAS, streamed ATLAS and plain completions of "
      "{tokens:Int} tokens for the soak duration")
def step_soak(context: Any, users: int, tokens: int) -> None:
    """A closed loop for ``-D soak_duration=SECONDS`` (75 s by default, 86400 for a day): the
    kinds of completion in turn, resources sampled throughout."""
    seconds = userdata_number(context, "soak_duration", DEFAULT_SOAK_S)
    workload = mixed_workload(current_server(context).base_url, api(context).model_id(),
                              max_tokens=tokens)
    run_load(context, f"soak: {users} users, mixed completions of {tokens} tokens, {seconds:g} s",
          lambda engine: engine.closed_loop(workload, users, duration_s=seconds),
          interval_s=max(0.5, seconds / 2000))


def _thirds(context: Any) -> tuple[LoadResult, LoadResult]:
    result = load_result(context)
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
    record_check(context, "throughput last third / first third", value, ratio, value >= ratio)
    assert_that(value >= ratio, equal_to(True),
                f"{b} successful requests in the last third against {a} in the first")


@then("the p95 latency of the last third is at most {ratio:Number} times that of the first "
      "third")
def step_soak_latency(context: Any, ratio: float) -> None:
    """p95 end-to-end latency, last third of the run against the first third."""
    first, last = _thirds(context)
    a, b = percentile(first.latencies(), 95), percentile(last.latencies(), 95)
    value = b / a
    record_check(context, "p95 latency last third / first third", value, ratio, value <= ratio)
    assert_that(value, less_than_or_equal_to(ratio),
                f"p95 {b:.0f} ms in the last third against {a:.0f} ms in the first")


__all__ = [name for name in dir() if name.startswith("step_")]
