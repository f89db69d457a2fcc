"""The API's rules at their edges: range ends, counters across operations, Prometheus vs JSON."""

from __future__ import annotations

from typing import Any

import parse
from behave import given, then, when
from hamcrest import assert_that, equal_to

from atlas_suite import api_rules, routes
from atlas_suite.api_rules import REQUEST_PATTERN, REQUESTS, WINDOW_PATTERN, WindowSize
from atlas_suite.atlas import atlas_extension, expect_ok
from atlas_suite.steplib import types
from atlas_suite.steplib.support import (
    api,
    current_server,
    last,
    noted,
    notes,
    skip,
    skips_when_unsupported,
)


@parse.with_pattern(WINDOW_PATTERN)
def parse_window(text: str) -> WindowSize:
    """A window size: a whole number, "the context size", or "the context size + 1"."""
    return WindowSize.parse(text)


@parse.with_pattern(REQUEST_PATTERN)
def parse_counted_request(text: str) -> str:
    """A request to count: a plain completion, a completion with ATLAS, a streamed completion,
    a refused completion."""
    return text


types._register(WindowSize=parse_window, CountedRequest=parse_counted_request)

DOMAIN = "server"


def _window(context: Any, window: WindowSize) -> int | None:
    """The window size in tokens, noted for the Thens; None (scenario skipped) when unknown."""
    try:
        value = window.resolve(api_rules.context_size(current_server(context)))
    except LookupError as exc:
        skip(context, str(exc))
        return None
    notes(context)["window_sent"] = value
    return value


@when("I send a text completion with an ATLAS window size of {window:WindowSize}")
def step_send_window(context: Any, window: WindowSize) -> None:
    """A completion with ``"atlas": {"enabled": true, "window_size": N}``; N may be relative to
    the context size the suite started the server with (skipped for a server it did not start)."""
    value = _window(context, window)
    if value is not None:
        api(context).complete("The tide came in", atlas=atlas_extension(window_size=value))


@when("I change the default window size to {window:WindowSize}")
def step_config_window(context: Any, window: WindowSize) -> None:
    """POST /v1/atlas/config ``{"window_size": N}``; "the response" is the answer."""
    value = _window(context, window)
    if value is not None:
        api(context).set_config({"window_size": value})


@then("the atlas block reports the window size that was sent")
def step_block_window_sent(context: Any) -> None:
    """The completion succeeded and its ``atlas.window_size`` is the one the request sent."""
    body = expect_ok(last(context), "accept the window size")
    assert_that(body.get("atlas", {}).get("window_size"), equal_to(noted(context, "window_sent")),
                f"atlas.window_size in {str(body)[:400]}")


@then("the configuration answers the window size that was sent")
def step_config_window_sent(context: Any) -> None:
    """The configuration change succeeded and answered the new ``window_size``."""
    body = expect_ok(last(context), "accept the window size")
    assert_that(body.get("window_size"), equal_to(noted(context, "window_sent")),
                f"window_size in the answer {body}")


@given('the default "{field}" has been changed to {value:JSON}')
def step_default_changed(context: Any, field: str, value: Any) -> None:
    """POST /v1/atlas/config ``{field: value}``, which must succeed (pair it with "the ATLAS
    configuration is restored after this scenario")."""
    expect_ok(api(context).set_config({field: value}), f"change the default {field}")


@when("I send a text completion of a long prompt with the ATLAS extension enabled")
def step_long_prompt(context: Any) -> None:
    """An ATLAS completion of 16 tokens after a prompt of about 50 tokens."""
    api(context).complete(api_rules.LONG_PROMPT, max_tokens=16, atlas=atlas_extension())


@then("the atlas block counts both the prompt's tokens and the completion's")
def step_tokens_both(context: Any) -> None:
    """``atlas.tokens_memorized`` lies between the prompt plus half the completion and the
    request's total: neither part alone, nor the memory's running total."""
    body = expect_ok(last(context), "answer the ATLAS completion")
    problem = api_rules.tokens_counted_problem(body)
    assert_that(problem, equal_to(None), problem or "")


