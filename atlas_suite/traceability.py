"""Requirements traceability: which requirement each scenario checks, and how it went.

The catalog (``requirements/catalog.toml``) lists every requirement with an id; scenarios name
the ones they check with ``@req.<ID>`` tags (on a Feature, a Scenario, an Outline or one
Examples block). Every behave run then:

* ``start(context)`` (``before_all``): checks every feature file's tags against the catalog and
  fails the run at once when a tag names no entry, or when a mandatory requirement has no
  scenario. ``ATLAS_TRACE_CHECK=warn`` turns that failure into a warning (for work in
  progress; the default is strict).
* ``finish(context)`` (``after_all``): writes ``traceability.html``, ``traceability.md`` and
  ``traceability.json`` into ``-D trace_dir=`` (default ``reports``); each requirement with its
  scenarios and their result in this run: passed, failed, skipped with the reason, or not
  covered. The per-area summary is printed at the very end of the run.

Everything but the two hooks works on plain data, so the matrix (``atlas_suite.matrix``) and
the unit tests use the same classification and rendering.
"""

from __future__ import annotations

import collections
import datetime
import html
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_suite.mutation.report import DEFAULT_REPORT, read_last_run

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CATALOG_PATH = Path("requirements/catalog.toml")
FEATURES_DIR = Path("features")
TAG_PREFIX = "req."
ID_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$")
CHECK_ENV = "ATLAS_TRACE_CHECK"  # strict (default) | warn
MUTATION_REPORT = DEFAULT_REPORT  # scripts/atlas-mutation.py writes it

PASSED, FAILED, SKIPPED, NOT_COVERED = "passed", "failed", "skipped", "not covered"
STATUSES = (PASSED, FAILED, SKIPPED, NOT_COVERED)
SCOPES = ("atlas", "openai")
NEEDS = {
    "gpu": "an NVIDIA GPU",
    "docker": "a container engine (Docker or podman)",
    "k8s": "a Kubernetes cluster",
    "soak": "a 24-hour soak run (@soak, outside the default run)",
}
NOT_IN_RUN = "not part of this run (its feature file was not selected)"
# A skip because the target's profile does not claim what the scenario checks: the matrix shows
# it as NOT_CLAIMED, apart from a skip for the environment (no GPU) and from a failure.
NOT_CLAIMED = "not claimed"
NOT_CLAIMED_PREFIX = "not claimed by profile="


def not_claimed_reason(profile: str, what: str) -> str:
    """The skip reason of a scenario whose subject the target's profile does not claim."""
    return f"{NOT_CLAIMED_PREFIX}{profile}: {what}"


def is_not_claimed(reason: str | None) -> bool:
    """Whether a skip reason says "the profile does not claim it" (see not_claimed_reason)."""
    return reason is not None and NOT_CLAIMED_PREFIX in reason


class CatalogError(ValueError):
    """The catalog file is not what this module expects."""


class TraceabilityError(AssertionError):
    """The feature files and the catalog disagree; the message lists every problem."""


# ---- the catalog -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Requirement:
    id: str
    area: str
    text: str
    source: str
    mandatory: bool = True
    scope: str = "atlas"
    needs: tuple[str, ...] = ()
    note: str = ""

    @property
    def tag(self) -> str:
        return f"@{TAG_PREFIX}{self.id}"

    def needs_text(self) -> str:
        return ", ".join(NEEDS[need] for need in self.needs)


@dataclass(frozen=True)
class Catalog:
    areas: dict[str, str]  # id -> title, in the catalog's order
    requirements: dict[str, Requirement]  # id -> requirement, in the catalog's order

    def in_area(self, area: str) -> list[Requirement]:
        return [r for r in self.requirements.values() if r.area == area]


