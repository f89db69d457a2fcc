"""The matrix as data: requirements (or scenarios) as rows, targets as columns, and findings.

A cell's status: a skip because the profile does not claim the row ("not claimed") is told
apart from a skip because the environment lacks something ("skip": no GPU, say) and from a
failure.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from atlas_suite.matrix.runner import TargetRun
from atlas_suite.tables import shorten
from atlas_suite.traceability import (
    FAILED,
    NOT_CLAIMED,
    NOT_COVERED,
    PASSED,
    SKIPPED,
    Catalog,
    aggregate,
    is_not_claimed,
)

NOT_RUN = "not run"
STATUSES = (PASSED, FAILED, NOT_CLAIMED, SKIPPED, NOT_COVERED)
CELL = {PASSED: "pass", FAILED: "fail", NOT_CLAIMED: "not claimed", SKIPPED: "skip",
        NOT_COVERED: "not covered", NOT_RUN: "—"}


def cell_status(status: str, reasons: Sequence[str]) -> str:
    """``status`` from a target's results, with a skip the profile explains as NOT_CLAIMED."""
    if status == SKIPPED and reasons and all(is_not_claimed(r) for r in reasons):
        return NOT_CLAIMED
    return status


@dataclass
class Cell:
    status: str
    link: str
    title: str = ""

    @property
    def label(self) -> str:
        return CELL.get(self.status, self.status)


@dataclass
class MatrixRow:
    key: str
    label: str
    group: str  # area title, or feature file
    scope: str  # atlas | openai | "" for scenario rows
    cells: list[Cell]


@dataclass
class Matrix:
    runs: list[TargetRun]
    rows: list[MatrixRow]
    row_kind: str
    generated: str
    source: str

    def column_counts(self, index: int) -> Counter[str]:
        return Counter(row.cells[index].status for row in self.rows)


def requirement_rows(catalog: Catalog, runs: Sequence[TargetRun]) -> list[MatrixRow]:
    rows = []
    by_run = [{r["id"]: r for r in (run.data or {}).get("requirements", [])} for run in runs]
    for requirement in catalog.requirements.values():
        cells = []
        for run, found in zip(runs, by_run, strict=True):
            entry = found.get(requirement.id)
            if entry is None:
                cells.append(Cell(NOT_RUN, "", run.error or "no result"))
            else:
                reasons = [r for check in entry.get("checks", []) for r in check["reasons"]]
                cells.append(Cell(cell_status(entry["status"], reasons),
                                  f"{run.target.name}/traceability.html#req-{requirement.id}",
                                  entry.get("reason", "")))
        rows.append(MatrixRow(requirement.id, shorten(requirement.text, 80),
                              catalog.areas[requirement.area], requirement.scope, cells))
    return rows


def scenario_rows(runs: Sequence[TargetRun]) -> list[MatrixRow]:
    groups: dict[tuple[str, int], str] = {}
    results: list[dict[tuple[str, int], list[dict[str, Any]]]] = []
    for run in runs:
        found: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for scenario in (run.data or {}).get("scenarios", []):
            key = (scenario["file"], scenario["group_line"])
            groups.setdefault(key, scenario["group_name"])
            found.setdefault(key, []).append(scenario)
        results.append(found)
    return [MatrixRow(f"{key[0]}:{key[1]}", groups[key], key[0], "",
                      [_scenario_cell(run, found.get(key))
                       for run, found in zip(runs, results, strict=True)])
            for key in sorted(groups)]


def _scenario_cell(run: TargetRun, members: Sequence[dict[str, Any]] | None) -> Cell:
    if not members:
        return Cell(NOT_RUN, "", run.error or "no result")
    status = aggregate(m["status"] for m in members)
    reasons = sorted({m["reason"] for m in members if m["reason"] and m["status"] != PASSED})
    return Cell(cell_status(status, reasons), f"{run.target.name}/behave-report.html",
                "; ".join(reasons))


def build_matrix(catalog: Catalog, runs: Sequence[TargetRun], *, rows: str = "requirements",
                 source: str = "") -> Matrix:
    built = requirement_rows(catalog, runs) if rows == "requirements" else scenario_rows(runs)
    generated = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    return Matrix(list(runs), built, rows, generated, source)


def findings(matrix: Matrix, catalog: Catalog) -> list[str]:
    """What each column says about the target's claim (its profile)."""
    lines = []
    for index, run in enumerate(matrix.runs):
        target = run.target
        head = f"{target.name} ({target.kind}, profile {target.profile})"
        if not run.ran:
            lines.append(f"{head}: no results: {run.error}")
        elif matrix.row_kind != "requirements":
            counts = matrix.column_counts(index)
            lines.append(f"{head}: " + ", ".join(f"{counts[s]} {CELL[s]}"
                                                 for s in (PASSED, FAILED, NOT_CLAIMED, SKIPPED)))
        else:
            status = {row.key: row.cells[index].status for row in matrix.rows}
            lines.append(f"{head}: " + "; ".join(_claim_findings(target.profile, status,
                                                                 catalog)))
    return lines


def _claim_findings(profile: str, status: dict[str, str], catalog: Catalog) -> list[str]:
    """One target's requirement rows against its profile: what it claims and does not."""
    failed = [k for k, s in status.items() if s == FAILED]
    fails = f"fails {len(failed)}: {', '.join(failed)}"
    if profile == "atlas":
        return ["passes everything it claims" if not failed else fails]
    atlas_rows = [r.id for r in catalog.requirements.values() if r.scope == "atlas"]
    covered_atlas = [k for k in atlas_rows if status.get(k) != NOT_COVERED]
    ran_atlas = [k for k in covered_atlas if status.get(k) not in (NOT_CLAIMED, SKIPPED)]
    skipped_plain = [r.id for r in catalog.requirements.values()
                     if r.scope == "openai" and status.get(r.id) == NOT_CLAIMED]
    parts = []
    if not ran_atlas and not skipped_plain:
        parts.append(f"skips exactly the {len(covered_atlas)} covered ATLAS rows")
    if ran_atlas:
        parts.append(f"ATLAS rows not skipped: {', '.join(ran_atlas)}")
    if skipped_plain:
        parts.append("rows for any OpenAI server not claimed by the profile: "
                     + ", ".join(skipped_plain))
    return parts + ["no failures" if not failed else fails]
