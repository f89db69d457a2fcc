"""API keys, what must never leak, and rate limits."""

from __future__ import annotations

from typing import Any

from behave import then, when
from hamcrest import assert_that, equal_to

from atlas_suite import routes
from atlas_suite.faults import countdown_problems, send_route
from atlas_suite.security import (
    CredentialAttempt,
    every_route,
    find_route,
    refused_wrongly,
    try_credentials,
    unrefused,
)
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.support import current_server, http, noted, notes


@when('I send a request with the wrong key "{key}"')
def step_wrong_key(context: Any, key: str) -> None:
    """GET /v1/models once with ``key`` as the Bearer token; the scenario's own key stays."""
    http(context).get(routes.MODELS, headers={"Authorization": f"Bearer {key}"})


# -- every credential on one route ----------------------------------------------------------------
@when('I call {method:Method} "{path}" with every kind of credential for the key "{key}"')
def step_every_credential(context: Any, method: str, path: str, key: str) -> None:
    """Send the route's request with no key, then with wrong keys (another key, the key cut
    short, the key with a character added, an empty Bearer) in ``Authorization: Bearer`` and in
    ``X-Api-Key``, then with the right key in each header."""
    notes(context)["credentials"] = try_credentials(http(context), find_route(method, path), key)


def _attempts(context: Any) -> list[CredentialAttempt]:
    return noted(context, "credentials")


@then("every missing or wrong key is refused with 401 in the error envelope")
def step_wrong_refused(context: Any) -> None:
    """Each attempt without the right key answered 401 with an ``authentication_error``
    envelope."""
    problems = unrefused(_attempts(context))
    assert_that(problems, equal_to([]), "requests without the right key got through")


@then("the right key is accepted in both the Authorization and the X-Api-Key header")
def step_right_accepted(context: Any) -> None:
    """With the right key, in either header, the route answered something other than 401."""
    problems = refused_wrongly(_attempts(context))
    assert_that(problems, equal_to([]), "the right key was refused")


# -- every route ----------------------------------------------------------------------------------
@when("I call every route of the API")
def step_every_route(context: Any) -> None:
    """Send one request to every route (``/v1/*``, ``/health``, ``/metrics`` and an unknown
    one) with the scenario's credentials; POSTs carry an empty JSON object, so nothing in the
    memory changes but a reset of the default memory. The ATLAS routes are left out on a server
    without ATLAS."""
    for route in every_route(atlas=current_server(context).config.atlas):
        send_route(http(context), route)


# -- rate limits ----------------------------------------------------------------------------------
@when('the key "{key}" is used for {n:Int} requests to "{path}"')
@when('the key "{key}" is used for {n:Int} request to "{path}"')
def step_key_requests(context: Any, key: str, n: int, path: str) -> None:
    """GET ``path`` ``n`` times with ``Authorization: Bearer KEY`` (this key for these only)."""
    for _ in range(n):
        http(context).get(path, headers={"Authorization": f"Bearer {key}"})


@then("response {number:Int} has status {status:Status}")
def step_response_n_status(context: Any, number: int, status: int) -> None:
    """Response ``number`` of this scenario (counting from 1) has ``status``."""
    exchanges = http(context).exchanges
    assert_that(len(exchanges) >= number, equal_to(True),
                f"only {len(exchanges)} requests were sent in this scenario")
    reply = exchanges[number - 1]
    assert_that(reply.status, equal_to(status),
                f"request {number} ({reply.method} {reply.path}) answered HTTP {reply.status} "
                f"{reply.text[:300]}")


@then('the accepted answers that carry "X-RateLimit-Remaining" count down from {start:Int} '
      "to 0")
def step_countdown(context: Any, start: int) -> None:
    """Where the accepted (200) answers carry ``X-RateLimit-Remaining``, the first says
    ``start``, the next one less, and so on (the header is required on the 429 only)."""
    problems = countdown_problems(http(context).exchanges, start + 1)
    assert_that(problems, equal_to([]), "X-RateLimit-Remaining counts wrong")


@then('the response header "{name}" is a whole number from {low:Int} to {high:Int}')
def step_header_between(context: Any, name: str, low: int, high: int) -> None:
    """The last response's header ``name`` is a whole number in ``low .. high``."""
    headers = {k.lower(): v for k, v in http(context).last.headers.items()}
    value = headers.get(name.lower())
    assert_that(value is not None, equal_to(True), f"the answer has no {name} header")
    assert value is not None
    assert_that(value.strip().isdigit() and low <= int(value) <= high, equal_to(True),
                f"{name}: {value!r} is not a whole number of seconds from {low} to {high}")