def load_catalog(path: Path | str = CATALOG_PATH) -> Catalog:
    """Read and validate the catalog; CatalogError names every problem found."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{path}: {exc}") from exc
    return catalog_from_data(data, origin=str(path))


def catalog_from_data(data: Mapping[str, Any], origin: str = "catalog") -> Catalog:
    areas = data.get("areas")
    entries = data.get("requirement")
    problems: list[str] = []
    if not isinstance(areas, dict) or not areas:
        raise CatalogError(f"{origin}: an [areas] table (id = title) is required")
    if not isinstance(entries, list) or not entries:
        raise CatalogError(f"{origin}: at least one [[requirement]] is required")
    requirements: dict[str, Requirement] = {}
    known = {"id", "area", "text", "source", "mandatory", "scope", "needs", "note"}
    for number, entry in enumerate(entries, 1):
        where = f"{origin}: requirement #{number} ({entry.get('id', 'no id')})"
        unknown = sorted(set(entry) - known)
        if unknown:
            problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
        missing = [key for key in ("id", "area", "text", "source") if not entry.get(key)]
        if missing:
            problems.append(f"{where}: missing {', '.join(missing)}")
            continue
        req_id = str(entry["id"])
        needs = entry.get("needs", [])
        needs = [needs] if isinstance(needs, str) else list(needs)
        if not ID_PATTERN.match(req_id):
            problems.append(f"{where}: the id must be upper case words joined by '-'")
        if req_id in requirements:
            problems.append(f"{where}: the id {req_id} is used twice")
        if entry["area"] not in areas:
            problems.append(f"{where}: area {entry['area']!r} is not in [areas]")
        if entry.get("scope", "atlas") not in SCOPES:
            problems.append(f"{where}: scope must be one of {', '.join(SCOPES)}")
        if not isinstance(entry.get("mandatory", True), bool):
            problems.append(f"{where}: mandatory must be true or false")
        for need in needs:
            if need not in NEEDS:
                problems.append(f"{where}: needs {need!r} is not one of {', '.join(NEEDS)}")
        requirements[req_id] = Requirement(
            id=req_id, area=str(entry["area"]), text=str(entry["text"]).strip(),
            source=str(entry["source"]), mandatory=bool(entry.get("mandatory", True)),
            scope=str(entry.get("scope", "atlas")), needs=tuple(needs),
            note=str(entry.get("note", "")).strip(),
        )
    if problems:
        raise CatalogError("\n".join(problems))
    return Catalog(areas={str(k): str(v) for k, v in areas.items()}, requirements=requirements)


# ---- scenarios -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScenarioRecord:
    """One scenario (or one Examples row of an outline) and, after a run, its result."""

    file: str
    line: int
    name: str
    group_line: int  # the outline's line for an Examples row, else the scenario's own line
    group_name: str
    tags: frozenset[str]
    status: str | None = None  # passed | failed | skipped; None: not in this run
    reason: str | None = None  # why it was skipped, or how it failed

    @property
    def key(self) -> tuple[str, int]:
        return (self.file, self.line)

    @property
    def group_key(self) -> tuple[str, int]:
        return (self.file, self.group_line)

    @property
    def req_ids(self) -> set[str]:
        return requirement_tags(self.tags)[0]

    @property
    def atlas(self) -> bool:
        return "atlas" in self.tags


def requirement_tags(tags: Iterable[str]) -> tuple[set[str], set[str]]:
    """(requirement ids named by ``@req.<ID>`` tags, tags that look like one but are not)."""
    ids, malformed = set(), set()
    for tag in tags:
        tag = tag.lstrip("@")
        if tag.startswith(TAG_PREFIX):
            ids.add(tag[len(TAG_PREFIX):])
        elif re.match(r"^req(?:s|uire\w*)?[^a-z0-9]", tag, re.IGNORECASE):
            malformed.add(tag)
    return ids, malformed


def _walk(feature: Any) -> Iterator[tuple[Any, Any]]:
    """(scenario, its group: the outline or the scenario itself) for every scenario to run."""
    from behave.model import Rule, ScenarioOutline

    def items(container: Any) -> Iterator[Any]:
        for item in getattr(container, "run_items", None) or container.scenarios:
            if isinstance(item, Rule):
                yield from items(item)
            else:
                yield item

    for item in items(feature):
        if isinstance(item, ScenarioOutline):
            for scenario in item.scenarios:
                yield scenario, item
        else:
            yield item, item


def _relative(filename: str, root: Path | None) -> str:
    path = Path(filename)
    if root is not None and path.is_absolute():
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def parse_features(features_dir: Path | str = FEATURES_DIR,
                   root: Path | None = None) -> list[ScenarioRecord]:
    """Every scenario of every feature file under ``features_dir`` (no results)."""
    from behave.parser import parse_file

    records = []
    for path in sorted(Path(features_dir).rglob("*.feature")):
        feature = parse_file(str(path))
        if feature is None:
            continue
        for scenario, group in _walk(feature):
            records.append(_record(scenario, group, root))
    return records


def _record(scenario: Any, group: Any, root: Path | None, status: str | None = None,
            reason: str | None = None) -> ScenarioRecord:
    return ScenarioRecord(
        file=_relative(scenario.filename, root), line=int(scenario.line), name=scenario.name,
        group_line=int(group.line), group_name=group.name,
        tags=frozenset(str(t) for t in scenario.effective_tags), status=status, reason=reason,
    )


_FAILED = {"failed", "error", "hook_error", "cleanup_error", "undefined", "pending",
           "pending_warn", "untested_pending", "untested_undefined", "xpassed"}
_PASSED = {"passed", "xfailed"}


def scenario_result(scenario: Any, tags_text: str = "") -> tuple[str | None, str | None]:
    """(passed | failed | skipped | None, reason) of a scenario of behave's model after a run."""
    name = scenario.status.name
    if name in _PASSED:
        return PASSED, None
    if name in _FAILED:
        return FAILED, _failure_text(scenario)
    if name == "skipped":
        if scenario.skip_reason:
            return SKIPPED, str(scenario.skip_reason)
        if tags_text:
            return SKIPPED, f"not selected by this run's tags ({tags_text})"
        return SKIPPED, "not selected in this run"
    if name == "untested":
        return SKIPPED, "not run: the run stopped before it"
    return None, None


