"""The traceability report as a document (``atlas_suite.tables``), and its files."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from atlas_suite import tables
from atlas_suite.tables import Cell, Item, Span
from atlas_suite.traceability.catalog import Requirement
from atlas_suite.traceability.outcomes import FAILED, NOT_COVERED, PASSED, SKIPPED, STATUSES
from atlas_suite.traceability.report import Report, Row, mutation_cell

TITLE = "Requirements traceability"
MARK = {PASSED: "✅ passed", FAILED: "❌ failed", SKIPPED: "⏭️ skipped",
        NOT_COVERED: "⚠️ not covered"}
COLUMNS = ("id", "result", "requirement", "scenarios", "faults (last mutation run)")


def document(report: Report) -> tables.Document:
    """The report: a summary per area, then each area's requirements with their scenarios."""
    blocks: list[tables.Block] = [tables.Paragraph(_intro(report.run))]
    if report.problems:
        blocks += [tables.Paragraph([Span("Catalog check problems:", "strong")]),
                   tables.Bullets([[Span(p)] for p in report.problems])]
    blocks.append(_summary(report))
    for area, title in report.catalog.areas.items():
        rows = [_row(row) for row in report.rows if row.requirement.area == area]
        if rows:
            blocks += [tables.Heading(title, anchor=f"area-{area}"),
                       tables.Table(COLUMNS, rows)]
    return tables.Document(TITLE, blocks)


def render_markdown(report: Report) -> str:
    return tables.render_markdown(document(report))


def render_html(report: Report) -> str:
    return tables.render_html(document(report))


def write_reports(report: Report, out_dir: Path | str) -> list[Path]:
    """``traceability.html``, ``.md`` and ``.json`` in ``out_dir``."""
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


def _intro(run: Mapping[str, Any]) -> list[Span]:
    parts = tables.spans(["Target ", Span(str(run.get("target", "?")), "code"), ", profile ",
                          Span(str(run.get("profile", "?")), "code")])
    if run.get("finished"):
        parts.append(Span(f", {run['finished']}"))
    return parts + tables.spans([
        ". Each requirement of ", Span("requirements/catalog.toml", "code"),
        " with the scenarios that check it and their result in this run."])


def _summary(report: Report) -> tables.Table:
    rows = [tables.TableRow([Cell.of(Span(report.catalog.areas[area], href=f"#area-{area}")),
                             *_counts(counts)])
            for area, counts in report.summary().items()]
    rows.append(tables.TableRow([Cell.of("all"), *_counts(report.totals())], header=True))
    return tables.Table(("area", "requirements", *STATUSES), rows,
                        numeric=frozenset(range(1, 2 + len(STATUSES))))


def _counts(counts: Mapping[str, int]) -> list[Cell]:
    return [Cell.of(str(sum(counts.values())))] + [Cell.of(str(counts.get(s, 0)))
                                                   for s in STATUSES]


def _row(row: Row) -> tables.TableRow:
    result = MARK[row.status] + (f": {row.reason}" if row.reason else "")
    checks = [Item([Span(c.location, "code"), Span(f" {c.name}: {c.describe()}")],
                   css=tables.css_class(c.status)) for c in row.checks]
    faults = {True: PASSED, False: FAILED}.get(row.faults_all_killed, "")
    return tables.TableRow(anchor=f"req-{row.requirement.id}", cells=[
        Cell.of(row.requirement.id),
        Cell.of(result, css=tables.css_class(row.status)),
        Cell(_requirement_text(row.requirement)),
        Cell(items=checks, empty="none"),
        Cell.of(mutation_cell(row), css=faults),
    ])


def _requirement_text(req: Requirement) -> list[Span]:
    flags = ([] if req.mandatory else ["optional"]) + (["ATLAS"] if req.scope == "atlas" else [])
    flags += [f"needs {need}" for need in req.needs]
    notes = [req.source] + ([req.note] if req.note else [])
    return [Span(req.text)] + [Span(f, "tag") for f in flags] + [Span(n, "aside") for n in notes]
