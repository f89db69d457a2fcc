"""Generic HTTP steps: send requests, check statuses, headers and schemas."""

from __future__ import annotations

import json
import re
from typing import Any

from behave import given, then, when
from hamcrest import (
    assert_that,
    contains_string,
    equal_to,
    has_item,
    is_not,
    matches_regexp,
)

from atlas_suite.http import describe_text
from atlas_suite.schemas import registry
from atlas_suite.steplib import types  # noqa: F401 - registers the typed parameters
from atlas_suite.steplib.catalogue import sets_response
from atlas_suite.steplib.support import http, last

DOMAIN = "generic HTTP/JSON"


def _headers_lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


# -- credentials ----------------------------------------------------------------------------
@given('I use the API key "{key}"')
def step_use_api_key(context: Any, key: str) -> None:
    """Send ``key`` as ``Authorization: Bearer KEY`` on every following request."""
    http(context).use_api_key(key)


@given('I send the API key "{key}" in the "{header}" header')
def step_api_key_in_header(context: Any, key: str, header: str) -> None:
    """Send ``key`` in ``header``: "Authorization" (as a Bearer token) or "X-Api-Key" (raw)."""
    http(context).use_api_key(key, header)


@given("I use no API key")
def step_no_api_key(context: Any) -> None:
    """Send no credentials at all."""
    http(context).use_api_key(None)


@given('the request header "{name}" is "{value}"')
def step_request_header(context: Any, name: str, value: str) -> None:
    """Add a header to every following request."""
    http(context).headers[name] = value


# -- requests -------------------------------------------------------------------------------
@when('I GET "{path}"')
@sets_response
def step_get(context: Any, path: str) -> None:
    """GET a path of the current server, e.g. ``When I GET "/v1/atlas/status"``."""
    http(context).get(path)


@when('I GET "{path}" {n:Int} times')
@sets_response
def step_get_n_times(context: Any, path: str, n: int) -> None:
    """GET a path ``n`` times in a row; "the response" is then the last one."""
    for _ in range(n):
        http(context).get(path)


@when('I POST "{path}" with:')
@sets_response
def step_post_doc(context: Any, path: str) -> None:
    """POST the doc string as it is (JSON, or deliberately broken JSON)."""
    http(context).post(path, body=context.text or "")


@when('I POST "{path}" with a body of {size:ByteSize}')
@sets_response
def step_post_size(context: Any, path: str, size: int) -> None:
    """POST a valid JSON body of (at least) ``size`` bytes, e.g. "9 MiB"."""
    filler = "x" * max(size - 40, 0)
    http(context).post(path, body=json.dumps({"prompt": filler, "max_tokens": 1}))


@when('I send a {method:Method} request to "{path}"')
@sets_response
def step_send_method(context: Any, method: str, path: str) -> None:
    """Send ``method`` to ``path``; POST, PUT and PATCH carry an empty JSON object."""
    body = "{}" if method in ("POST", "PUT", "PATCH") else None
    http(context).request(method, path, body=body)


# -- statuses -------------------------------------------------------------------------------
@then("the response status is {status:Status}")
def step_status(context: Any, status: int) -> None:
    """The last response has this HTTP status."""
    reply = last(context)
    assert_that(reply.status, equal_to(status),
                f"expected the server to answer {status} to {reply.method} {reply.path}, "
                f"but it answered {describe_text(reply.status, reply.text)}")


@then("responses {first:Int} to {final:Int} have status {status:Status}")
def step_statuses(context: Any, first: int, final: int, status: int) -> None:
    """Responses ``first`` .. ``final`` of this scenario (counting from 1) have ``status``."""
    exchanges = http(context).exchanges[first - 1:final]
    assert_that(len(exchanges), equal_to(final - first + 1),
                f"expected at least {final} responses in this scenario")
    for number, reply in enumerate(exchanges, start=first):
        assert_that(reply.status, equal_to(status),
                    f"expected response {number} ({reply.method} {reply.path}) to be {status}, "
                    f"but it was {describe_text(reply.status, reply.text)}")


# -- headers --------------------------------------------------------------------------------
@then('the response header "{name}" exists')
def step_header_exists(context: Any, name: str) -> None:
    """The last response carries this header (any letter case)."""
    headers = _headers_lower(last(context).headers)
    assert_that(list(headers), has_item(name.lower()),
                f'expected a "{name}" header; the response had: {", ".join(headers)}')


@then('the response header "{name}" is "{value}"')
def step_header_is(context: Any, name: str, value: str) -> None:
    """The last response's header has exactly this value."""
    step_header_exists(context, name)
    actual = _headers_lower(last(context).headers)[name.lower()]
    assert_that(actual, equal_to(value), f'header "{name}"')


@then('the response header "{name}" is a whole number')
def step_header_number(context: Any, name: str) -> None:
    """The header's value is a non-negative whole number (like Retry-After: 42)."""
    step_header_exists(context, name)
    actual = _headers_lower(last(context).headers)[name.lower()]
    assert_that(actual, matches_regexp(r"^\d+$"), f'header "{name}" should be a whole number')


# -- bodies ---------------------------------------------------------------------------------
@then('the response matches the "{schema}" schema')
def step_matches_schema(context: Any, schema: str) -> None:
    """The last response's JSON body is valid against the schema ``<schema>`` of
    ``schemas/openapi.yaml`` (its components)."""
    reply = last(context)
    problems = registry().errors(schema, reply.json())
    answer = describe_text(reply.status, reply.text)
    assert_that(problems, equal_to([]), f'the response lacks the "{schema}" shape: {answer}')


@then('the response body contains "{text}"')
def step_body_contains(context: Any, text: str) -> None:
    """The raw body of the last response contains ``text``."""
    assert_that(last(context).text, contains_string(text))


@then('the response body does not contain "{text}"')
def step_body_lacks(context: Any, text: str) -> None:
    """The raw body of the last response does not contain ``text``."""
    assert_that(last(context).text, is_not(contains_string(text)))


@then('no response in this scenario contains "{text}"')
def step_no_response_contains(context: Any, text: str) -> None:
    """Neither the bodies nor the headers of any response in this scenario contain ``text``."""
    for reply in http(context).exchanges:
        leaked = [f"header {k}" for k, v in reply.headers.items() if text in v or text in k]
        if text in reply.text:
            leaked.append("body")
        assert_that(leaked, equal_to([]),
                    f'"{text}" leaked in the answer to {reply.method} {reply.path}')


@then('the response is Prometheus text with metrics named "{prefix}*"')
def step_prometheus(context: Any, prefix: str) -> None:
    """The body is Prometheus text exposition and every sample's name starts with ``prefix``."""
    reply = last(context)
    content_type = _headers_lower(reply.headers).get("content-type", "")
    assert_that(content_type, contains_string("text/plain"), "Prometheus content type")
    samples = [line for line in reply.text.splitlines() if line and not line.startswith("#")]
    assert_that(len(samples) > 0, equal_to(True), "expected at least one metric sample")
    sample = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (?:-?[0-9.eE+-]+|NaN|[+-]Inf)")
    for line in samples:
        match = sample.match(line)
        assert_that(match is not None, equal_to(True), f"not a Prometheus sample: {line!r}")
        assert match is not None
        assert_that(match.group(1), matches_regexp(f"^{re.escape(prefix)}"), line)


__all__ = [name for name in dir() if name.startswith("step_")]
