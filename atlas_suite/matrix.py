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
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import html
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_suite import traceability as trace

KINDS = ("reference", "command", "url", "image")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
NOT_RUN = "not run"
# A cell's status: a skip because the profile does not claim the row ("not claimed") is told
# apart from a skip because the environment lacks something ("skip": no GPU, say) and from a
# failure.
STATUSES = (trace.PASSED, trace.FAILED, trace.NOT_CLAIMED, trace.SKIPPED, trace.NOT_COVERED)
CELL = {trace.PASSED: "pass", trace.FAILED: "fail", trace.NOT_CLAIMED: "not claimed",
        trace.SKIPPED: "skip", trace.NOT_COVERED: "not covered", NOT_RUN: "—"}


class TargetError(RuntimeError):
    """A target could not be prepared (a build that failed, no container engine...)."""


# ---- the targets file ------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    name: str
    kind: str = "reference"
    profile: str = "atlas"
    description: str = ""
    command: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    memory_dir: str | None = None
    image: str | None = None
    args: tuple[str, ...] | None = None  # image: the server's arguments
    build: str | None = None
    userdata: dict[str, str] = field(default_factory=dict)
    behave_args: tuple[str, ...] = ()
    timeout_s: float | None = None
    startup_timeout_s: float = 180.0

    def base_userdata(self) -> dict[str, str]:
        data = {"target": self.kind, "profile": self.profile}
        for key in ("command", "base_url", "api_key", "memory_dir"):
            value = getattr(self, key)
            if value:
                data[key] = value
        return data


def load_targets(path: Path | str) -> list[Target]:
    path = Path(path)
    try:
        data = trace.tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, trace.tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    return targets_from_data(data, origin=str(path))


def targets_from_data(data: Mapping[str, Any], origin: str = "targets") -> list[Target]:
    entries = data.get("target")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{origin}: at least one [[target]] is required")
    known = {"name", "target", "profile", "description", "command", "base_url", "api_key",
             "memory_dir", "image", "args", "build", "userdata", "behave_args", "timeout_s",
             "startup_timeout_s"}
    targets, problems, names = [], [], set()
    for number, entry in enumerate(entries, 1):
        name = str(entry.get("name", ""))
        where = f"{origin}: target #{number} ({name or 'no name'})"
        unknown = sorted(set(entry) - known)
        kind = str(entry.get("target", "reference"))
        profile = str(entry.get("profile", "atlas"))
        if unknown:
            problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
        if not NAME_PATTERN.match(name):
            problems.append(f"{where}: name must match {NAME_PATTERN.pattern}")
        elif name in names:
            problems.append(f"{where}: the name {name} is used twice")
        names.add(name)
        if kind not in KINDS:
            problems.append(f"{where}: target must be one of {', '.join(KINDS)}")
        if profile not in ("atlas", "openai"):
            problems.append(f"{where}: profile must be atlas or openai")
        required = {"command": "command", "url": "base_url", "image": "image"}.get(kind)
        if required and not entry.get(required):
            problems.append(f"{where}: target={kind} needs {required}")
        if entry.get("build") and "{build}" not in str(entry.get("command", "")):
            problems.append(f"{where}: build is set but command has no {{build}}")
        args = entry.get("args")
        targets.append(Target(
            name=name, kind=kind, profile=profile, description=str(entry.get("description", "")),
            command=entry.get("command"), base_url=entry.get("base_url"),
            api_key=entry.get("api_key"), memory_dir=entry.get("memory_dir"),
            image=entry.get("image"), args=tuple(str(a) for a in args) if args else None,
            build=entry.get("build"),
            userdata={str(k): str(v) for k, v in (entry.get("userdata") or {}).items()},
            behave_args=tuple(str(a) for a in entry.get("behave_args", [])),
            timeout_s=float(entry["timeout_s"]) if entry.get("timeout_s") else None,
            startup_timeout_s=float(entry.get("startup_timeout_s", 180)),
        ))
    if problems:
        raise ValueError("\n".join(problems))
    return targets