def _failure_text(scenario: Any) -> str:
    for step in getattr(scenario, "all_steps", []):
        if step.status.name in _FAILED:
            message = (step.error_message or "").strip().splitlines()
            first = message[0] if message else step.status.name
            return f"{step.keyword} {step.name}: {first}"[:300]
    message = (getattr(scenario, "error_message", None) or "").strip().splitlines()
    return (message[0] if message else f"scenario {scenario.status.name}")[:300]


def records_from_run(features: Iterable[Any], root: Path | None = None,
                     tags_text: str = "") -> list[ScenarioRecord]:
    """Every scenario of behave's model after a run, with its result."""
    records = []
    for feature in features:
        for scenario, group in _walk(feature):
            status, reason = scenario_result(scenario, tags_text)
            records.append(_record(scenario, group, root, status, reason))
    return records


# ---- the check -------------------------------------------------------------------------------

def check(catalog: Catalog, records: Sequence[ScenarioRecord]) -> list[str]:
    """Problems that fail a run: a tag naming no entry, a mandatory requirement without scenario."""
    problems = []
    covered: set[str] = set()
    unknown: dict[str, list[str]] = collections.defaultdict(list)
    malformed: dict[str, list[str]] = collections.defaultdict(list)
    for record in records:
        ids, bad = requirement_tags(record.tags)
        where = f"{record.file}:{record.group_line}"
        for req_id in ids:
            if req_id in catalog.requirements:
                covered.add(req_id)
            elif where not in unknown[req_id]:
                unknown[req_id].append(where)
        for tag in bad:
            if where not in malformed[tag]:
                malformed[tag].append(where)
    for req_id, places in sorted(unknown.items()):
        problems.append(f"the tag @{TAG_PREFIX}{req_id} names no requirement of the catalog "
                        f"({', '.join(places)})")
    for tag, places in sorted(malformed.items()):
        problems.append(f"the tag @{tag} looks like a requirement tag but is not "
                        f"@{TAG_PREFIX}<ID> ({', '.join(places)})")
    for requirement in catalog.requirements.values():
        if requirement.mandatory and requirement.id not in covered:
            problems.append(f"the mandatory requirement {requirement.id} has no scenario "
                            f"(tag one with {requirement.tag}): {_short(requirement.text, 90)}")
    return problems


def scope_problems(catalog: Catalog, records: Sequence[ScenarioRecord]) -> list[str]:
    """Scope consistency: an "atlas" requirement is checked only by @atlas scenarios (so plain
    servers skip exactly the ATLAS rows); an "openai" one by at least one scenario without."""
    by_req: dict[str, list[ScenarioRecord]] = collections.defaultdict(list)
    for record in records:
        for req_id in record.req_ids:
            by_req[req_id].append(record)
    problems = []
    for req_id, found in sorted(by_req.items()):
        requirement = catalog.requirements.get(req_id)
        if requirement is None or not found:
            continue
        if requirement.scope == "atlas":
            plain = sorted({f"{r.file}:{r.group_line}" for r in found if not r.atlas})
            if plain:
                problems.append(f"{req_id} is an ATLAS requirement but these scenarios are not "
                                f"@atlas: {', '.join(plain)}")
        elif all(r.atlas for r in found):
            problems.append(f"{req_id} applies to any OpenAI server but all its scenarios are "
                            "@atlas: a plain server would skip it")
    return problems


# ---- the report ------------------------------------------------------------------------------

