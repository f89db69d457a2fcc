"""The compatibility matrix: the suite against several targets, one table.

A targets file (TOML, see ``targets.example.toml``) lists the servers; for each one the suite
runs once as a behave subprocess with its userdata, and writes everything about that run under
``<out>/<name>/`` (``behave.log``, ``behave-report.html``, ``junit/``, ``logs/`` and the
traceability reports). Then ``<out>/matrix.md`` and ``<out>/matrix.html`` hold one table:
requirements (or scenarios) as rows, targets as columns, each cell pass / fail / skip linking
to that target's details.

Target kinds: ``reference`` (the reference server), ``command`` (a command template),
``url`` (a server already running) and ``image`` (a container image the matrix starts, through
``atlas_suite.containers``, and tests as a ``url``). A ``build`` shell command runs first; the
last line it prints replaces ``{build}`` in ``command`` (a binary built from source, say).

The modules: ``targets`` (the targets file), ``runner`` (one target's build, container and
behave run), ``table`` (the rows, cells and findings), ``render`` (through
``atlas_suite.tables``), ``cli`` (the command). This package exports the names callers use.
"""

from atlas_suite.matrix.cli import main
from atlas_suite.matrix.render import document, render_html, render_markdown, text_table
from atlas_suite.matrix.runner import (
    TargetError,
    TargetRun,
    behave_argv,
    load_run,
    prepared,
    run_build,
    run_target,
)
from atlas_suite.matrix.table import (
    CELL,
    NOT_RUN,
    STATUSES,
    Cell,
    Matrix,
    MatrixRow,
    build_matrix,
    cell_status,
    findings,
    requirement_rows,
    scenario_rows,
)
from atlas_suite.matrix.targets import KINDS, NAME_PATTERN, Target, load_targets, targets_from_data

__all__ = [
    "CELL", "KINDS", "NAME_PATTERN", "NOT_RUN", "STATUSES", "Cell", "Matrix", "MatrixRow",
    "Target", "TargetError", "TargetRun", "behave_argv", "build_matrix", "cell_status",
    "document", "findings", "load_run", "load_targets", "main", "prepared", "render_html",
    "render_markdown", "requirement_rows", "run_build", "run_target", "scenario_rows",
    "targets_from_data", "text_table",
]