# ---- running one target ----------------------------------------------------------------------

@dataclass
class TargetRun:
    target: Target
    out_dir: Path
    returncode: int | None = None
    seconds: float = 0.0
    error: str | None = None  # why there are no results
    data: dict[str, Any] | None = None  # its traceability.json

    @property
    def ran(self) -> bool:
        return self.data is not None


def behave_argv(target: Target, out_dir: Path, userdata: Mapping[str, str], *,
                python: str = sys.executable, extra_args: Sequence[str] = ()) -> list[str]:
    """The behave command line of one target; every output goes under ``out_dir``."""
    argv = [python, "-m", "behave"]
    merged = {**userdata, **target.userdata, "trace_dir": str(out_dir),
              "log_dir": str(out_dir / "logs")}
    for key, value in merged.items():
        argv += ["-D", f"{key}={value}"]
    argv += ["--junit", "--junit-directory", str(out_dir / "junit"),
             "-f", "html-pretty", "-o", str(out_dir / "behave-report.html"),
             "-f", "progress"]
    return argv + list(target.behave_args) + list(extra_args)


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_build(target: Target, root: Path) -> str:
    """Run ``target.build``; the last line it prints (a path, usually)."""
    assert target.build
    done = subprocess.run(["bash", "-c", target.build], cwd=root, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        raise TargetError(f"the build `{target.build}` failed (exit {done.returncode}): "
                          + _tail(done.stderr or done.stdout, 8))
    return lines[-1].strip()


@contextlib.contextmanager
def prepared(target: Target, out_dir: Path, root: Path) -> Iterator[dict[str, str]]:
    """The userdata that points behave at the target, with whatever it needs running."""
    userdata = target.base_userdata()
    if target.build:
        userdata["command"] = str(target.command).replace("{build}",
                                                          shlex.quote(run_build(target, root)))
    if target.kind != "image":
        yield userdata
        return
    from atlas_suite import containers  # only image targets need a container engine

    ok, reason = containers.engine_available()
    if not ok:
        raise TargetError(f"no container engine: {reason}")
    memory = out_dir / "memory"
    args = list(target.args) if target.args else \
        containers.default_server_args(atlas=target.profile == "atlas")
    server = containers.run_server(str(target.image), args=args, memory_dir=memory)
    try:
        server.wait_healthy(target.startup_timeout_s)
        yield {**{k: v for k, v in userdata.items() if k not in ("image",)},
               "target": "url", "base_url": server.base_url, "memory_dir": str(memory)}
    finally:
        (out_dir / "container.log").write_text(server.logs_tail(5000), encoding="utf-8")
        with contextlib.suppress(Exception):
            server.stop(30)
        with contextlib.suppress(Exception):
            server.remove()


def run_target(target: Target, out_root: Path, root: Path, *, python: str = sys.executable,
               extra_args: Sequence[str] = ()) -> TargetRun:
    out_dir = (out_root / target.name).resolve()
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    run = TargetRun(target, out_dir)
    started = time.monotonic()
    env = {**os.environ, trace.CHECK_ENV: "warn"}  # the matrix checked the catalog already
    try:
        with prepared(target, out_dir, root) as userdata:
            argv = behave_argv(target, out_dir, userdata, python=python, extra_args=extra_args)
            (out_dir / "command.txt").write_text(shlex.join(argv) + "\n", encoding="utf-8")
            with open(out_dir / "behave.log", "w", encoding="utf-8") as log:
                done = subprocess.run(argv, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                                      env=env, timeout=target.timeout_s)
            run.returncode = done.returncode
    except subprocess.TimeoutExpired:
        run.error = f"behave ran past {target.timeout_s:.0f} s"
    except Exception as exc:  # a target that cannot be prepared is a column without results
        run.error = f"{type(exc).__name__}: {exc}"
    run.seconds = time.monotonic() - started
    results = out_dir / "traceability.json"
    if results.is_file():
        run.data = json.loads(results.read_text(encoding="utf-8"))
    elif run.error is None:
        log = (out_dir / "behave.log")
        run.error = "behave wrote no traceability.json: " + \
            (_tail(log.read_text(encoding="utf-8"), 8) if log.is_file() else "no log")
    return run


def load_run(target: Target, out_root: Path) -> TargetRun:
    """A target's results from an earlier matrix run (``--report-only``)."""
    out_dir = (out_root / target.name).resolve()
    run = TargetRun(target, out_dir)
    results = out_dir / "traceability.json"
    if results.is_file():
        run.data = json.loads(results.read_text(encoding="utf-8"))
    else:
        run.error = f"no results in {out_dir}"
    return run


# ---- the table -------------------------------------------------------------------------------

def cell_status(status: str, reasons: Sequence[str]) -> str:
    """``status`` from a target's results, with a skip the profile explains as NOT_CLAIMED."""
    if status == trace.SKIPPED and reasons and all(trace.is_not_claimed(r) for r in reasons):
        return trace.NOT_CLAIMED
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


def requirement_rows(catalog: trace.Catalog, runs: Sequence[TargetRun]) -> list[MatrixRow]:
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
        rows.append(MatrixRow(requirement.id, trace._short(requirement.text, 80),
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
    rows = []
    for key in sorted(groups):
        cells = []
        for run, found in zip(runs, results, strict=True):
            members = found.get(key)
            if not members:
                cells.append(Cell(NOT_RUN, "", run.error or "no result"))
                continue
            status = trace._aggregate(m["status"] for m in members)
            reasons = sorted({m["reason"] for m in members
                              if m["reason"] and m["status"] != trace.PASSED})
            cells.append(Cell(cell_status(status, reasons),
                              f"{run.target.name}/behave-report.html", "; ".join(reasons)))
        rows.append(MatrixRow(f"{key[0]}:{key[1]}", groups[key], key[0], "", cells))
    return rows


def build_matrix(catalog: trace.Catalog, runs: Sequence[TargetRun], *, rows: str = "requirements",
                 source: str = "") -> Matrix:
    built = requirement_rows(catalog, runs) if rows == "requirements" else scenario_rows(runs)
    generated = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    return Matrix(list(runs), built, rows, generated, source)


def findings(matrix: Matrix, catalog: trace.Catalog) -> list[str]:
    """What each column says about the target's claim (its profile)."""
    lines = []
    for index, run in enumerate(matrix.runs):
        target = run.target
        head = f"{target.name} ({target.kind}, profile {target.profile})"
        if not run.ran:
            lines.append(f"{head}: no results: {run.error}")
            continue
        if matrix.row_kind != "requirements":
            counts = matrix.column_counts(index)
            lines.append(f"{head}: " + ", ".join(f"{counts[s]} {CELL[s]}"
                                                 for s in (trace.PASSED, trace.FAILED,
                                                           trace.NOT_CLAIMED, trace.SKIPPED)))
            continue
        status = {row.key: row.cells[index].status for row in matrix.rows}
        failed = [k for k, s in status.items() if s == trace.FAILED]
        atlas_rows = [r.id for r in catalog.requirements.values() if r.scope == "atlas"]
        covered_atlas = [k for k in atlas_rows if status.get(k) != trace.NOT_COVERED]
        parts = []
        if target.profile == "atlas":
            parts.append("passes everything it claims" if not failed
                         else f"fails {len(failed)}: {', '.join(failed)}")
        else:
            ran_atlas = [k for k in covered_atlas
                         if status.get(k) not in (trace.NOT_CLAIMED, trace.SKIPPED)]
            skipped_plain = [r.id for r in catalog.requirements.values()
                             if r.scope == "openai" and status.get(r.id) == trace.NOT_CLAIMED]
            if not ran_atlas and not skipped_plain:
                parts.append(f"skips exactly the {len(covered_atlas)} covered ATLAS rows")
            else:
                if ran_atlas:
                    parts.append(f"ATLAS rows not skipped: {', '.join(ran_atlas)}")
                if skipped_plain:
                    parts.append("rows for any OpenAI server not claimed by the profile: "
                                 + ", ".join(skipped_plain))
            parts.append("no failures" if not failed
                         else f"fails {len(failed)}: {', '.join(failed)}")
        lines.append(f"{head}: " + "; ".join(parts))
    return lines


def _column_head(run: TargetRun) -> str:
    return run.target.name


def render_markdown(matrix: Matrix, catalog: trace.Catalog) -> str:
    md = trace._md
    out = ["# Compatibility matrix", "",
           f"Generated {matrix.generated} from `{matrix.source}`. Rows: {matrix.row_kind}; "
           "each cell links to that target's details.", "",
           "| target | kind | profile | " + " | ".join(CELL[s] for s in STATUSES)
           + " | time | reports |",
           "|---|---|---|" + "---:|" * len(STATUSES) + "---:|---|"]
    for index, run in enumerate(matrix.runs):
        counts = matrix.column_counts(index)
        t = run.target
        reports = (f"[traceability]({t.name}/traceability.html) · "
                   f"[behave]({t.name}/behave-report.html) · [log]({t.name}/behave.log)"
                   if run.ran else md(f"no results: {run.error}"))
        out.append(f"| **{t.name}** {md(t.description)} | {t.kind} | {t.profile} | "
                   + " | ".join(str(counts.get(s, 0)) for s in STATUSES)
                   + f" | {run.seconds:.0f} s | {reports} |")
    out += ["", "## Findings", ""] + [f"- {md(line)}" for line in findings(matrix, catalog)]
    heads = " | ".join(_column_head(run) for run in matrix.runs)
    group = None
    for row in matrix.rows:
        if row.group != group:
            group = row.group
            scope_head = "| scope " if matrix.row_kind == "requirements" else ""
            out += ["", f"## {md(group)}", "",
                    f"| {matrix.row_kind[:-1]} {scope_head}| {heads} |",
                    "|---" + ("|---" if scope_head else "") + "|---" * len(matrix.runs) + "|"]
        cells = " | ".join(f"[{c.label}]({c.link})" if c.link else c.label for c in row.cells)
        scope = f"| {'ATLAS' if row.scope == 'atlas' else 'any'} " if row.scope else ""
        out.append(f"| **{md(row.key)}** {md(row.label)} {scope}| {cells} |")
    return "\n".join(out) + "\n"


_CSS = (trace._CSS + ".not-run{background:#eee}.not-claimed{background:#e8eef8;color:#456}"
        "td.cell{text-align:center;white-space:nowrap}\n")


def render_html(matrix: Matrix, catalog: trace.Catalog) -> str:
    e = html.escape
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
             "<title>Compatibility matrix</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>Compatibility matrix</h1>",
             f"<p>Generated {e(matrix.generated)} from <code>{e(matrix.source)}</code>. Rows: "
             f"{e(matrix.row_kind)}; each cell links to that target's details.</p>",
             "<table><tr><th>target</th><th>kind</th><th>profile</th>"
             + "".join(f"<th>{CELL[s]}</th>" for s in STATUSES)
             + "<th>time</th><th>reports</th></tr>"]
    for index, run in enumerate(matrix.runs):
        counts = matrix.column_counts(index)
        t = run.target
        reports = (f"<a href='{e(t.name)}/traceability.html'>traceability</a> · "
                   f"<a href='{e(t.name)}/behave-report.html'>behave</a> · "
                   f"<a href='{e(t.name)}/behave.log'>log</a>" if run.ran
                   else e(f"no results: {run.error}"))
        parts.append(f"<tr><td><b>{e(t.name)}</b> {e(t.description)}</td><td>{e(t.kind)}</td>"
                     f"<td>{e(t.profile)}</td>"
                     + "".join(f"<td>{counts.get(s, 0)}</td>" for s in STATUSES)
                     + f"<td>{run.seconds:.0f} s</td><td>{reports}</td></tr>")
    parts.append("</table><h2>Findings</h2><ul>"
                 + "".join(f"<li>{e(line)}</li>" for line in findings(matrix, catalog))
                 + "</ul>")
    group = None
    for row in matrix.rows:
        if row.group != group:
            if group is not None:
                parts.append("</table>")
            group = row.group
            parts.append(f"<h2>{e(group)}</h2><table><tr><th>{e(matrix.row_kind[:-1])}</th>"
                         + ("<th>scope</th>" if matrix.row_kind == "requirements" else "")
                         + "".join(f"<th>{e(_column_head(r))}</th>" for r in matrix.runs)
                         + "</tr>")
        cells = "".join(
            f"<td class='cell {trace._css_class(c.status)}' title='{e(c.title)}'>"
            + (f"<a href='{e(c.link)}'>{e(c.label)}</a>" if c.link else e(c.label)) + "</td>"
            for c in row.cells)
        scope = f"<td>{'ATLAS' if row.scope == 'atlas' else 'any'}</td>" if row.scope else ""
        parts.append(f"<tr><td><b>{e(row.key)}</b> {e(row.label)}</td>{scope}{cells}</tr>")
    if group is not None:
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


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


# ---- the command -----------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None, root: Path | None = None) -> int:
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
    args, behave_extra = parser.parse_known_args(argv)
    behave_extra = [a for a in behave_extra if a != "--"]
    root = (root or Path.cwd()).resolve()
    try:
        targets = load_targets(args.targets)
        catalog = trace.load_catalog(root / trace.CATALOG_PATH)
    except (ValueError, trace.CatalogError) as exc:
        print(f"atlas-matrix: {exc}", file=sys.stderr)
        return 2
    if args.only:
        unknown = sorted(set(args.only) - {t.name for t in targets})
        if unknown:
            print(f"atlas-matrix: no target named {', '.join(unknown)}", file=sys.stderr)
            return 2
        targets = [t for t in targets if t.name in args.only]
    out_root = Path(args.out)
    out_root = out_root if out_root.is_absolute() else root / out_root
    extra = (["--tags", args.tags] if args.tags else []) + behave_extra
    if args.report_only:
        runs = [load_run(t, out_root) for t in targets]
    else:
        problems = trace.check(catalog, trace.parse_features(root / trace.FEATURES_DIR, root))
        if problems:
            print("atlas-matrix: the feature files and the catalog disagree:\n"
                  + "\n".join(f"  - {p}" for p in problems), file=sys.stderr)
            if os.environ.get(trace.CHECK_ENV, "strict").lower() != "warn":
                print(f"(set {trace.CHECK_ENV}=warn to run anyway)", file=sys.stderr)
                return 1
        runs = []
        for number, target in enumerate(targets, 1):
            print(f"[{number}/{len(targets)}] {target.name}: target={target.kind} "
                  f"profile={target.profile} ...", flush=True)
            run = run_target(target, out_root, root, extra_args=extra)
            outcome = (f"exit {run.returncode}" if run.ran else f"no results: {run.error}")
            print(f"[{number}/{len(targets)}] {target.name}: {outcome} after {run.seconds:.0f} s; "
                  f"log {_shown(run.out_dir / 'behave.log', root)}", flush=True)
            runs.append(run)
    matrix = build_matrix(catalog, runs, rows=args.rows, source=str(args.targets))
    out_root.mkdir(parents=True, exist_ok=True)
    (out_root / "matrix.md").write_text(render_markdown(matrix, catalog), encoding="utf-8")
    (out_root / "matrix.html").write_text(render_html(matrix, catalog), encoding="utf-8")
    print("\n" + text_table(matrix))
    print("\n".join(["", "Findings:"] + [f"  {line}" for line in findings(matrix, catalog)]))
    print(f"\nmatrix: {_shown(out_root / 'matrix.html', root)} and matrix.md")
    if args.check and (any(not r.ran for r in runs)
                       or any(c.status == trace.FAILED for row in matrix.rows
                              for c in row.cells)):
        return 1
    return 0


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)