@dataclass
class Check:
    """The scenarios of one Scenario (or one Outline's rows) that check a requirement."""

    file: str
    line: int
    name: str
    status: str
    counts: dict[str, int]
    reasons: list[str]

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"

    def describe(self) -> str:
        total = sum(self.counts.values())
        parts = [self.status]
        if total > 1:
            parts = [", ".join(f"{n} {s}" for s, n in self.counts.items() if n)]
        if self.reasons:
            parts.append("; ".join(self.reasons))
        return ": ".join(parts)


@dataclass
class Row:
    requirement: Requirement
    status: str
    checks: list[Check]
    reason: str = ""
    faults: str = ""  # how its deliberate faults fared in the last mutation run
    faults_all_killed: bool | None = None  # None: no fault of it ran


def mutation_cell(row: Row) -> str:
    """The faults column: scenarios that no fault can fail cover a requirement in name only."""
    if row.faults_all_killed is None:
        return row.faults or "not in the last mutation run"
    return row.faults if row.faults_all_killed else f"{row.faults}: a gap in the suite"


@dataclass
class Report:
    catalog: Catalog
    rows: list[Row]
    run: dict[str, Any] = field(default_factory=dict)
    scenarios: list[ScenarioRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, collections.Counter[str]]:
        counts: dict[str, collections.Counter[str]] = {
            area: collections.Counter() for area in self.catalog.areas}
        for row in self.rows:
            counts[row.requirement.area][row.status] += 1
        return counts

    def totals(self) -> collections.Counter[str]:
        return collections.Counter(row.status for row in self.rows)

    def summary_lines(self) -> list[str]:
        width = max(len(area) for area in self.catalog.areas)
        lines = []
        for area, counts in self.summary().items():
            lines.append(f"  {area:<{width}}  {_counts_text(counts)}")
        lines.append(f"  {'all':<{width}}  {_counts_text(self.totals())}")
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "problems": self.problems,
            "areas": self.catalog.areas,
            "summary": {area: dict(c) for area, c in self.summary().items()},
            "requirements": [
                {"id": row.requirement.id, "area": row.requirement.area,
                 "text": row.requirement.text, "source": row.requirement.source,
                 "mandatory": row.requirement.mandatory, "scope": row.requirement.scope,
                 "needs": list(row.requirement.needs), "status": row.status,
                 "reason": row.reason, "faults": row.faults,
                 "faults_all_killed": row.faults_all_killed,
                 "checks": [{"file": c.file, "line": c.line, "name": c.name,
                             "status": c.status, "counts": c.counts, "reasons": c.reasons}
                            for c in row.checks]}
                for row in self.rows],
            "scenarios": [
                {"file": s.file, "line": s.line, "name": s.name, "group_line": s.group_line,
                 "group_name": s.group_name, "tags": sorted(s.tags),
                 "status": s.status or SKIPPED, "reason": s.reason or ""}
                for s in self.scenarios],
        }


def _counts_text(counts: Mapping[str, int]) -> str:
    total = sum(counts.values())
    return f"{total:3d} requirements: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def merge(static: Sequence[ScenarioRecord],
          ran: Sequence[ScenarioRecord] | None) -> list[ScenarioRecord]:
    """Every scenario of the feature files, with its result where it ran in this run."""
    if ran is None:
        return [_with(r, SKIPPED, "no run: static report") for r in static]
    results = {r.key: r for r in ran}
    merged = []
    for record in static:
        found = results.pop(record.key, None)
        merged.append(found if found is not None and found.status is not None
                      else _with(record, SKIPPED, NOT_IN_RUN))
    merged.extend(r if r.status else _with(r, SKIPPED, NOT_IN_RUN) for r in results.values())
    return merged


def _with(record: ScenarioRecord, status: str, reason: str) -> ScenarioRecord:
    return ScenarioRecord(record.file, record.line, record.name, record.group_line,
                          record.group_name, record.tags, status, reason)


def _aggregate(statuses: Iterable[str]) -> str:
    found = set(statuses)
    if FAILED in found:
        return FAILED
    if PASSED in found:
        return PASSED
    return SKIPPED if found else NOT_COVERED


