"""Reports for people: one document model, rendered to Markdown and HTML from templates.

The traceability report and the compatibility matrix describe themselves as a ``Document``:
headings, paragraphs, bulleted lists and tables whose cells are short runs of styled text
(``Span``). The two Jinja2 templates under ``atlas_suite/templates/`` are the only places that
know either format's syntax. HTML is autoescaped; in Markdown every text has its whitespace
folded and its ``|`` escaped, so no value can break a table row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Union

import jinja2


@dataclass(frozen=True)
class Span:
    """A run of text in one style; with ``href`` it is a link."""

    text: str
    style: str = ""  # "" | strong | code | tag (a badge) | aside (a line of small print)
    href: str = ""


def spans(parts: Iterable[str | Span]) -> list[Span]:
    """Spans from plain strings and spans."""
    return [part if isinstance(part, Span) else Span(part) for part in parts]


@dataclass(frozen=True)
class Item:
    """One entry of a list inside a cell, with a CSS class of its own (its status)."""

    spans: Sequence[Span]
    css: str = ""


@dataclass(frozen=True)
class Cell:
    """A table cell: inline text, then an optional list (``empty`` is shown for an empty one)."""

    spans: Sequence[Span] = ()
    items: Sequence[Item] | None = None
    empty: str = ""
    css: str = ""  # HTML class: the status colour
    title: str = ""  # HTML tooltip

    @classmethod
    def of(cls, *parts: str | Span, css: str = "", title: str = "") -> Cell:
        return cls(spans(parts), css=css, title=title)


@dataclass(frozen=True)
class TableRow:
    cells: Sequence[Cell]
    anchor: str = ""  # HTML id, so that other reports can link to the row
    header: bool = False  # a totals row: bold in Markdown, header cells in HTML


@dataclass(frozen=True)
class Table:
    kind: ClassVar[str] = "table"
    head: Sequence[str]
    rows: Sequence[TableRow]
    numeric: frozenset[int] = frozenset()  # columns aligned right in Markdown


@dataclass(frozen=True)
class Heading:
    kind: ClassVar[str] = "heading"
    text: str
    anchor: str = ""


@dataclass(frozen=True)
class Paragraph:
    kind: ClassVar[str] = "paragraph"
    spans: Sequence[Span]


@dataclass(frozen=True)
class Bullets:
    kind: ClassVar[str] = "bullets"
    items: Sequence[Sequence[Span]]


Block = Union[Heading, Paragraph, Bullets, Table]  # noqa: UP007 (Python 3.10 runtime)


@dataclass(frozen=True)
class Document:
    title: str
    blocks: Sequence[Block] = field(default_factory=list)


def markdown_text(value: object) -> str:
    """Text safe inside a Markdown table cell: one line, ``|`` escaped."""
    return re.sub(r"\s+", " ", str(value)).replace("|", "\\|")


def css_class(status: str) -> str:
    """The CSS class of a status ("not covered" -> "not-covered")."""
    return status.replace(" ", "-")


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with "..." where it was longer."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("atlas_suite", "templates"),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENV.filters["md"] = markdown_text


def render_markdown(document: Document) -> str:
    return _ENV.get_template("document.md.j2").render(doc=document)


def render_html(document: Document) -> str:
    return _ENV.get_template("document.html.j2").render(doc=document)
