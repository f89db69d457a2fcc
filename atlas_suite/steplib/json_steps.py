"""Generic JSON steps: look at the last response's body with JSON paths."""

from __future__ import annotations

import math
from typing import Any

from behave import given, then, when
from hamcrest import (
    assert_that,
    contains_string,
    equal_to,
    greater_than,
    greater_than_or_equal_to,
    has_length,
    is_not,
    less_than,
    matches_regexp,
)

from atlas_suite import jsonpaths
from atlas_suite.schemas import registry
from atlas_suite.steplib import types  # noqa: F401 - registers the typed parameters
from atlas_suite.steplib.support import last_json, noted, notes
from atlas_suite.steplib.types import is_json_kind

DOMAIN = "generic HTTP/JSON"


def _at(context: Any, path: str) -> Any:
    return jsonpaths.value_at(last_json(context), path)


def _number_at(context: Any, path: str) -> float:
    value = _at(context, path)
    assert_that(is_json_kind(value, "number"), equal_to(True),
                f'expected a number at "{path}", got {value!r}')
    assert_that(math.isfinite(value), equal_to(True), f'"{path}" is {value}, not a real number')
    return float(value)


@then('the JSON at "{path}" is {value:JSON}')
def step_json_is(context: Any, path: str, value: Any) -> None:
    """The value at ``path`` equals a JSON literal: ``is 3``, ``is "ok"``, ``is true``,
    ``is null``. Numbers compare by value (3 equals 3.0); true is not 1."""
    actual = _at(context, path)
    same_kind = isinstance(actual, bool) == isinstance(value, bool)
    assert_that((same_kind, actual), equal_to((True, value)),
                f'expected {value!r} at "{path}", found {actual!r}')


@then('the JSON at "{path}" is not {value:JSON}')
def step_json_is_not(context: Any, path: str, value: Any) -> None:
    """The value at ``path`` differs from a JSON literal."""
    assert_that(_at(context, path), is_not(equal_to(value)), f'"{path}"')


@then('the JSON at "{path}" exists')
def step_json_exists(context: Any, path: str) -> None:
    """Something (even null) is at ``path``."""
    document = last_json(context)
    assert_that(jsonpaths.exists(document, path), equal_to(True),
                f'expected something at "{path}" in {str(document)[:500]}')


@then('the JSON at "{path}" does not exist')
def step_json_absent(context: Any, path: str) -> None:
    """Nothing is at ``path`` (the key is absent, not merely null)."""
    document = last_json(context)
    assert_that(jsonpaths.exists(document, path), equal_to(False),
                f'expected nothing at "{path}", found {jsonpaths.find_all(document, path)!r}')


@then('the JSON at "{path}" contains "{text}"')
def step_json_contains(context: Any, path: str, text: str) -> None:
    """The string at ``path`` contains ``text``, ignoring letter case."""
    actual = _at(context, path)
    assert_that(isinstance(actual, str), equal_to(True),
                f'expected text at "{path}", got {actual!r}')
    assert_that(actual.lower(), contains_string(text.lower()), f'"{path}" is {actual!r}')


@then('the JSON at "{path}" matches "{pattern}"')
def step_json_regex(context: Any, path: str, pattern: str) -> None:
    """The string at ``path`` matches a regular expression (searched, not anchored)."""
    assert_that(str(_at(context, path)), matches_regexp(pattern))


@then('the JSON at "{path}" is greater than {bound:Number}')
def step_json_greater(context: Any, path: str, bound: float) -> None:
    """The number at ``path`` is strictly greater than ``bound``."""
    assert_that(_number_at(context, path), greater_than(bound), f'"{path}"')


@then('the JSON at "{path}" is less than {bound:Number}')
def step_json_less(context: Any, path: str, bound: float) -> None:
    """The number at ``path`` is strictly less than ``bound``."""
    assert_that(_number_at(context, path), less_than(bound), f'"{path}"')


@then('the JSON at "{path}" is at least {bound:Number}')
def step_json_at_least(context: Any, path: str, bound: float) -> None:
    """The number at ``path`` is ``bound`` or more."""
    assert_that(_number_at(context, path), greater_than_or_equal_to(bound), f'"{path}"')


@then('the JSON at "{path}" is a {kind:JsonKind}')
def step_json_kind(context: Any, path: str, kind: str) -> None:
    """The value at ``path`` is a string, number, integer, boolean, list or object."""
    value = _at(context, path)
    assert_that(is_json_kind(value, kind), equal_to(True),
                f'expected a {kind} at "{path}", found {value!r}')


@then('the JSON at "{path}" has {n:Int} items')
def step_json_length(context: Any, path: str, n: int) -> None:
    """The list (or object) at ``path`` has exactly ``n`` entries."""
    assert_that(_at(context, path), has_length(n), f'"{path}"')


@then('the JSON at "{path}" matches the "{schema}" schema')
def step_json_schema(context: Any, path: str, schema: str) -> None:
    """The value at ``path`` is valid against the schema ``<schema>`` of
    ``schemas/openapi.yaml`` (its components)."""
    value = _at(context, path)
    assert_that(registry().errors(schema, value), equal_to([]),
                f'"{path}" does not have the "{schema}" shape: {value!r}')


@given('I remember the JSON at "{path}" as "{name}"')
@when('I remember the JSON at "{path}" as "{name}"')
@then('I remember the JSON at "{path}" as "{name}"')
def step_remember(context: Any, path: str, name: str) -> None:
    """Keep the value at ``path`` under ``name`` for a later comparison in this scenario."""
    notes(context)[name] = _at(context, path)


@then('the JSON at "{path}" equals the remembered "{name}"')
def step_equals_remembered(context: Any, path: str, name: str) -> None:
    """The value at ``path`` equals what was remembered under ``name``."""
    assert_that(_at(context, path), equal_to(noted(context, name)),
                f'"{path}" should still be the remembered "{name}"')


@then('the JSON at "{path}" differs from the remembered "{name}"')
def step_differs_remembered(context: Any, path: str, name: str) -> None:
    """The value at ``path`` is not what was remembered under ``name``."""
    assert_that(_at(context, path), is_not(equal_to(noted(context, name))),
                f'"{path}" should have changed from the remembered "{name}"')


def _remembered_number(context: Any, name: str) -> float:
    value = noted(context, name)
    assert_that(is_json_kind(value, "number"), equal_to(True),
                f'the remembered "{name}" is {value!r}, not a number')
    return float(value)


@then('the JSON at "{path}" is greater than the remembered "{name}"')
def step_greater_than_remembered(context: Any, path: str, name: str) -> None:
    """The number at ``path`` is strictly greater than the number remembered under ``name``
    (a counter that grew, a size that increased)."""
    assert_that(_number_at(context, path), greater_than(_remembered_number(context, name)),
                f'"{path}" compared with the remembered "{name}"')


@then('the JSON at "{path}" is less than the remembered "{name}"')
def step_less_than_remembered(context: Any, path: str, name: str) -> None:
    """The number at ``path`` is strictly less than the number remembered under ``name``."""
    assert_that(_number_at(context, path), less_than(_remembered_number(context, name)),
                f'"{path}" compared with the remembered "{name}"')


@then('the JSON at "{path}" is at least the remembered "{name}"')
def step_at_least_remembered(context: Any, path: str, name: str) -> None:
    """The number at ``path`` is the number remembered under ``name`` or more (a counter that
    never goes back)."""
    assert_that(_number_at(context, path),
                greater_than_or_equal_to(_remembered_number(context, name)),
                f'"{path}" compared with the remembered "{name}"')


__all__ = [name for name in dir() if name.startswith("step_")]
