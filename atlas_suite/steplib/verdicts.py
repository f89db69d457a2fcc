"""One place where a step's exception becomes a verdict in product words, or a skip.

:func:`install` (called from ``before_all``) wraps every registered step function once. When a
step raises:

* what the server did (:mod:`atlas_suite.verdicts`), or an exception of the HTTP stack that
  :func:`~atlas_suite.verdicts.verdict_for` recognises (connection refused or reset, a stream
  cut, a read timeout, a body that is not JSON), becomes a failed step whose message is that
  sentence: no traceback. When the scenario's server process has exited meanwhile, the verdict
  says so (:class:`~atlas_suite.verdicts.ServerDied`) with its last words;
* a server that refused a flag at start is a skip, "not claimed by profile=...", when the
  target's profile claims none of the scenario's requirements (their catalog scope); otherwise
  it is a failure: the profile claims the flag's rule, and the server does not meet it;
* :class:`~atlas_suite.targets.Unsupported` (the target cannot do what the scenario needs) is a
  skip with its reason;
* anything else (a bug of the suite itself) is left to behave: an error with its traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from atlas_suite import traceability
from atlas_suite.reporting import attach_text
from atlas_suite.targets import Unsupported
from atlas_suite.verdicts import (
    ConnectionProblem,
    NoAnswerInTime,
    ServerDid,
    StartRefusedFlag,
    died,
    verdict_for,
)

_MARK = "_atlas_verdicts"


def claims(profile: str, req_ids: Iterable[str], catalog: traceability.Catalog | None) -> bool:
    """Whether a target of ``profile`` claims at least one of these requirements."""
    if profile == "atlas":
        return True
    known = [catalog.requirements[i] for i in req_ids
             if catalog is not None and i in catalog.requirements]
    if not known:
        return True  # nothing to go by: a claim is assumed, so a refusal fails
    return any(requirement.scope == profile for requirement in known)


def _req_ids(context: Any) -> list[str]:
    scenario = getattr(context, "scenario", None)
    tags = getattr(scenario, "effective_tags", ()) or ()
    prefix = traceability.TAG_PREFIX
    return [str(t)[len(prefix):] for t in tags if str(t).startswith(prefix)]


def _profile(context: Any) -> str:
    pool = getattr(context, "pool", None)
    return pool.settings.profile if pool is not None else "atlas"


def _catalog(context: Any) -> traceability.Catalog | None:
    trace = getattr(context, "traceability", None)
    return getattr(trace, "catalog", None)


def _server_gone(context: Any, verdict: ServerDid) -> ServerDid:
    """``verdict``, or the process's exit when the scenario's server died meanwhile."""
    server = getattr(context, "server", None)
    process = getattr(server, "process", None)
    if process is None or not isinstance(verdict, ConnectionProblem) or process.alive():
        return verdict
    return died(verdict, process.exit_code, process.log_tail(40))


def outcome(context: Any, exc: BaseException) -> tuple[str, str | BaseException] | None:
    """("skip", reason) or ("fail", the verdict) for ``exc``; None: leave it to behave."""
    if isinstance(exc, Unsupported):
        return "skip", str(exc)
    verdict = verdict_for(exc)
    if verdict is None:
        return None
    if isinstance(verdict, StartRefusedFlag):
        profile = _profile(context)
        if not claims(profile, _req_ids(context), _catalog(context)):
            return "skip", traceability.not_claimed_reason(profile, verdict.verdict)
        return "fail", verdict
    return "fail", _server_gone(context, verdict)


def translating(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` (a step function) with its exceptions turned into verdicts and skips."""
    if getattr(func, _MARK, False):
        return func

    @functools.wraps(func)
    def step(context: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(context, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - sorted below; the rest is re-raised as is
            decided = outcome(context, exc)
            if decided is None:
                raise
            kind, what = decided
            if kind == "skip":
                context.scenario.skip(reason=str(what))
                return None
            assert isinstance(what, ServerDid)
            if isinstance(what, NoAnswerInTime):
                context.left_unanswered = True  # after_scenario retires the server
            if what.details:
                attach_text(context, "what the server did", what.details)
            raise ServerDid(what.verdict) from None

    setattr(step, _MARK, True)
    return step


def install(context: Any) -> int:
    """Wrap every step function of the run's registry (once); answers how many were wrapped."""
    registry = getattr(getattr(context, "_runner", None), "step_registry", None)
    if registry is None:
        from behave.step_registry import registry  # the module-level one behave uses
    count = 0
    for matchers in registry.steps.values():
        for matcher in matchers:
            if getattr(matcher.func, _MARK, False):
                continue
            _ = matcher.location  # behave computes it from the function: keep the step's own
            matcher.func = translating(matcher.func)
            count += 1
    return count
