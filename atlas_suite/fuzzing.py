"""Fuzzing a server from the contract's OpenAPI document (schemathesis, driven by Hypothesis).

For every route the document describes, valid requests (``positive``) and requests that break
the document (``negative``) are generated and sent with the API key. Every answer is judged:

* no 5xx, whatever the input;
* the answer conforms to the document: a declared status, content type, required headers,
  and a body valid against the route's schema (errors in the envelope);
* the API key never appears in an answer (body or headers);
* no file appears, changes name or disappears outside the memory folder.

Bounded in count (examples per route and mode) and in time (each route's share of the run's
seconds; a route cut short says so). Completions are capped at ``max_tokens`` generated tokens,
so a run costs requests, not generation. Every failing case is kept as a curl command line.
"""

from __future__ import annotations

import collections
import copy
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from atlas_suite import routes
from atlas_suite.schemas import load_openapi

CHECK_NAMES = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
               "response_headers_conformance", "response_schema_conformance")
COMPLETION_PATHS = (routes.COMPLETIONS, routes.CHAT_COMPLETIONS)
KEY_PLACEHOLDER = "${ATLAS_API_KEY}"  # curl lines name the key, never print it
REQUEST_TIMEOUT_S = 120.0  # one answer; a server that holds a request longer is a finding


class _OutOfTime(Exception):
    """The route's share of the time budget is spent."""


@dataclass(frozen=True)
class FuzzTarget:
    """The server under test, as the suite reaches it."""

    base_url: str
    api_key: str | None = None
    memory_dir: Path | None = None
    watched_dir: Path | None = None  # a folder around the memory folder: nothing may appear there
    atlas: bool = True


@dataclass(frozen=True)
class FuzzBudget:
    """How much to try: ``examples`` per route and mode, ``seconds`` for the whole run."""

    examples: int = 10
    seconds: float = 300.0
    max_tokens: int = 4
    seed: int | None = 0  # None: a new random run each time; a number: the same cases again
    modes: tuple[str, ...] = ("positive", "negative")


@dataclass(frozen=True)
class Finding:
    """One failing case: which check, on which route, and how to send it again."""

    check: str
    operation: str
    mode: str
    message: str
    status: int | None
    curl: str

    def describe(self) -> str:
        status = f"HTTP {self.status}" if self.status is not None else "no answer"
        return (f"[{self.check}] {self.operation} ({self.mode} case, {status}): "
                f"{self.message.strip()[:600]}\n    {self.curl}")


@dataclass
class FuzzReport:
    """What one run tried and what it found."""

    requests: int = 0
    by_operation: collections.Counter[str] = field(default_factory=collections.Counter)
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    findings: list[Finding] = field(default_factory=list)
    cut_short: list[str] = field(default_factory=list)  # routes the time budget stopped
    skipped: list[str] = field(default_factory=list)  # routes/modes with nothing to generate
    unchecked: list[str] = field(default_factory=list)  # checks this target cannot have
    seconds: float = 0.0

    def problems(self) -> list[str]:
        return [finding.describe() for finding in self.findings]

    def summary(self) -> str:
        lines = [f"{self.requests} generated requests in {self.seconds:.0f} s, "
                 f"{len(self.findings)} failing",
                 "statuses: " + ", ".join(f"{s} x{n}" for s, n in sorted(self.statuses.items())),
                 "per route:"]
        lines += [f"  {name}: {n}" for name, n in sorted(self.by_operation.items())]
        for title, items in (("cut short by the time budget", self.cut_short),
                             ("nothing to generate", self.skipped),
                             ("not checked", self.unchecked)):
            if items:
                lines.append(f"{title}: {'; '.join(items)}")
        lines += ["failing cases (send again with ATLAS_API_KEY set):"] if self.findings else []
        lines += [f"  {problem}" for problem in self.problems()]
        return "\n".join(lines)


# -- files outside the memory folder ------------------------------------------------------------
def tree(root: Path, skip: Path | None) -> set[str]:
    """Every path under ``root`` (relative), except what lies in ``skip``."""
    found = set()
    for path in root.rglob("*"):
        if skip is not None and (path == skip or skip in path.parents):
            continue
        found.add(str(path.relative_to(root)))
    return found


class FileWatch:
    """What appears or vanishes outside the memory folder, checked after every request."""

    def __init__(self, target: FuzzTarget) -> None:
        self.root = target.watched_dir
        self.skip = target.memory_dir.resolve() if target.memory_dir else None
        self.before = tree(self.root, self.skip) if self.root else set()

    def changes(self) -> str | None:
        if self.root is None:
            return None
        now = tree(self.root, self.skip)
        created, removed = sorted(now - self.before), sorted(self.before - now)
        self.before = now  # report each change once, with the request that made it
        if not created and not removed:
            return None
        return f"outside the memory folder, created {created}, removed {removed}"


