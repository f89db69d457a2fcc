"""API keys, what must never leak, and rate limits."""

from __future__ import annotations

from typing import Any

from behave import given, then, when
from hamcrest import assert_that, equal_to, is_not

from atlas_suite import routes
from atlas_suite.faults import countdown_problems, send_route
from atlas_suite.http import Exchange, describe_text
from atlas_suite.schemas import registry
from atlas_suite.security import (
    CredentialAttempt,
    every_route,
    find_route,
    refused_wrongly,
    try_credentials,
    unrefused,
)
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.catalogue import deprecated, sets_response
from atlas_suite.steplib.support import (
    current_server,
    http,
    last,
    noted,
    notes,
    skips_when_unsupported,
    use_server,
)

DOMAIN = "security"


@when('I send a request with the wrong key "{key}"')
@sets_response
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
@sets_response
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
@sets_response
def step_key_requests(context: Any, key: str, n: int, path: str) -> None:
    """GET ``path`` ``n`` times with the key as a Bearer token (this key for these only); the
    answers are kept per key for "the key ... was answered" steps."""
    answers = notes(context).setdefault("answers by key", {}).setdefault(key, [])
    for _ in range(n):
        answers.append(http(context).get(path, headers={"Authorization": f"Bearer {key}"}))


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


@then("the answers count the requests left down from {start:Int} to 0")
def step_countdown(context: Any, start: int) -> None:
    """Where the accepted answers say how many requests are left (``X-RateLimit-Remaining``),
    the first says ``start``, the next one less, and so on; only the refusal must say it."""
    problems = countdown_problems(http(context).exchanges, start + 1)
    assert_that(problems, equal_to([]), "X-RateLimit-Remaining counts wrong")


@then('the accepted answers that carry "X-RateLimit-Remaining" count down from {start:Int} '
      "to 0")
@deprecated("the answers count the requests left down from {start} to 0")
def step_countdown_header(context: Any, start: int) -> None:
    """Deprecated: use `the answers count the requests left down from {start} to 0`."""
    step_countdown(context, start)


@then('the response header "{name}" is a whole number from {low:Int} to {high:Int}')
def step_header_between(context: Any, name: str, low: int, high: int) -> None:
    """The last response's header ``name`` is a whole number in ``low .. high``."""
    headers = {k.lower(): v for k, v in http(context).last.headers.items()}
    value = headers.get(name.lower())
    assert_that(value is not None, equal_to(True), f"the answer has no {name} header")
    assert value is not None
    assert_that(value.strip().isdigit() and low <= int(value) <= high, equal_to(True),
                f"{name}: {value!r} is not a whole number of seconds from {low} to {high}")


# -- credentials in domain words ------------------------------------------------------------
@given('requests carry the key "{key}"')
def step_carry_key(context: Any, key: str) -> None:
    """Every following request of the scenario presents ``key`` as a Bearer token."""
    http(context).use_api_key(key)


@given('requests carry the key "{key}" in the "{header}" header')
def step_carry_key_in(context: Any, key: str, header: str) -> None:
    """Every following request presents ``key`` in ``header``: "Authorization" (as a Bearer
    token) or "X-Api-Key" (the key alone)."""
    http(context).use_api_key(key, header)


@given("requests carry no key")
def step_carry_no_key(context: Any) -> None:
    """Every following request presents no key at all."""
    http(context).use_api_key(None)


@when('the route {method:Method} "{path}" is called')
@sets_response
def step_call_route(context: Any, method: str, path: str) -> None:
    """Send the route's request with the scenario's key, if any (a POST carries an empty JSON
    object, so nothing changes but a reset of the default memory)."""
    send_route(http(context), find_route(method, path))


def _is_error(reply: Exchange, status: int, error_type: str) -> None:
    """``reply`` is ``status`` in the error envelope with ``error.type`` = ``error_type``."""
    doing = f"{reply.method} {reply.path}"
    assert_that(reply.status, equal_to(status),
                f"expected {doing} to be refused with {status}, but the server answered "
                f"{describe_text(reply.status, reply.text)}")
    body = reply.json()
    assert_that(registry().errors("error", body), equal_to([]),
                f"the refusal of {doing} is not in the error envelope: {reply.text[:300]}")
    assert_that(body["error"]["type"], equal_to(error_type), f"error.type of {doing}")


@then("the request is refused as unauthorised")
def step_refused_unauthorised(context: Any) -> None:
    """The last answer is 401 in the error envelope, of type ``authentication_error``."""
    _is_error(last(context), 401, "authentication_error")


@then("the request is accepted")
def step_accepted(context: Any) -> None:
    """The last answer is a success (2xx): the server let the request through."""
    reply = last(context)
    assert_that(200 <= reply.status < 300, equal_to(True),
                f"expected {reply.method} {reply.path} to be accepted, but the server answered "
                f"{describe_text(reply.status, reply.text)}")


