"""Status, configuration and metrics in domain words."""

from __future__ import annotations

import math
from typing import Any

from behave import given, then, when
from hamcrest import assert_that, equal_to, greater_than, is_not
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_fixed

from atlas_suite import api_rules, jsonpaths, routes
from atlas_suite.atlas import expect_ok
from atlas_suite.schemas import registry
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.catalogue import deprecated, sets_response
from atlas_suite.steplib.support import api, current_server, http, last, last_json, noted, notes

DOMAIN = "server"

# the fields POST /v1/atlas/config accepts (docs/api.md)
CHANGEABLE = ("window_size", "blend_ratio", "learning_rate", "momentum", "weight_decay",
              "newton_schulz_steps")


def _speed(status: dict[str, Any]) -> float:
    speed = status["performance"]["tokens_per_second"]
    assert_that(isinstance(speed, (int, float)) and not isinstance(speed, bool)
                and math.isfinite(speed) and speed > 0, equal_to(True),
                f"expected a measured generation speed (a positive number of tokens per "
                f"second), but the status reports {speed!r}")
    return float(speed)


@when("I ask for the server status")
@sets_response
def step_ask_status(context: Any) -> None:
    """Ask the server for its status (model, memory, configuration, performance, limits); the
    status is "the response"."""
    api(context).status()


@given("the server has reported a generation speed")
def step_speed_reported(context: Any) -> None:
    """The status reports a positive generation speed now; it is kept to compare later."""
    notes(context)["speed"] = _speed(api(context).status())


@given("I note the generation speed")
@deprecated("the server has reported a generation speed")
def step_note_speed(context: Any) -> None:
    """Deprecated: use `the server has reported a generation speed`."""
    step_speed_reported(context)


@then("the reported generation speed is a positive number of tokens per second")
def step_speed_positive(context: Any) -> None:
    """``performance.tokens_per_second`` in the last status is a real, positive number."""
    _speed(last_json(context))


@then("the server reports a new, positive generation speed")
def step_speed_new(context: Any) -> None:
    """The status's generation speed is positive and differs from the one reported before the
    traffic: a live measurement moves, a constant would stay the same."""
    speed = _speed(api(context).status())
    assert_that(speed, is_not(equal_to(noted(context, "speed"))),
                "tokens_per_second did not change after traffic: it looks like a constant")


@then("the generation speed is still measured: positive, and not the value noted before")
@deprecated("the server reports a new, positive generation speed")
def step_speed_changed(context: Any) -> None:
    """Deprecated: use `the server reports a new, positive generation speed`."""
    step_speed_new(context)


@given('I note the status value "{path}"')
def step_note_status_value(context: Any, path: str) -> None:
    """Keep a number from the status to compare later (a JSON path, e.g.
    "performance.requests_total"); for QA's own scenarios."""
    notes(context)[f"status:{path}"] = jsonpaths.value_at(api(context).status(), path)


@given("the server has counted the requests it answered so far")
def step_requests_counted(context: Any) -> None:
    """The status's count of answered requests (``performance.requests_total``) now, kept to
    compare later."""
    step_note_status_value(context, "performance.requests_total")


@then("the server counts more requests answered than before")
def step_requests_grown(context: Any) -> None:
    """The status's count of answered requests has grown since it was read."""
    step_status_grown(context, "performance.requests_total")


@then('the status value "{path}" has grown')
def step_status_grown(context: Any, path: str) -> None:
    """The number at ``path`` in /v1/atlas/status is larger than when it was noted."""
    before = noted(context, f"status:{path}")
    after = jsonpaths.value_at(api(context).status(), path)
    assert_that(after, greater_than(before), f'"{path}" should have grown from {before}')


@then("within {seconds:Int} seconds the server reports no active requests")
def step_no_active(context: Any, seconds: int) -> None:
    """Poll /v1/atlas/status until ``performance.requests_active`` is 0."""

    def idle() -> None:
        active = api(context).status()["performance"]["requests_active"]
        assert_that(active, equal_to(0),
                    f"the server still reports {active} active requests after {seconds} s")

    retry(stop=stop_after_delay(seconds), wait=wait_fixed(0.5), reraise=True,
          retry=retry_if_exception_type(AssertionError))(idle)()


@given("the ATLAS configuration is restored after this scenario")
def step_restore_config(context: Any) -> None:
    """Keep the configuration as it is now and put its changeable fields back on this same
    server when the scenario ends (even if a later step starts another server)."""
    server, client = current_server(context), http(context)
    original = api(context).config()
    notes(context)["config"] = original

    def restore() -> None:
        client.base_url = server.base_url
        client.post(routes.ATLAS_CONFIG, {k: original[k] for k in CHANGEABLE if k in original})

    context.add_cleanup(restore)


def _change(context: Any, changes: Any) -> None:
    notes(context)["config change"] = changes
    api(context).set_config(changes)