# -- one case -----------------------------------------------------------------------------------
def bound_generation(case: Any, max_tokens: int) -> None:
    """Cap a completion's generated tokens: a missing ``max_tokens``, or any number outside
    1 .. ``max_tokens`` (llama.cpp reads -1 as "until the context is full"), becomes
    ``max_tokens``; other types stay, they cannot ask for many tokens."""
    body = case.body
    if case.operation.path not in COMPLETION_PATHS or not isinstance(body, dict):
        return
    for name in ("max_tokens", "max_completion_tokens", "n_predict"):
        value = body.get(name)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if (name == "max_tokens" and value is None) or (number and not 1 <= value <= max_tokens):
            body[name] = max_tokens


def auth_headers(api_key: str | None) -> dict[str, str]:
    """The key in both headers the contract names, so a server that reads either sees it."""
    return {"Authorization": f"Bearer {api_key}", "X-Api-Key": api_key} if api_key else {}


def curl_line(case: Any, target: FuzzTarget) -> str:
    """The case as a curl command, the key replaced by ``${ATLAS_API_KEY}``."""
    headers = auth_headers(KEY_PLACEHOLDER if target.api_key else None)
    try:
        line = case.as_curl_command(headers=headers, base_url=target.base_url)
    except Exception as exc:  # noqa: BLE001 - a case that cannot be written is still reported
        return f"(no curl line: {exc}) {case.method} {case.path} body={case.body!r}"[:2000]
    return line.replace(target.api_key, KEY_PLACEHOLDER) if target.api_key else line


def leaked_key(response: requests.Response, api_key: str | None) -> str | None:
    if not api_key:
        return None
    if api_key in response.text:
        return "the API key appears in the answer's body"
    leaking = [name for name, value in response.headers.items() if api_key in value]
    return f"the API key appears in the headers {leaking}" if leaking else None


def _schema_failures(case: Any, response: requests.Response, checks: list[Any],
                     headers: dict[str, str]) -> Iterator[tuple[str, str]]:
    from schemathesis.core.failures import Failure, FailureGroup

    try:
        case.validate_response(response, checks=checks, headers=headers)
    except FailureGroup as group:
        for failure in group.exceptions:
            yield failure.title or type(failure).__name__, failure.message or str(failure)
    except Failure as failure:
        yield failure.title or type(failure).__name__, failure.message or str(failure)


class CaseRunner:
    """Sends generated cases and records what they found."""

    def __init__(self, target: FuzzTarget, budget: FuzzBudget, report: FuzzReport) -> None:
        from schemathesis import checks as st_checks

        self.target = target
        self.budget = budget
        self.report = report
        self.checks = [getattr(st_checks, name) for name in CHECK_NAMES]
        self.session = requests.Session()
        self.files = FileWatch(target)

    def run(self, case: Any, operation: str, mode: str, deadline: float) -> None:
        if time.monotonic() > deadline:
            raise _OutOfTime
        bound_generation(case, self.budget.max_tokens)
        headers = auth_headers(self.target.api_key)
        self.report.requests += 1
        self.report.by_operation[f"{operation} ({mode})"] += 1
        try:
            response = case.call(base_url=self.target.base_url, session=self.session,
                                 headers=headers, timeout=REQUEST_TIMEOUT_S)
        except requests.RequestException as exc:
            self._found("no answer", operation, mode, f"{type(exc).__name__}: {exc}", None, case)
            return
        self.report.statuses[response.status_code] += 1
        problems = list(_schema_failures(case, response, self.checks, headers))
        problems += [(check, problem) for check, problem in (
            ("API key in the answer", leaked_key(response, self.target.api_key)),
            ("file outside the memory folder", self.files.changes())) if problem]
        if problems:
            self._found(", ".join(dict.fromkeys(check for check, _ in problems)), operation,
                        mode, "\n".join(message for _, message in problems),
                        response.status_code, case)

    def _found(self, check: str, operation: str, mode: str, message: str, status: int | None,
               case: Any) -> None:
        if self.target.api_key:
            message = message.replace(self.target.api_key, KEY_PLACEHOLDER)
        self.report.findings.append(Finding(check, operation, mode, message, status,
                                            curl_line(case, self.target)))


# -- the run ------------------------------------------------------------------------------------
def document_for(target: FuzzTarget) -> dict[str, Any]:
    """The OpenAPI document as this target is fuzzed: without /v1/atlas/* on a plain server."""
    document = copy.deepcopy(load_openapi())
    if not target.atlas:
        document["paths"] = {path: item for path, item in document["paths"].items()
                             if not path.startswith(routes.ATLAS_PREFIX)}
    document["servers"] = [{"url": target.base_url}]
    return document