def build_report(catalog: Catalog, records: Sequence[ScenarioRecord],
                 run: Mapping[str, Any] | None = None,
                 problems: Sequence[str] = (),
                 mutation: Mapping[str, Any] | None = None) -> Report:
    """Classify each requirement from the results of its scenarios (see ``merge``).

    ``mutation`` maps requirement ids to how their faults fared in the last mutation run
    (``atlas_suite.mutation.report.RequirementFaults``)."""
    groups: dict[str, dict[tuple[str, int], list[ScenarioRecord]]] = \
        collections.defaultdict(lambda: collections.defaultdict(list))
    for record in records:
        for req_id in record.req_ids:
            groups[req_id][record.group_key].append(record)
    rows = []
    for requirement in catalog.requirements.values():
        checks = []
        for (file, line), members in groups.get(requirement.id, {}).items():
            counts = collections.Counter(m.status or SKIPPED for m in members)
            reasons = sorted({m.reason for m in members
                              if m.reason and (m.status or SKIPPED) != PASSED})
            checks.append(Check(file=file, line=line, name=members[0].group_name,
                                status=_aggregate(counts),
                                counts={s: counts[s] for s in (PASSED, FAILED, SKIPPED)
                                        if counts[s]},
                                reasons=reasons))
        status = _aggregate(c.status for c in checks)
        if status == NOT_COVERED:
            reason = "no scenario names it" + (f"; {requirement.note}" if requirement.note
                                               else "")
        elif status == SKIPPED:
            reasons = sorted({r for c in checks for r in c.reasons})
            reason = "; ".join(reasons)
            if requirement.needs:
                reason = f"needs {requirement.needs_text()}: {reason}"
        else:
            reason = ""
        row = Row(requirement, status, checks, reason)
        faults = (mutation or {}).get(requirement.id)
        if faults is not None:
            row.faults, row.faults_all_killed = faults.describe(), faults.all_killed
        rows.append(row)
    return Report(catalog=catalog, rows=rows, run=dict(run or {}), scenarios=list(records),
                  problems=list(problems))


# ---- rendering -------------------------------------------------------------------------------

MARK = {PASSED: "✅ passed", FAILED: "❌ failed", SKIPPED: "⏭️ skipped",
        NOT_COVERED: "⚠️ not covered"}


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _run_title(run: Mapping[str, Any]) -> str:
    parts = [f"target `{run.get('target', '?')}`", f"profile `{run.get('profile', '?')}`"]
    if run.get("finished"):
        parts.append(str(run["finished"]))
    return ", ".join(parts)