@then("the answer is the list of models")
def step_models_listed(context: Any) -> None:
    """The last answer is 200 with the OpenAI list of models."""
    step_accepted(context)
    body = last(context).json()
    assert_that(registry().errors("models_list", body), equal_to([]), f"models list {body}")


@then("the health check reports the server ready")
def step_health_ready(context: Any) -> None:
    """The last answer (to ``/health``) is 200 with ``{"status": "ok"}``."""
    reply = last(context)
    assert_that(reply.status, equal_to(200),
                f"the health check answered {describe_text(reply.status, reply.text)}")
    assert_that(reply.json().get("status"), equal_to("ok"), "the health check's status")


@then('no answer contains the key "{key}"')
def step_no_answer_has_key(context: Any, key: str) -> None:
    """No answer of this scenario (headers or body) contains ``key``."""
    leaks = [f"{e.method} {e.path} -> HTTP {e.status}" for e in http(context).exchanges
             if key in e.text or any(key in v for v in e.headers.values())]
    assert_that(leaks, equal_to([]), f'answers that contain the key "{key}"')


@then('the key "{key}" appears in no answer and not in the server log')
@skips_when_unsupported
def step_key_secret(context: Any, key: str) -> None:
    """No answer of this scenario contains ``key``, and nothing the server printed does."""
    step_no_answer_has_key(context, key)
    log = current_server(context).log_text()
    assert_that(key in log, equal_to(False), f'the server log contains the key "{key}"')


# -- one server with a key and a rate limit ---------------------------------------------------
@given('a fresh server limited to {n:Int} requests per minute that requires the API key "{key}"')
@skips_when_unsupported
def step_rate_limited_one_key(context: Any, n: int, key: str) -> None:
    """A newly started server with ``--rate-limit N --api-key KEY`` (fresh, so no earlier
    request counts); requests carry no key until a step adds one."""
    config = context.pool.default_config.with_(rate_limit=n, api_keys=(key,))
    use_server(context, context.pool.fresh(config))


@when("a client sends {n:Int} requests within a minute")
@sets_response
def step_client_requests(context: Any, n: int) -> None:
    """Ask for the list of models ``n`` times in a row with the scenario's key, if any."""
    for _ in range(n):
        http(context).get(routes.MODELS)


@then("the first {n:Int} requests are answered")
def step_first_answered(context: Any, n: int) -> None:
    """The first ``n`` answers of this scenario are 200."""
    _all_answered(http(context).exchanges[:n], n)


def _all_answered(answers: list[Exchange], n: int) -> None:
    assert_that(len(answers), equal_to(n), f"expected {n} answers, the scenario has {len(answers)}")
    for number, reply in enumerate(answers, start=1):
        assert_that(reply.status, equal_to(200),
                    f"request {number} ({reply.method} {reply.path}) answered "
                    f"{describe_text(reply.status, reply.text)}")


def _over_limit(context: Any, reply: Exchange) -> None:
    """``reply`` is a 429 ``rate_limit_error`` that says the limit, that none is left, and in
    how many seconds (1 to 60) to come back."""
    _is_error(reply, 429, "rate_limit_error")
    headers = {k.lower(): v.strip() for k, v in reply.headers.items()}
    limit = current_server(context).config.rate_limit
    for name, want in (("x-ratelimit-limit", str(limit)), ("x-ratelimit-remaining", "0")):
        assert_that(headers.get(name), equal_to(want), f"the refusal's {name} header")
    for name in ("retry-after", "x-ratelimit-reset"):
        value = headers.get(name, "")
        assert_that(value.isdigit() and 1 <= int(value) <= 60, equal_to(True),
                    f"the refusal's {name} header is {value!r}, not 1 to 60 seconds")


@then("the request is refused as over the rate limit")
def step_over_limit(context: Any) -> None:
    """The last answer is 429 in the error envelope (``rate_limit_error``) with
    ``X-RateLimit-Limit`` = the server's limit, ``X-RateLimit-Remaining`` = 0, and
    ``Retry-After`` and ``X-RateLimit-Reset`` saying 1 to 60 seconds."""
    _over_limit(context, last(context))


@then('the key "{key}" was answered {n:Int} times and then refused as over the rate limit')
def step_key_limited(context: Any, key: str, n: int) -> None:
    """The key's first ``n`` requests were answered 200, every later one was refused as over
    the rate limit (429, with the limit's headers)."""
    answers = noted(context, "answers by key").get(key, [])
    assert_that(len(answers) > n, equal_to(True),
                f'the key "{key}" was used for {len(answers)} requests, not more than {n}')
    _all_answered(answers[:n], n)
    for reply in answers[n:]:
        _over_limit(context, reply)


@then('every request with the key "{key}" was answered')
def step_key_answered(context: Any, key: str) -> None:
    """Each request made with the key was answered 200: another key's use did not count."""
    answers = noted(context, "answers by key").get(key, [])
    assert_that(answers, is_not(equal_to([])), f'the key "{key}" was not used')
    _all_answered(answers, len(answers))
