"""The two behave hooks: check the tags before the run, write the reports after it."""

from __future__ import annotations

import datetime
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_suite.mutation.report import DEFAULT_REPORT, read_last_run
from atlas_suite.traceability.catalog import CATALOG_PATH, Catalog, load_catalog
from atlas_suite.traceability.outcomes import FAILED, NOT_COVERED
from atlas_suite.traceability.render import write_reports
from atlas_suite.traceability.report import Report, build_report
from atlas_suite.traceability.scenarios import (
    FEATURES_DIR,
    ScenarioRecord,
    check,
    merge,
    parse_features,
    records_from_run,
    relative_path,
)

CHECK_ENV = "ATLAS_TRACE_CHECK"  # strict (default) | warn
MUTATION_REPORT = DEFAULT_REPORT  # scripts/atlas-mutation.py writes it


class TraceabilityError(AssertionError):
    """The feature files and the catalog disagree; the message lists every problem."""


@dataclass
class TraceRun:
    """What one behave run needs: where things are, the static records, the report."""

    root: Path
    catalog_path: Path
    features_dir: Path
    out_dir: Path
    run: dict[str, Any]
    catalog: Catalog | None = None
    static: list[ScenarioRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    report: Report | None = None
    written: list[Path] = field(default_factory=list)
    mutation_path: Path = MUTATION_REPORT

    @classmethod
    def from_context(cls, context: Any) -> TraceRun:
        runner = getattr(context, "_runner", None)
        root = Path(getattr(runner, "base_dir", None) or os.getcwd()).resolve()
        userdata = context.config.userdata
        out_dir = Path(userdata.get("trace_dir") or "reports")
        catalog = Path(userdata.get("catalog") or root / CATALOG_PATH)
        mutation = Path(userdata.get("mutation_report") or root / MUTATION_REPORT)
        return cls(root=root, catalog_path=catalog, features_dir=root / FEATURES_DIR,
                   mutation_path=mutation,
                   out_dir=out_dir if out_dir.is_absolute() else Path.cwd() / out_dir,
                   run={"target": userdata.get("target") or "reference",
                        "profile": userdata.get("profile") or "atlas",
                        "started": _now(), "tags": _tags_text(context.config),
                        "command": " ".join(sys.argv[1:])})

    def static_check(self) -> list[str]:
        self.catalog = load_catalog(self.catalog_path)
        self.static = parse_features(self.features_dir, self.root)
        self.problems = check(self.catalog, self.static)
        return self.problems

    def finish(self, features: Iterable[Any]) -> None:
        if self.catalog is None:
            return
        self.run["finished"] = _now()
        ran = records_from_run(features, self.root, self.run.get("tags", ""))
        mutation_run, mutation = read_last_run(self.mutation_path)
        if mutation_run:
            self.run["mutation"] = mutation_run
        self.report = build_report(self.catalog, merge(self.static, ran), self.run,
                                   self.problems, mutation)
        self.written = write_reports(self.report, self.out_dir)

    def print_summary(self) -> None:
        if self.report is None:
            return
        html_path = next((p for p in self.written if p.suffix == ".html"), None)
        shown = relative_path(str(html_path), Path.cwd().resolve()) if html_path else "?"
        print(f"\nRequirements coverage ({len(self.report.rows)} in "
              f"{relative_path(str(self.catalog_path), self.root)}; details: {shown} and .md):")
        for line in self.report.summary_lines():
            print(line)
        rows = self.report.rows
        for label, ids in (
                ("failed", [r.requirement.id for r in rows if r.status == FAILED]),
                ("not covered", [r.requirement.id for r in rows if r.status == NOT_COVERED]),
                ("a fault survived in the last mutation run",
                 [r.requirement.id for r in rows if r.faults_all_killed is False])):
            if ids:
                print(f"  {label}: {', '.join(ids)}")
        if self.problems:
            print(f"  catalog check: {len(self.problems)} problem(s), listed at the start")


def _now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def _tags_text(config: Any) -> str:
    tags = getattr(config, "tags", None)
    if isinstance(tags, (list, tuple)):  # one expression per --tags option, all must hold
        parts = [str(t).strip() for t in tags if str(t).strip()]
        return " and ".join(f"({p})" for p in parts) if len(parts) > 1 else "".join(parts)
    text = str(tags) if tags else ""
    return "" if text in ("", "None", "()") else text


def start(context: Any) -> None:
    """before_all: check the feature files' requirement tags against the catalog."""
    trace = TraceRun.from_context(context)
    context.traceability = trace
    context.add_cleanup(trace.print_summary)  # cleanups run last: the summary ends the output
    problems = trace.static_check()
    if not problems:
        return
    message = (f"requirements traceability: {len(problems)} problem(s) between the feature "
               f"files and {relative_path(str(trace.catalog_path), trace.root)}:\n"
               + "\n".join(f"  - {p}" for p in problems))
    if os.environ.get(CHECK_ENV, "strict").lower() == "warn":
        print(f"WARNING ({CHECK_ENV}=warn): {message}", file=sys.stderr)
        return
    raise TraceabilityError(message + f"\n(set {CHECK_ENV}=warn to run anyway)")


def finish(context: Any) -> None:
    """after_all: write the traceability reports of this run."""
    trace = getattr(context, "traceability", None)
    runner = getattr(context, "_runner", None)
    if trace is not None:
        trace.finish(getattr(runner, "features", []))