@when('I change the default "{field}" to {value:JSON}')
@sets_response
def step_change_default(context: Any, field: str, value: Any) -> None:
    """Ask the server to change one default of the memory (``window_size``, ``blend_ratio``,
    ...), valid or not; its answer is "the response"."""
    _change(context, {field: value})


@when("I change the defaults to {changes:JSON}")
@sets_response
def step_change_defaults(context: Any, changes: Any) -> None:
    """Ask the server to change several defaults at once (a JSON object, valid or not); its
    answer is "the response"."""
    _change(context, changes)


def _config_answer(context: Any, doing: str) -> dict[str, Any]:
    """The last answer, which must be a configuration in the documented shape."""
    body = expect_ok(last(context), doing)
    problems = registry().errors("atlas_config", body)
    assert_that(problems, equal_to([]), f"the configuration is not in its documented shape: {body}")
    return dict(body)


@then("the change is accepted")
def step_change_accepted(context: Any) -> None:
    """The change succeeded and answered the whole configuration, in its documented shape, with
    every field that was sent at its new value."""
    body = _config_answer(context, "accept the configuration change")
    for field, value in noted(context, "config change").items():
        assert_that(body.get(field), equal_to(value),
                    f'the answer to the change should show "{field}" as {value!r}: {body}')


@then('the change is refused, naming the field "{field}"')
def step_change_refused(context: Any, field: str) -> None:
    """The change was refused as an invalid request (400, in the OpenAI error envelope) whose
    ``param`` names the field."""
    reply = last(context)
    assert_that(reply.status, equal_to(400),
                f"expected the change to be refused with 400, got HTTP {reply.status}: "
                f"{reply.text[:600]}")
    problems = registry().errors("error", reply.json())
    assert_that(problems, equal_to([]), f"the refusal is not in the error envelope: {reply.text}")
    step_error_names(context, field)


@when("I ask for the ATLAS configuration")
@sets_response
def step_ask_config(context: Any) -> None:
    """Ask the server for the memory's current defaults; the configuration is "the response"."""
    api(context).config()


@then('the configuration reports "{field}" as {value:JSON}')
def step_config_reports(context: Any, field: str, value: Any) -> None:
    """The configuration the server answered last, in its documented shape, has ``field`` at
    ``value``."""
    body = _config_answer(context, "report its configuration")
    assert_that(body.get(field), equal_to(value), f'"{field}" in the configuration {body}')


@then('the status shows the default "{field}" as {value:JSON}')
def step_status_shows_default(context: Any, field: str, value: Any) -> None:
    """The status the server answered last reports ``field`` at ``value`` in its configuration:
    the current default, not the start-up one."""
    config = expect_ok(last(context), "report its status").get("config", {})
    assert_that(config.get(field), equal_to(value), f'"{field}" in the status\'s config {config}')


# -- metrics ------------------------------------------------------------------------------------
@given("the server's metrics have been read")
def step_metrics_read(context: Any) -> None:
    """Read /v1/atlas/metrics now; later Thens say how far a counter moved since."""
    notes(context)["metrics"] = api(context).metrics()


def _grown_since_read(context: Any, path: str) -> float:
    before = api_rules.metric_value(noted(context, "metrics"), path)
    return api_rules.metric_value(api(context).metrics(), path) - before


@then('the metric "{path}" has grown by {n:Int} since they were read')
def step_metric_grown_since(context: Any, path: str, n: int) -> None:
    """The number at ``path`` in /v1/atlas/metrics (a per-label counter not yet present reads 0)
    is exactly ``n`` more than when the metrics were read."""
    grown = _grown_since_read(context, path)
    assert_that(grown, equal_to(n), f'"{path}" in the metrics grew by {grown:g}, expected {n}')


@then("the metric \"{path}\" has grown by the completion's tokens since they were read")
def step_metric_tokens_since(context: Any, path: str) -> None:
    """The number at ``path`` grew by the last completion's ``usage.completion_tokens`` since
    the metrics were read."""
    tokens = expect_ok(last(context), "answer the completion")["usage"]["completion_tokens"]
    grown = _grown_since_read(context, path)
    assert_that(grown, equal_to(tokens),
                f'"{path}" grew by {grown:g}, but the completion generated {tokens} tokens')


@then("the ATLAS configuration is unchanged")
def step_config_unchanged(context: Any) -> None:
    """GET /v1/atlas/config answers what was noted at the start of the scenario."""
    assert_that(api(context).config(), equal_to(noted(context, "config")),
                "a refused configuration change must not change anything")


@then('the error names the field "{field}"')
def step_error_names(context: Any, field: str) -> None:
    """``error.param`` is the field, or a dotted path ending in it."""
    param = last_json(context)["error"].get("param")
    named = param == field or (isinstance(param, str) and param.endswith(f".{field}"))
    assert_that(named, equal_to(True),
                f'expected the error to name "{field}" in param, but param is {param!r}: '
                f"{last_json(context)}")
