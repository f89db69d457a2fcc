"""Status, configuration and metrics in domain words."""

from __future__ import annotations

import math
from typing import Any

from behave import given, then, when
from hamcrest import assert_that, equal_to, greater_than, is_not
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_fixed

from atlas_suite import jsonpaths
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.support import api, last_json, noted, notes

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
def step_ask_status(context: Any) -> None:
    """GET /v1/atlas/status; "the response" is the status."""
    api(context).status()


@given("I note the generation speed")
def step_note_speed(context: Any) -> None:
    """Keep the status's ``performance.tokens_per_second`` to compare later."""
    notes(context)["speed"] = _speed(api(context).status())


@then("the reported generation speed is a positive number of tokens per second")
def step_speed_positive(context: Any) -> None:
    """``performance.tokens_per_second`` in the last status is a real, positive number."""
    _speed(last_json(context))


@then("the generation speed is still measured: positive, and not the value noted before")
def step_speed_changed(context: Any) -> None:
    """A live measurement moves with traffic; a constant would stay the same."""
    speed = _speed(api(context).status())
    assert_that(speed, is_not(equal_to(noted(context, "speed"))),
                "tokens_per_second did not change after traffic: it looks like a constant")


@given('I note the status value "{path}"')
def step_note_status_value(context: Any, path: str) -> None:
    """Keep a number from /v1/atlas/status (a JSON path, e.g. "performance.requests_total")."""
    notes(context)[f"status:{path}"] = jsonpaths.value_at(api(context).status(), path)


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
    """Note the configuration now and put its changeable fields back when the scenario ends."""
    atlas = api(context)
    original = atlas.config()
    notes(context)["config"] = original

    def restore() -> None:
        atlas.set_config({k: original[k] for k in CHANGEABLE if k in original})

    context.add_cleanup(restore)


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
