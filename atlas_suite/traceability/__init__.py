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

The modules: ``catalog`` (the requirements), ``scenarios`` (scenarios as records, and the
checks of their tags), ``report`` (each requirement's verdict), ``render`` (the report through
``atlas_suite.tables``), ``hooks`` (the two behave hooks). Everything but the hooks works on
plain data, so the matrix (``atlas_suite.matrix``) and the unit tests use the same
classification and rendering. This package exports the names callers use.
"""

from atlas_suite.traceability.catalog import (
    CATALOG_PATH,
    ID_PATTERN,
    NEEDS,
    SCOPES,
    TAG_PREFIX,
    Catalog,
    CatalogError,
    Requirement,
    catalog_from_data,
    load_catalog,
)
from atlas_suite.traceability.hooks import (
    CHECK_ENV,
    MUTATION_REPORT,
    TraceabilityError,
    TraceRun,
    finish,
    start,
)
from atlas_suite.traceability.outcomes import (
    FAILED,
    NOT_CLAIMED,
    NOT_CLAIMED_PREFIX,
    NOT_COVERED,
    NOT_IN_RUN,
    PASSED,
    SKIPPED,
    STATUSES,
    aggregate,
    is_not_claimed,
    not_claimed_reason,
)
from atlas_suite.traceability.render import MARK, render_html, render_markdown, write_reports
from atlas_suite.traceability.report import Check, Report, Row, build_report, mutation_cell
from atlas_suite.traceability.scenarios import (
    FEATURES_DIR,
    ScenarioRecord,
    check,
    merge,
    parse_features,
    records_from_run,
    relative_path,
    requirement_tags,
    scenario_result,
    scope_problems,
)

__all__ = [
    "CATALOG_PATH", "CHECK_ENV", "FAILED", "FEATURES_DIR", "ID_PATTERN", "MARK",
    "MUTATION_REPORT", "NEEDS", "NOT_CLAIMED", "NOT_CLAIMED_PREFIX", "NOT_COVERED", "NOT_IN_RUN",
    "PASSED", "SCOPES", "SKIPPED", "STATUSES", "TAG_PREFIX", "Catalog", "CatalogError", "Check",
    "Report", "Requirement", "Row", "ScenarioRecord", "TraceRun", "TraceabilityError",
    "aggregate", "build_report", "catalog_from_data", "check", "finish", "is_not_claimed",
    "load_catalog", "merge", "mutation_cell", "not_claimed_reason", "parse_features",
    "records_from_run", "relative_path", "render_html", "render_markdown", "requirement_tags",
    "scenario_result", "scope_problems", "start", "write_reports",
]
