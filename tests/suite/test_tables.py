"""The report renderer: one document, the same information in Markdown and HTML, nothing raw."""

from __future__ import annotations

import ast
import html
import re
from importlib import resources
from pathlib import Path

from atlas_suite import matrix, tables
from atlas_suite.tables import Bullets, Cell, Document, Heading, Item, Paragraph, Span, Table
from atlas_suite.tables import TableRow as Row
from atlas_suite.traceability import render
from tests.suite.test_traceability import MATRIX_CATALOG, _run, _synthetic_report

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "a <script>alert('x')</script> & \"q\" | b"


def _document() -> Document:
    return Document("Title <T>", [
        Paragraph([Span("see "), Span("code|x", "code"), Span(" and "),
                   Span("a link", href="x.html#r-1")]),
        Bullets([[Span(HOSTILE)], [Span("second", "strong")]]),
        Heading("Group & co", anchor="group-1"),
        Table(("name", "count", "notes"), [
            Row([Cell.of(Span("R-1", "strong"), " first"), Cell.of("12"),
                 Cell(items=[Item([Span("f:1", "code"), Span(" one")], css="passed"),
                             Item([Span("f:2", "code"), Span(" two\nlines")], css="failed")])],
                anchor="r-1"),
            Row([Cell.of("R-2", css="skipped", title=HOSTILE), Cell.of("3"),
                 Cell(items=[], empty="none")]),
            Row([Cell.of("all"), Cell.of("15"), Cell.of("")], header=True),
        ], numeric=frozenset({1})),
    ])


def test_html_escapes_every_value_it_is_given() -> None:
    page = tables.render_html(_document())
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<title>Title &lt;T&gt;</title>" in page
    assert "title='a &lt;script&gt;alert(&#39;x&#39;)" in page  # a quote cannot end the attribute
    assert "<h2 id='group-1'>Group &amp; co</h2>" in page
    assert "<tr id='r-1'>" in page and "<a href='x.html#r-1'>a link</a>" in page
    assert "<li class='failed'><code>f:2</code> two\nlines</li>" in page
    assert "<td class='skipped' title=" in page and "<td>none</td>" in page
    assert "<th>all</th><th>15</th>" in page


def test_markdown_keeps_every_row_one_line_with_its_columns() -> None:
    text = tables.render_markdown(_document())
    lines = text.splitlines()
    table = [line for line in lines if line.startswith("|")]
    assert table[0] == "| name | count | notes |"
    assert table[1] == "|---|---:|---|"
    for line in table:  # an escaped \| is text, not a column
        assert len(re.findall(r"(?<!\\)\|", line)) == 4, line
    assert "| **R-1** first | 12 | `f:1` one<br>`f:2` two lines |" in table
    assert "| **all** | **15** | **** |" in table
    assert "- a <script>alert('x')</script> & \"q\" \\| b" in lines
    assert "## <a id=\"group-1\"></a>Group & co" in lines
    assert "see `code\\|x` and [a link](x.html#r-1)" in lines
    assert text.startswith("# Title <T>\n\n") and text.endswith("|\n")


def _texts(document: Document) -> list[str]:
    found = []
    for block in document.blocks:
        if isinstance(block, Table):
            for row in block.rows:
                for cell in row.cells:
                    spans = list(cell.spans) + [s for i in cell.items or () for s in i.spans]
                    found += [s.text for s in spans]
    return [t.strip() for t in found if t.strip()]


def _carried_by_both(document: Document) -> None:
    markdown = tables.render_markdown(document)
    page = html.unescape(tables.render_html(document))
    texts = _texts(document)
    assert len(texts) > 20
    for text in texts:
        assert tables.markdown_text(text) in markdown, text
        assert text in page, text


def test_both_formats_carry_every_text_of_the_traceability_report() -> None:
    _carried_by_both(render.document(_synthetic_report()))


def test_both_formats_carry_every_text_of_the_matrix() -> None:
    runs = [_run("full", "atlas", {"P-ANY": "passed", "P-ATLAS": "passed", "P-GPU": "skipped"}),
            _run("plain", "openai", {"P-ANY": "failed", "P-ATLAS": "skipped"})]
    for rows in ("requirements", "scenarios"):
        built = matrix.build_matrix(MATRIX_CATALOG, runs, rows=rows, source="t.toml")
        _carried_by_both(matrix.document(built, MATRIX_CATALOG))


def test_the_templates_ship_with_the_package() -> None:
    folder = resources.files("atlas_suite") / "templates"
    assert {p.name for p in folder.iterdir() if p.name.endswith(".j2")} == {
        "document.md.j2", "document.html.j2"}


def test_no_report_module_writes_html_by_hand() -> None:
    for name in ("traceability", "matrix"):
        for path in (ROOT / "atlas_suite" / name).glob("*.py"):
            assert not re.search(r"<(td|tr|th|table|ul|li|p|h\d)\b", path.read_text()), path


def _private_uses(path: Path, mine: tuple[str, ...]) -> list[str]:
    """Private names a module takes from the report modules, or the report modules take."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = str(path.relative_to(ROOT)).replace("/", ".").removesuffix(".py")
    aliases: dict[str, str] = {}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                if alias.name.startswith("_"):
                    found.append(f"from {node.module} import {alias.name}")
        elif isinstance(node, ast.Import):
            aliases.update({a.asname or a.name: a.name for a in node.names})
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in aliases and node.attr.startswith("_") \
                and not node.attr.startswith("__"):
            found.append(f"{aliases[node.value.id]}.{node.attr}")
    ours = own.startswith(mine)
    return [use for use in found if ours or use.removeprefix("from ").startswith(mine)]


def test_nobody_reaches_into_the_report_modules_private_names() -> None:
    mine = ("atlas_suite.traceability", "atlas_suite.matrix", "atlas_suite.tables")
    files = [p for folder in ("atlas_suite", "steps", "scripts", "tests")
             for p in (ROOT / folder).rglob("*.py")] + [ROOT / "environment.py"]
    found = {str(p.relative_to(ROOT)): _private_uses(p, mine) for p in files}
    assert {k: v for k, v in found.items() if v} == {}
