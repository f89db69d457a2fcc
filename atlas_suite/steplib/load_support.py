"""What the load, overhead, cycles, scaling and resource steps share: the engine and the
resource monitor of the scenario's server, the published run, and the record of each check."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from atlas_suite.load_engine import LoadEngine
from atlas_suite.load_result import LoadResult
from atlas_suite.load_tables import render_table, summary_rows
from atlas_suite.plots import plot_load, publish, slug, write_json
from atlas_suite.reporting import attach_text
from atlas_suite.resources import ResourceMonitor
from atlas_suite.steplib.support import current_server, http

T = TypeVar("T")

# what each kind of completion sends: (ATLAS on, streamed)
KINDS = {"ATLAS": (True, False), "streamed ATLAS": (True, True), "plain": (False, False),
         "streamed plain": (False, True)}
DEFAULT_TIMEOUT_S = 300.0  # one request, at most (-D load_timeout=S)


@dataclass
class LoadRun:
    """The figures of the scenario's load, where Then steps check them and record the checks;
    ``outcome`` is the experiment's own typed result, when the load was one."""

    what: str
    figures: dict[str, Any]
    json_path: Path
    result: LoadResult | None = None
    monitor: ResourceMonitor | None = None
    outcome: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def kind(text: str) -> tuple[bool, bool]:
    """(ATLAS on, streamed) of a kind of completion named in a feature."""
    if text.strip() not in KINDS:
        raise AssertionError(f'unknown kind of completion "{text}": use one of '
                             f'{", ".join(repr(k) for k in KINDS)}')
    return KINDS[text.strip()]


def userdata_number(context: Any, name: str, default: float) -> float:
    value = context.config.userdata.get(name)
    return float(value) if value not in (None, "") else default


def engine(context: Any) -> LoadEngine:
    """A load engine with the scenario's headers (its API key) and request timeout."""
    return LoadEngine(headers=dict(http(context).headers),
                      timeout_s=userdata_number(context, "load_timeout", DEFAULT_TIMEOUT_S))


def monitor(context: Any, interval_s: float = 0.5) -> ResourceMonitor:
    """A resource monitor on the current server (its process, when the suite started it)."""
    server = current_server(context)
    pid = server.process.pid if server.process is not None else None
    return ResourceMonitor(pid=pid, base_url=server.base_url, interval_s=interval_s,
                           headers=dict(http(context).headers))


def load_run(context: Any) -> LoadRun:
    run = getattr(context, "load_run", None)
    assert run is not None, "no load was run in this scenario yet"
    return run


def load_result(context: Any) -> LoadResult:
    result = load_run(context).result
    assert result is not None, "this scenario's load has no request figures"
    return result


def outcome(context: Any, of_type: type[T]) -> T:
    """The typed result of the scenario's experiment."""
    value = load_run(context).outcome
    assert isinstance(value, of_type), f"this scenario ran no {of_type.__name__} experiment"
    return value


def publish_run(context: Any, what: str, figures: dict[str, Any],
                plot: Callable[[Path], Path], **kept: Any) -> LoadRun:
    """Write the figures (JSON) and the plot (PNG), attach both, keep the run for the Thens."""
    server = current_server(context)
    figures = {"scenario": context.scenario.name, "feature": context.feature.name,
               "server": server.config.label(), "target": context.pool.settings.target,
               "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "checks": [], "what": what,
               **figures}
    json_path, _ = publish(context, slug(context.scenario.name), figures, plot)
    run = LoadRun(what, figures, json_path, **kept)
    context.load_run = run
    return run


def record_check(context: Any, check: str, value: Any, bound: Any, passed: bool) -> None:
    """Record a check and its verdict in the scenario's JSON figures (the report shows them)."""
    run = getattr(context, "load_run", None)
    if run is not None:
        run.figures["checks"].append({"check": check, "value": value, "bound": bound,
                                      "passed": bool(passed)})
        write_json(run.json_path, run.figures)


def run_load(context: Any, what: str, drive: Callable[[LoadEngine], LoadResult],
             interval_s: float = 0.5) -> LoadRun:
    """Run ``drive`` with the server's resources sampled; publish figures, plot, summary."""
    with monitor(context, interval_s) as watched:
        result = drive(engine(context))
    run = publish_run(context, what, {**result.to_json(), "resources": watched.to_json()},
                      lambda path: plot_load(path, what, result, watched),
                      result=result, monitor=watched)
    text = render_table(summary_rows(result.summary()))
    resources = watched.summary()
    if resources["rss_mb"]["peak"] is not None:
        text += (f"\nserver RSS peak {resources['rss_mb']['peak']:.0f} MB, CPU mean "
                 f"{resources['cpu_percent']['mean'] or 0:.0f} %")
    attach_text(context, "load summary", f"{what}\n{text}")
    return run


def attach_table(context: Any, caption: str, rows: list[tuple[str, str]]) -> None:
    attach_text(context, caption, render_table(rows))