def render_markdown(report: Report) -> str:
    out = ["# Requirements traceability", "",
           f"{_run_title(report.run)}. Each requirement of `requirements/catalog.toml` with the "
           "scenarios that check it and their result in this run.", ""]
    if report.problems:
        out += ["**Catalog check problems:**", ""] + [f"- {_md(p)}" for p in report.problems]
        out.append("")
    out += ["| area | requirements | passed | failed | skipped | not covered |",
            "|---|---:|---:|---:|---:|---:|"]
    for area, counts in report.summary().items():
        out.append(f"| {_md(report.catalog.areas[area])} | {sum(counts.values())} | "
                   + " | ".join(str(counts.get(s, 0)) for s in STATUSES) + " |")
    totals = report.totals()
    out.append(f"| **all** | **{sum(totals.values())}** | "
               + " | ".join(f"**{totals.get(s, 0)}**" for s in STATUSES) + " |")
    for area, title in report.catalog.areas.items():
        rows = [row for row in report.rows if row.requirement.area == area]
        if not rows:
            continue
        out += ["", f"## {_md(title)}", "",
                "| id | result | requirement | scenarios | faults (last mutation run) |",
                "|---|---|---|---|---|"]
        for row in rows:
            req = row.requirement
            flags = [] if req.mandatory else ["optional"]
            if req.scope == "atlas":
                flags.append("ATLAS")
            if req.needs:
                flags.append("needs " + "+".join(req.needs))
            text = _md(req.text) + (f" *({', '.join(flags)}; {_md(req.source)})*" if flags
                                    else f" *({_md(req.source)})*")
            result = MARK[row.status] + (f": {_md(row.reason)}" if row.reason else "")
            checks = "<br>".join(f"`{c.location}` {_md(c.name)}: {_md(c.describe())}"
                                 for c in row.checks) or "none"
            out.append(f"| {req.id} | {result} | {text} | {checks} | "
                       f"{_md(mutation_cell(row))} |")
    return "\n".join(out) + "\n"


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0;width:100%}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}
.passed{background:#e3f6e3}.failed{background:#fbe0e0}.skipped{background:#fff6d6}
.not-covered{background:#f0e0f8}
.tag{font-size:11px;border:1px solid #999;border-radius:3px;padding:0 3px;margin-left:4px}
.src{color:#666;font-size:12px}
ul{margin:0;padding-left:1.2em}
code{font-size:12px}
"""


def _css_class(status: str) -> str:
    return status.replace(" ", "-")


def _mutation_class(row: Row) -> str:
    return {True: PASSED, False: FAILED}.get(row.faults_all_killed, "")


def render_html(report: Report) -> str:
    e = html.escape
    run = report.run
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
             "<title>Requirements traceability</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>Requirements traceability</h1>",
             f"<p>Target <b>{e(str(run.get('target', '?')))}</b>, profile "
             f"<b>{e(str(run.get('profile', '?')))}</b>"
             + (f", {e(str(run['finished']))}" if run.get("finished") else "")
             + ". Each requirement of <code>requirements/catalog.toml</code> with the scenarios "
             "that check it and their result in this run.</p>"]
    if report.problems:
        parts.append("<p><b>Catalog check problems:</b></p><ul>"
                     + "".join(f"<li>{e(p)}</li>" for p in report.problems) + "</ul>")
    parts.append("<table><tr><th>area</th><th>requirements</th>"
                 + "".join(f"<th>{s}</th>" for s in STATUSES) + "</tr>")
    for area, counts in report.summary().items():
        parts.append(f"<tr><td><a href='#area-{e(area)}'>{e(report.catalog.areas[area])}</a>"
                     f"</td><td>{sum(counts.values())}</td>"
                     + "".join(f"<td>{counts.get(s, 0)}</td>" for s in STATUSES) + "</tr>")
    totals = report.totals()
    parts.append(f"<tr><th>all</th><th>{sum(totals.values())}</th>"
                 + "".join(f"<th>{totals.get(s, 0)}</th>" for s in STATUSES) + "</tr></table>")
    for area, title in report.catalog.areas.items():
        rows = [row for row in report.rows if row.requirement.area == area]
        if not rows:
            continue
        parts.append(f"<h2 id='area-{e(area)}'>{e(title)}</h2><table><tr><th>id</th>"
                     "<th>requirement</th><th>result</th><th>scenarios</th>"
                     "<th>faults (last mutation run)</th></tr>")
        for row in rows:
            req = row.requirement
            tags = ("" if req.mandatory else "<span class='tag'>optional</span>") \
                + ("<span class='tag'>ATLAS</span>" if req.scope == "atlas" else "") \
                + "".join(f"<span class='tag'>needs {e(n)}</span>" for n in req.needs)
            note = f"<br><span class='src'>{e(req.note)}</span>" if req.note else ""
            checks = "".join(
                f"<li class='{_css_class(c.status)}'><code>{e(c.location)}</code> "
                f"{e(c.name)}: {e(c.describe())}</li>" for c in row.checks)
            reason = f"<br>{e(row.reason)}" if row.reason else ""
            parts.append(
                f"<tr id='req-{e(req.id)}'><td><b>{e(req.id)}</b>{tags}</td>"
                f"<td>{e(req.text)}<br><span class='src'>{e(req.source)}</span>{note}</td>"
                f"<td class='{_css_class(row.status)}'>{e(row.status)}{reason}</td>"
                f"<td>{f'<ul>{checks}</ul>' if checks else 'none'}</td>"
                f"<td class='{_mutation_class(row)}'>{e(mutation_cell(row))}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_reports(report: Report, out_dir: Path | str) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "traceability.html": render_html(report),
        "traceability.md": render_markdown(report),
        "traceability.json": json.dumps(report.to_json(), indent=1, ensure_ascii=False),
    }
    written = []
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    return written


# ---- behave hooks ----------------------------------------------------------------------------

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
        shown = _relative(str(html_path), Path.cwd().resolve()) if html_path else "?"
        print(f"\nRequirements coverage ({len(self.report.rows)} in "
              f"{_relative(str(self.catalog_path), self.root)}; details: {shown} and .md):")
        for line in self.report.summary_lines():
            print(line)
        failed = [r.requirement.id for r in self.report.rows if r.status == FAILED]
        uncovered = [r.requirement.id for r in self.report.rows if r.status == NOT_COVERED]
        if failed:
            print(f"  failed: {', '.join(failed)}")
        if uncovered:
            print(f"  not covered: {', '.join(uncovered)}")
        gaps = [r.requirement.id for r in self.report.rows if r.faults_all_killed is False]
        if gaps:
            print(f"  a fault survived in the last mutation run: {', '.join(gaps)}")
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
               f"files and {_relative(str(trace.catalog_path), trace.root)}:\n"
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
