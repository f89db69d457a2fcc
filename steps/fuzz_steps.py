"""Fuzzing from the OpenAPI document: thin adapters over ``atlas_suite.fuzzing``."""

from __future__ import annotations

from typing import Any

from behave import given, then, when
from hamcrest import assert_that, equal_to

from atlas_suite.fuzzing import (
    FuzzReport,
    FuzzTarget,
    budget_from_userdata,
    fuzz,
    untried_routes,
)
from atlas_suite.reporting import attach_text
from atlas_suite.steplib.support import noted, notes, skips_when_unsupported, use_server

DOMAIN = "security"


@given('a server to fuzz that requires the API key "{key}"')
@skips_when_unsupported
def step_fuzz_server(context: Any, key: str) -> None:
    """A server that requires the API key, in the default configuration otherwise; when the
    suite tests a server it did not start, that server, with the key it was given for it."""
    pool = context.pool
    if pool.settings.can_start_servers():
        server = pool.get(pool.default_config.with_(api_keys=(key,)))
    else:
        server, key = pool.get(), pool.settings.api_key
    use_server(context, server)
    notes(context)["fuzz_target"] = FuzzTarget(
        base_url=server.base_url, api_key=key or None, memory_dir=server.memory_dir,
        watched_dir=server.root_dir, atlas=server.config.atlas)


@when("I fuzz every route of the OpenAPI document")
def step_fuzz(context: Any) -> None:
    """Send requests generated from the OpenAPI document, valid and invalid, to every route,
    within the run's budget (cases per route, seconds, seed: docs/fuzzing.md); the report
    (requests tried, statuses, failing cases as curl commands) is attached to the run."""
    target: FuzzTarget = noted(context, "fuzz_target")
    report = fuzz(target, budget_from_userdata(context.config.userdata))
    notes(context)["fuzz_report"] = report
    attach_text(context, "fuzz report", report.summary())


def _report(context: Any) -> FuzzReport:
    return noted(context, "fuzz_report")


@then("every route of the document was reached by generated requests")
def step_every_route_reached(context: Any) -> None:
    """Each route of the document got at least one generated request."""
    missing = untried_routes(_report(context), noted(context, "fuzz_target"))
    assert_that(missing, equal_to([]), f"routes no generated request reached\n"
                                       f"{_report(context).summary()}")


@then("every generated request was answered as the OpenAPI document says")
def step_no_findings(context: Any) -> None:
    """No 5xx, every answer conforming to the document, no key in an answer, no file outside
    the memory folder; each failing case is listed as a curl command."""
    report = _report(context)
    assert_that(len(report.findings), equal_to(0),
                f"{len(report.findings)} of {report.requests} generated requests failed\n"
                f"{report.summary()}")
