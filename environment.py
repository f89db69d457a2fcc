"""behave hooks: one server pool for the run, a fresh HTTP client per scenario, skips, logs."""

from __future__ import annotations

import collections
from collections.abc import Iterator
from typing import Any

from behave import fixture, use_fixture
from behave.model import Scenario, Status

from atlas_suite import traceability
from atlas_suite.http import ApiClient
from atlas_suite.reporting import attach_text
from atlas_suite.server import ServerPool
from atlas_suite.steplib import verdicts
from atlas_suite.tagrules import skip_reason
from atlas_suite.targets import TargetSettings


@fixture
def server_pool(context: Any) -> Iterator[ServerPool]:
    """The run's servers: one per configuration, all stopped when the run ends."""
    settings = TargetSettings.from_userdata(context.config.userdata)
    pool = ServerPool(settings)
    context.pool = pool
    yield pool
    for label, code in pool.stop_all().items():
        print(f"atlas-suite: server {label} stopped with exit code {code}")


@fixture
def scenario_client(context: Any) -> Iterator[ApiClient]:
    """A fresh HTTP client (no key, no history) and no notes for every scenario."""
    client = ApiClient()
    context.http = client
    context.notes = {}
    context.server = None
    yield client
    client.close()


def before_all(context: Any) -> None:
    traceability.start(context)  # fails fast on an unknown @req tag or an uncovered requirement
    verdicts.install(context)  # what the server did, in product words, instead of tracebacks
    context.skip_reasons = collections.defaultdict(list)  # reason -> scenario names
    # cleanups run last-in first-out and outside output capture: this one prints near the end
    context.add_cleanup(_print_skip_reasons, context.skip_reasons)
    use_fixture(server_pool, context)


def after_all(context: Any) -> None:
    traceability.finish(context)  # reports/traceability.{html,md,json}; summary printed last


def _print_skip_reasons(skip_reasons: dict[str, list[str]]) -> None:
    if skip_reasons:
        print("\nScenarios skipped, and why:")
        for reason, names in sorted(skip_reasons.items()):
            print(f"  {len(names):3d} x {reason}")


def before_scenario(context: Any, scenario: Scenario) -> None:
    reason = skip_reason(scenario.effective_tags, context.pool.settings)
    if reason:
        scenario.skip(reason=reason)
        return
    use_fixture(scenario_client, context)


def after_scenario(context: Any, scenario: Scenario) -> None:
    if scenario.status == Status.skipped and scenario.skip_reason:
        context.skip_reasons[scenario.skip_reason].append(scenario.name)
        attach_text(context, "skipped", f"SKIPPED: {scenario.skip_reason}")
        return
    if scenario.status not in (Status.failed, Status.error, Status.hook_error):
        return
    server = getattr(context, "server", None)
    if server is not None:
        alive = "running" if server.alive() else "no longer running"
        attach_text(context, f"server log tail ({server.config.label()}, {alive})",
                    server.log_tail(80))