@when('I measure how much the status value "{path}" grows across a plain completion and '
      "across {request:CountedRequest}")
def step_measure_growth(context: Any, path: str, request: str) -> None:
    """Read /v1/atlas/status before and after a plain completion, then before and after the
    other request; both growths are noted. Measured the same way, so readings count alike."""
    atlas = api(context)

    def read() -> float:
        return api_rules.metric_value(atlas.status(), path)

    notes(context)["growth"] = (
        api_rules.growth(read, lambda: REQUESTS["a plain completion"](atlas)),
        api_rules.growth(read, lambda: REQUESTS[request](atlas)), path, request)


@then("both grew it by the same amount")
def step_same_growth(context: Any) -> None:
    """The other request moved the counter exactly as much as the plain completion did."""
    plain, other, path, request = noted(context, "growth")
    assert_that(other, equal_to(plain),
                f'"{path}" grew by {plain:g} across a plain completion but by {other:g} across '
                f"{request}: each request must count once")


@given('I note the metric "{path}"')
def step_note_metric(context: Any, path: str) -> None:
    """Keep a number from /v1/atlas/metrics (a per-label counter not yet present reads 0)."""
    notes(context)[f"metric:{path}"] = api_rules.metric_value(api(context).metrics(), path)


def _metric_growth(context: Any, path: str) -> float:
    return api_rules.metric_value(api(context).metrics(), path) - noted(context, f"metric:{path}")


@then('the metric "{path}" has grown by {n:Int}')
def step_metric_grown_by(context: Any, path: str, n: int) -> None:
    """The number at ``path`` in /v1/atlas/metrics is exactly ``n`` more than noted."""
    grown = _metric_growth(context, path)
    assert_that(grown, equal_to(n), f'"{path}" in the metrics grew by {grown:g}, expected {n}')


@then("the metric \"{path}\" has grown by the completion's tokens")
def step_metric_grown_by_tokens(context: Any, path: str) -> None:
    """The number at ``path`` grew by the last completion's ``usage.completion_tokens``."""
    tokens = expect_ok(last(context), "answer the completion")["usage"]["completion_tokens"]
    grown = _metric_growth(context, path)
    assert_that(grown, equal_to(tokens),
                f'"{path}" grew by {grown:g}, but the completion generated {tokens} tokens')


@when("I send {n:Int} plain completions one after another, timing each")
def step_timed(context: Any, n: int) -> None:
    """Plain completions of 8 tokens; the client's duration of each is noted."""
    notes(context)["durations_ms"] = api_rules.timed_completions(api(context), n)


@then("the median latency in the metrics is one of those completions', in milliseconds")
def step_latency_ms(context: Any) -> None:
    """``latency_ms.p50`` of /v1/atlas/metrics lies between a tenth of the shortest timed
    completion and the longest (for a server that served little else)."""
    problem = api_rules.latency_problem(api(context).metrics()["latency_ms"],
                                        noted(context, "durations_ms"))
    assert_that(problem, equal_to(None), problem or "")


@then('the Prometheus sample "{sample}" equals the JSON metric "{path}"')
@skips_when_unsupported
def step_prometheus_equals(context: Any, sample: str, path: str) -> None:
    """GET /metrics, then GET /v1/atlas/metrics: the sample's value equals the JSON number (the
    names are listed in docs/api.md)."""
    atlas = api(context)
    text = atlas.http.get(routes.PROMETHEUS).text
    exposed = api_rules.prometheus_value(text, sample)
    reported = api_rules.metric_value(atlas.metrics(), path)
    assert_that(exposed, equal_to(reported),
                f'Prometheus says {sample} = {exposed:g}, the JSON metrics say {path} = '
                f"{reported:g}: the same counter must agree")


__all__ = [name for name in dir() if name.startswith("step_")]
