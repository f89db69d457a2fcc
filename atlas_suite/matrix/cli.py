"""``atlas-matrix``: run every target of a targets file and write the table."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from atlas_suite import traceability as trace
from atlas_suite.matrix.render import render_html, render_markdown, text_table
from atlas_suite.matrix.runner import TargetRun, load_run, run_target
from atlas_suite.matrix.table import build_matrix, findings
from atlas_suite.matrix.targets import Target, load_targets


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atlas-matrix",
        description="Run the suite against every target of a targets file and write one table "
                    "(requirements as rows, targets as columns). Arguments after -- go to "
                    "behave.")
    parser.add_argument("targets", help="the targets file (see targets.example.toml)")
    parser.add_argument("--out", default="reports/matrix", help="output folder (%(default)s)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only this target (repeatable)")
    parser.add_argument("--tags", help="a behave tag expression for every target")
    parser.add_argument("--rows", choices=("requirements", "scenarios"),
                        default="requirements")
    parser.add_argument("--report-only", action="store_true",
                        help="render the table from the results already in --out")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a target has no results or a row fails")
    return parser


def main(argv: Sequence[str] | None = None, root: Path | None = None) -> int:
    args, behave_extra = _parser().parse_known_args(argv)
    behave_extra = [a for a in behave_extra if a != "--"]
    root = (root or Path.cwd()).resolve()
    try:
        targets = _selected(load_targets(args.targets), args.only)
        catalog = trace.load_catalog(root / trace.CATALOG_PATH)
    except (ValueError, trace.CatalogError) as exc:
        print(f"atlas-matrix: {exc}", file=sys.stderr)
        return 2
    out_root = Path(args.out)
    out_root = out_root if out_root.is_absolute() else root / out_root
    extra = (["--tags", args.tags] if args.tags else []) + behave_extra
    if args.report_only:
        runs = [load_run(t, out_root) for t in targets]
    elif not _catalog_agrees(catalog, root):
        return 1
    else:
        runs = _run_all(targets, out_root, root, extra)
    matrix = build_matrix(catalog, runs, rows=args.rows, source=str(args.targets))
    out_root.mkdir(parents=True, exist_ok=True)
    (out_root / "matrix.md").write_text(render_markdown(matrix, catalog), encoding="utf-8")
    (out_root / "matrix.html").write_text(render_html(matrix, catalog), encoding="utf-8")
    print("\n" + text_table(matrix))
    print("\n".join(["", "Findings:"] + [f"  {line}" for line in findings(matrix, catalog)]))
    print(f"\nmatrix: {_shown(out_root / 'matrix.html', root)} and matrix.md")
    failed = any(c.status == trace.FAILED for row in matrix.rows for c in row.cells)
    return 1 if args.check and (failed or any(not r.ran for r in runs)) else 0


def _selected(targets: list[Target], only: Sequence[str]) -> list[Target]:
    if not only:
        return targets
    unknown = sorted(set(only) - {t.name for t in targets})
    if unknown:
        raise ValueError(f"no target named {', '.join(unknown)}")
    return [t for t in targets if t.name in only]


def _catalog_agrees(catalog: trace.Catalog, root: Path) -> bool:
    """The feature files' tags against the catalog, once for every target."""
    problems = trace.check(catalog, trace.parse_features(root / trace.FEATURES_DIR, root))
    if not problems:
        return True
    print("atlas-matrix: the feature files and the catalog disagree:\n"
          + "\n".join(f"  - {p}" for p in problems), file=sys.stderr)
    if os.environ.get(trace.CHECK_ENV, "strict").lower() == "warn":
        return True
    print(f"(set {trace.CHECK_ENV}=warn to run anyway)", file=sys.stderr)
    return False


def _run_all(targets: Sequence[Target], out_root: Path, root: Path,
             extra: Sequence[str]) -> list[TargetRun]:
    runs = []
    for number, target in enumerate(targets, 1):
        print(f"[{number}/{len(targets)}] {target.name}: target={target.kind} "
              f"profile={target.profile} ...", flush=True)
        run = run_target(target, out_root, root, extra_args=extra)
        outcome = f"exit {run.returncode}" if run.ran else f"no results: {run.error}"
        print(f"[{number}/{len(targets)}] {target.name}: {outcome} after {run.seconds:.0f} s; "
              f"log {_shown(run.out_dir / 'behave.log', root)}", flush=True)
        runs.append(run)
    return runs


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)
