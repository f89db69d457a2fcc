"""behave hooks: the run's fixtures, skips by active tags, a fresh client per scenario, logs.

The fixtures themselves (server pool, scenario client, container pool, Kubernetes deployment)
are in atlas_suite/steplib/fixtures.py; the active tags and their reasons in
atlas_suite/tagrules.py.
"""

from __future__ import annotations

import collections
import signal
from typing import Any

from behave import use_fixture
from behave.model import Scenario, Status

from atlas_suite import traceability
from atlas_suite.reporting import attach_text
from atlas_suite.steplib import verdicts
from atlas_suite.steplib.fixtures import scenario_client, server_pool, use_tagged_fixtures
from atlas_suite.tagrules import SuiteTagMatcher


def before_all(context: Any) -> None:
    # a SIGTERM (a CI job cancelled, the mutation harness stopping a run) ends the run the way
    # Ctrl-C does: behave aborts, then after_all and the fixtures stop every server started
    signal.signal(signal.SIGTERM, _abort_like_ctrl_c)
    traceability.start(context)  # fails fast on an unknown @req tag or an uncovered requirement
    verdicts.install(context)  # what the server did, in product words, instead of tracebacks
    context.skip_reasons = collections.defaultdict(list)  # reason -> scenario names
    # cleanups run last-in first-out and outside output capture: this one prints near the end
    context.add_cleanup(_print_skip_reasons, context.skip_reasons)
    context.run_fixtures = {}  # fixtures that live for the run, set up by a scenario's tags
    use_fixture(server_pool, context)
    context.active_tags = SuiteTagMatcher(context.pool.settings)


def _abort_like_ctrl_c(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def after_all(context: Any) -> None:
    traceability.finish(context)  # reports/traceability.{html,md,json}; summary printed last


def _print_skip_reasons(skip_reasons: dict[str, list[str]]) -> None:
    if skip_reasons:
        print("\nScenarios skipped, and why:")
        for reason, names in sorted(skip_reasons.items()):
            print(f"  {len(names):3d} x {reason}")


def before_scenario(context: Any, scenario: Scenario) -> None:
    if context.active_tags.should_skip_with_tags(scenario.effective_tags):
        scenario.skip(reason=context.active_tags.skip_reason)
        return
    use_tagged_fixtures(context, scenario.effective_tags)
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
    if server is not None and getattr(context, "left_unanswered", False) and \
            context.pool.retire(server):
        attach_text(context, "server retired", "it left a request unanswered and may still "
                    "hold slots for it: later scenarios get a newly started server")
