"""Each requirement classified from the results of the scenarios that name it."""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from atlas_suite.traceability.catalog import Catalog, Requirement
from atlas_suite.traceability.outcomes import (
    FAILED,
    NOT_COVERED,
    PASSED,
    SKIPPED,
    STATUSES,
    aggregate,
)
from atlas_suite.traceability.scenarios import ScenarioRecord


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
            "requirements": [_row_json(row) for row in self.rows],
            "scenarios": [
                {"file": s.file, "line": s.line, "name": s.name, "group_line": s.group_line,
                 "group_name": s.group_name, "tags": sorted(s.tags),
                 "status": s.status or SKIPPED, "reason": s.reason or ""}
                for s in self.scenarios],
        }


def _row_json(row: Row) -> dict[str, Any]:
    req = row.requirement
    return {"id": req.id, "area": req.area, "text": req.text, "source": req.source,
            "mandatory": req.mandatory, "scope": req.scope, "needs": list(req.needs),
            "status": row.status, "reason": row.reason, "faults": row.faults,
            "faults_all_killed": row.faults_all_killed,
            "checks": [{"file": c.file, "line": c.line, "name": c.name, "status": c.status,
                        "counts": c.counts, "reasons": c.reasons} for c in row.checks]}


def _counts_text(counts: Mapping[str, int]) -> str:
    total = sum(counts.values())
    return f"{total:3d} requirements: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES)


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
        checks = [_check(file, line, members)
                  for (file, line), members in groups.get(requirement.id, {}).items()]
        status = aggregate(c.status for c in checks)
        row = Row(requirement, status, checks, _row_reason(requirement, status, checks))
        faults = (mutation or {}).get(requirement.id)
        if faults is not None:
            row.faults, row.faults_all_killed = faults.describe(), faults.all_killed
        rows.append(row)
    return Report(catalog=catalog, rows=rows, run=dict(run or {}), scenarios=list(records),
                  problems=list(problems))


def _check(file: str, line: int, members: Sequence[ScenarioRecord]) -> Check:
    counts = collections.Counter(m.status or SKIPPED for m in members)
    reasons = sorted({m.reason for m in members
                      if m.reason and (m.status or SKIPPED) != PASSED})
    return Check(file=file, line=line, name=members[0].group_name, status=aggregate(counts),
                 counts={s: counts[s] for s in (PASSED, FAILED, SKIPPED) if counts[s]},
                 reasons=reasons)


def _row_reason(requirement: Requirement, status: str, checks: Sequence[Check]) -> str:
    if status == NOT_COVERED:
        return "no scenario names it" + (f"; {requirement.note}" if requirement.note else "")
    if status != SKIPPED:
        return ""
    reason = "; ".join(sorted({r for c in checks for r in c.reasons}))
    return f"needs {requirement.needs_text()}: {reason}" if requirement.needs else reason
