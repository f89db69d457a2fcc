"""The matrix as a document (``atlas_suite.tables``) for Markdown and HTML, and as console text."""

from __future__ import annotations

import itertools

from atlas_suite import tables
from atlas_suite.matrix.runner import TargetRun
from atlas_suite.matrix.table import CELL, STATUSES, Matrix, MatrixRow, findings
from atlas_suite.tables import Cell, Span
from atlas_suite.traceability import Catalog

TITLE = "Compatibility matrix"


def document(matrix: Matrix, catalog: Catalog) -> tables.Document:
    """Totals per target, the findings, then the rows in groups (areas, or feature files)."""
    blocks: list[tables.Block] = [
        tables.Paragraph(tables.spans([
            f"Generated {matrix.generated} from ", Span(matrix.source, "code"),
            f". Rows: {matrix.row_kind}; each cell links to that target's details."])),
        _totals(matrix),
        tables.Heading("Findings"),
        tables.Bullets([[Span(line)] for line in findings(matrix, catalog)]),
    ]
    head = [matrix.row_kind[:-1]] + (["scope"] if matrix.row_kind == "requirements" else [])
    head += [run.target.name for run in matrix.runs]
    for group, rows in itertools.groupby(matrix.rows, key=lambda row: row.group):
        blocks += [tables.Heading(group), tables.Table(head, [_row(row) for row in rows])]
    return tables.Document(TITLE, blocks)


def render_markdown(matrix: Matrix, catalog: Catalog) -> str:
    return tables.render_markdown(document(matrix, catalog))


def render_html(matrix: Matrix, catalog: Catalog) -> str:
    return tables.render_html(document(matrix, catalog))


def _totals(matrix: Matrix) -> tables.Table:
    head = ["target", "kind", "profile", *(CELL[s] for s in STATUSES), "time", "reports"]
    rows = []
    for index, run in enumerate(matrix.runs):
        counts = matrix.column_counts(index)
        t = run.target
        rows.append(tables.TableRow([
            Cell.of(Span(t.name, "strong"), f" {t.description}"), Cell.of(t.kind),
            Cell.of(t.profile), *(Cell.of(str(counts.get(s, 0))) for s in STATUSES),
            Cell.of(f"{run.seconds:.0f} s"), Cell(_reports(run))]))
    return tables.Table(head, rows, numeric=frozenset(range(3, 4 + len(STATUSES))))


def _reports(run: TargetRun) -> list[Span]:
    if not run.ran:
        return [Span(f"no results: {run.error}")]
    name = run.target.name
    return [Span("traceability", href=f"{name}/traceability.html"), Span(" · "),
            Span("behave", href=f"{name}/behave-report.html"), Span(" · "),
            Span("log", href=f"{name}/behave.log")]


def _row(row: MatrixRow) -> tables.TableRow:
    cells = [Cell.of(Span(row.key, "strong"), f" {row.label}")]
    if row.scope:
        cells.append(Cell.of("ATLAS" if row.scope == "atlas" else "any"))
    cells += [Cell.of(Span(c.label, href=c.link), css=f"cell {tables.css_class(c.status)}",
                      title=c.title) for c in row.cells]
    return tables.TableRow(cells)


def text_table(matrix: Matrix) -> str:
    """The per-target totals as plain text for the console."""
    width = max([len(r.target.name) for r in matrix.runs] + [6])
    lines = [f"{'target':<{width}}  profile  " + "  ".join(f"{CELL[s]:>11}"
                                                          for s in STATUSES)]
    for index, run in enumerate(matrix.runs):
        counts = matrix.column_counts(index)
        lines.append(f"{run.target.name:<{width}}  {run.target.profile:<7}  "
                     + "  ".join(f"{counts.get(s, 0):>11}" for s in STATUSES)
                     + ("" if run.ran else f"  (no results: {run.error})"))
    return "\n".join(lines)