def _drive(strategy: Any, each: Callable[[Any], None], budget: FuzzBudget) -> None:
    """Run ``each`` on up to ``budget.examples`` cases of ``strategy``: no shrinking, no
    example database, the same cases again for the same seed."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hypothesis_seed

    @settings(max_examples=budget.examples, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
              derandomize=False, verbosity=Verbosity.quiet)  # the report speaks, not Hypothesis
    @given(strategy)
    def explore(case: Any) -> None:
        each(case)

    if budget.seed is not None:
        explore = hypothesis_seed(budget.seed)(explore)
    explore()


def _operations(schema: Any) -> list[Any]:
    operations = []
    for result in schema.get_all_operations():
        operations.append(result.ok())  # the document is validated by the unit tests
    return operations


def fuzz(target: FuzzTarget, budget: FuzzBudget) -> FuzzReport:
    """Fuzz every route of the document on ``target`` within ``budget``."""
    import schemathesis

    started = time.monotonic()
    report = FuzzReport()
    if target.watched_dir is None:
        report.unchecked.append("files outside the memory folder (the suite does not see "
                                "the server's folders)")
    schema = schemathesis.openapi.from_dict(document_for(target))
    schema.config.output.sanitization.enabled = False  # curl lines carry the real body
    runner = CaseRunner(target, budget, report)
    pairs = [(operation, mode) for operation in _operations(schema) for mode in budget.modes]
    saved = ConfigKeeper(target)
    try:
        for done, (operation, mode) in enumerate(pairs):
            # what is left, shared by what is left: quick routes leave time to slow ones
            left = budget.seconds - (time.monotonic() - started)
            _fuzz_one(runner, operation, mode, time.monotonic() + left / (len(pairs) - done))
    finally:
        saved.restore()
        report.seconds = time.monotonic() - started
    return report


def _fuzz_one(runner: CaseRunner, operation: Any, mode: str, deadline: float) -> None:
    from schemathesis import GenerationMode

    name = f"{operation.method.upper()} {operation.path}"
    report = runner.report
    try:
        strategy = operation.as_strategy(generation_mode=GenerationMode(mode))
        _drive(strategy, lambda case: runner.run(case, name, mode, deadline), runner.budget)
    except _OutOfTime:
        report.cut_short.append(f"{name} ({mode})")
    except Exception as exc:
        # a route with no body and no parameters has nothing to break: negative is empty
        if report.by_operation[f"{name} ({mode})"]:
            raise
        report.skipped.append(f"{name} ({mode}): {type(exc).__name__}")


class ConfigKeeper:
    """POST /v1/atlas/config changes the server's defaults: put them back after the run, so
    the scenarios that follow on the same server see the configuration they started with."""

    FIELDS = ("window_size", "blend_ratio", "learning_rate", "momentum", "weight_decay",
              "newton_schulz_steps")

    def __init__(self, target: FuzzTarget) -> None:
        self.target = target
        self.config: dict[str, Any] | None = None
        if target.atlas:
            reply = requests.get(target.base_url + routes.ATLAS_CONFIG,
                                 headers=auth_headers(target.api_key), timeout=30)
            if reply.status_code == 200:
                self.config = {k: v for k, v in reply.json().items() if k in self.FIELDS}

    def restore(self) -> None:
        if self.config is not None:
            requests.post(self.target.base_url + routes.ATLAS_CONFIG, json=self.config,
                          headers=auth_headers(self.target.api_key), timeout=30)


# -- the suite's settings -----------------------------------------------------------------------
DEFAULT_EXAMPLES = 15  # per route and mode: the default run's smaller budget (seconds)
DEFAULT_SECONDS = 120.0


def budget_from_userdata(userdata: Any) -> FuzzBudget:
    """``-D fuzz_examples=N -D fuzz_seconds=S -D fuzz_seed=N|random``; the defaults fit the
    default run, ``make fuzz`` asks for more."""
    def value(name: str, default: str) -> str:
        return str(userdata.get(name) or default).strip()

    seed = value("fuzz_seed", "0")
    examples = int(value("fuzz_examples", str(DEFAULT_EXAMPLES)))
    seconds = float(value("fuzz_seconds", str(DEFAULT_SECONDS)))
    if examples < 1 or seconds <= 0:
        raise ValueError(f"fuzz_examples must be >= 1 and fuzz_seconds > 0, got {examples}, "
                         f"{seconds}")
    return FuzzBudget(examples=examples, seconds=seconds,
                      seed=None if seed.lower() == "random" else int(seed))


def untried_routes(report: FuzzReport, target: FuzzTarget) -> list[str]:
    """The document's routes that no generated request reached (a run that fuzzed nothing
    must not pass)."""
    tried = {name.rsplit(" (", 1)[0] for name, n in report.by_operation.items() if n}
    routes = [f"{method.upper()} {path}"
              for path, item in document_for(target)["paths"].items()
              for method in item if method in ("get", "post", "put", "delete", "patch")]
    return sorted(route for route in routes if route not in tried)
