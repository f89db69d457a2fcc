#!/usr/bin/env python3
"""Run the timing-dependent scenarios N times and list every scenario whose verdict changed.

    scripts/atlas-flake-check.py --runs 10                  # the @timing scenarios, 10 runs
    scripts/atlas-flake-check.py --runs 3 --tags '@timing and @load' -- -D target=url ...

Each run is behave with its JSON formatter; its reports (JSON, JUnit, load figures, server
logs, traceability) go to ``--out`` (reports/flake/ by default), run by run, so the main run's
reports stay as they were. The soak lasts ``--soak-duration`` seconds (30: one run of every
@timing scenario takes about 2.5 minutes on 2 cores; the shorter soak compares shorter thirds,
which is stricter than the default run's 75 s, never looser).

Exit status: 0 when every scenario had the same verdict in every run, 1 when some verdict
changed (flaky), 2 when none changed but some scenario failed in every run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from atlas_suite.flake import FlakeTable, tag_filter, verdicts_from_behave_json  # noqa: E402


def behave_command(run_dir: Path, tags: str, soak_s: float, extra: list[str]) -> list[str]:
    behave = ROOT / ".venv" / "bin" / "behave"
    return [str(behave if behave.exists() else "behave"), f"--tags={tags}",
            "-f", "json", "-o", str(run_dir / "behave.json"),
            "-f", "progress", "--no-skipped",
            "--junit", "--junit-directory", str(run_dir / "junit"),
            "-D", f"trace_dir={run_dir / 'trace'}", "-D", f"log_dir={run_dir / 'logs'}",
            "-D", f"load_report_dir={run_dir / 'load'}", "-D", f"soak_duration={soak_s:g}",
            *extra]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="how many runs (default 3)")
    parser.add_argument("--tags", default="@timing", help="behave tag expression (@timing)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "flake",
                        help="where each run's reports go (emptied first)")
    parser.add_argument("--soak-duration", type=float, default=30.0,
                        help="seconds of the soak in each run (default 30)")
    parser.add_argument("behave_args", nargs="*", help="more behave arguments, after --")
    args = parser.parse_args()
    if args.runs < 2:
        parser.error("a verdict can only change between at least 2 runs")
    if args.out.exists():
        shutil.rmtree(args.out)
    table = FlakeTable()
    selected = tag_filter(args.tags)
    for run in range(1, args.runs + 1):
        run_dir = args.out / f"run-{run:02d}"
        run_dir.mkdir(parents=True)
        command = behave_command(run_dir, args.tags, args.soak_duration, args.behave_args)
        started = time.monotonic()
        print(f"== run {run} of {args.runs}: {' '.join(command)}", flush=True)
        code = subprocess.call(command, cwd=ROOT)
        seconds = time.monotonic() - started
        report = run_dir / "behave.json"
        verdicts = (verdicts_from_behave_json(json.loads(report.read_text()), selected)
                    if report.is_file() and report.stat().st_size else {})
        if not verdicts:
            print(f"run {run}: behave exited {code} without a JSON report", file=sys.stderr)
            return 3
        table.add_run(verdicts, seconds)
        print(f"== run {run}: {table.run_summary(run - 1)} in {seconds:.0f} s", flush=True)
        (args.out / "flake-table.md").write_text(table.render() + "\n")  # so far
    text = table.render()
    (args.out / "flake-table.md").write_text(text + "\n")
    (args.out / "flake.json").write_text(json.dumps(table.to_json(), indent=2) + "\n")
    print()
    print(text)
    print(f"\n(reports: {args.out})")
    if table.changed():
        return 1
    return 2 if table.always_failed() else 0


if __name__ == "__main__":
    sys.exit(main())
