#!/usr/bin/env python3
"""Mutation testing: does the suite notice a broken reference server? One fault at a time.

    scripts/atlas-mutation.py                  # every fault of mutation/faults/*.toml
    scripts/atlas-mutation.py --sample         # the faults marked sample = true (make test)
    scripts/atlas-mutation.py --only load-skips-checksum --only ...
    scripts/atlas-mutation.py --requirement MEM-CORRUPT
    scripts/atlas-mutation.py --list           # the catalogue, with a check that it applies

Prints a table (fault, requirement, killed or survived, the scenario that caught it), writes
it to reports/mutation/mutation.{json,md}, and exits 1 when any fault was not killed.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from atlas_suite.mutation import report  # noqa: E402
from atlas_suite.mutation.catalogue import (  # noqa: E402
    ENVIRONMENT_TAGS,
    FAULTS_DIR,
    CatalogueError,
    check_catalogue,
    load_faults,
)
from atlas_suite.mutation.runner import (  # noqa: E402
    KILLED,
    NOT_RUN,
    Harness,
    Outcome,
    interrupt,
    missing_environment,
)
from atlas_suite.traceability import load_catalog  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", type=Path, action="append",
                        help=f"fault files or folders (default {FAULTS_DIR})")
    parser.add_argument("--only", action="append", default=[], help="a fault id (repeatable)")
    parser.add_argument("--requirement", action="append", default=[],
                        help="the faults of this requirement (repeatable)")
    parser.add_argument("--sample", action="store_true", help="the faults marked sample = true")
    parser.add_argument("--list", action="store_true", help="list and check the catalogue")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the run against the unmutated server first")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per fault")
    parser.add_argument("--jobs", type=int, default=1,
                        help="faults run at once (each starts its own servers)")
    parser.add_argument("--report", type=Path, default=report.DEFAULT_REPORT)
    parser.add_argument("--merge", type=Path, nargs="+", metavar="RUN_JSON",
                        help="combine the mutation.json of runs of parts of the catalogue "
                             "into --report, a later run's verdict on a fault winning; no run")
    return parser.parse_args(argv)


def select(faults, args):  # noqa: ANN001, ANN201 - plain script glue
    chosen = [f for f in faults
              if (not args.only or f.id in args.only)
              and (not args.requirement or f.requirement in args.requirement)
              and (not args.sample or f.sample)]
    unknown = set(args.only) - {f.id for f in faults}
    if unknown:
        raise SystemExit(f"no such fault: {', '.join(sorted(unknown))}")
    return chosen


def run_all(harness, chosen, runnable, baseline, jobs):  # noqa: ANN001, ANN201
    """Every chosen fault, ``jobs`` at a time, then the timed faults one by one; outcomes in
    the catalogue's order."""
    done = 0

    def one(fault):  # noqa: ANN001, ANN202
        nonlocal done
        if fault not in runnable:
            outcome = Outcome(fault.id, fault.requirement, NOT_RUN, 0.0,
                              detail=missing_environment(fault.needs))
        else:
            outcome = harness.run_fault(fault, baseline)
        done += 1
        print(f"[{done}/{len(chosen)}] {fault.id} ({fault.requirement}): {outcome.verdict}: "
              f"{outcome.caught_by or outcome.detail}", flush=True)
        return outcome

    outcomes = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        untimed = [f for f in chosen if not f.timed]
        outcomes.update(zip(untimed, pool.map(one, untimed), strict=True))
    outcomes.update((f, one(f)) for f in chosen if f.timed)
    return [outcomes[f] for f in chosen]


def merge(paths: list[Path], out: Path) -> int:
    outcomes, whats = report.merge_runs(paths)
    written = report.write(out, whats, outcomes,
                           {"selection": f"merged from {len(paths)} runs", "faults": len(outcomes)})
    print(report.render_table(whats, outcomes))
    print(f"\n{report.summary(outcomes)}; written to {written[0]} and {written[1].name}")
    return 0 if all(o.verdict in (KILLED, NOT_RUN) for o in outcomes) else 1


def stop_on_signal(signum: int, _frame: object) -> None:
    """SIGTERM or Ctrl-C: stop the behave runs and their servers; the temporary folders are
    removed as the runs unwind."""
    interrupt()
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    if args.merge:
        return merge(args.merge, args.report)
    catalog = load_catalog(ROOT / "requirements/catalog.toml")
    try:
        faults = load_faults(args.faults or [ROOT / FAULTS_DIR])
    except CatalogueError as exc:
        print(f"atlas-mutation: {exc}", file=sys.stderr)
        return 2
    if args.list:
        problems = check_catalogue(faults, list(catalog.requirements),
                                   [r.id for r in catalog.requirements.values() if r.mandatory],
                                   ROOT)
        for fault in faults:
            print(f"{fault.id:40s} {fault.requirement:22s} {fault.what}")
        print(f"{len(faults)} faults; {len(problems)} problem(s)")
        for problem in problems:
            print(f"  - {problem}")
        return 1 if problems else 0
    chosen = select(faults, args)
    broken = check_catalogue(chosen, list(catalog.requirements), [], ROOT)
    if broken:
        print("atlas-mutation: the catalogue does not apply:\n  - " + "\n  - ".join(broken),
              file=sys.stderr)
        return 2
    harness = Harness(ROOT, timeout_s=args.timeout)
    baseline: set[str] = set()
    runnable = [f for f in chosen if not missing_environment(f.needs)]
    if runnable and not args.no_baseline:
        print(f"baseline: the scenarios of {len(runnable)} faults on the unmutated server ...",
              flush=True)
        expression = " or ".join(sorted({f"({f.tag_expression})" for f in runnable}))
        excluded = [t for t in ENVIRONMENT_TAGS.values()
                    if all(t in f.excluded_tags for f in runnable)]
        results = harness.run_baseline(expression, excluded)
        if isinstance(results, Outcome):
            print(f"atlas-mutation: the baseline run failed: {results.detail}", file=sys.stderr)
            return 2
        baseline = {r.location for r in results if r.status in ("failed", "error")}
        for location in sorted(baseline):
            print(f"  baseline failure (ignored as evidence): {location}")
    outcomes = run_all(harness, chosen, runnable, baseline, args.jobs)
    selection = "sample" if args.sample else ("all" if len(chosen) == len(faults) else "some")
    written = report.write(args.report, chosen, outcomes,
                           {"selection": selection, "faults": len(chosen),
                            "started": time.strftime("%Y-%m-%dT%H:%M:%S")})
    print("\n" + report.render_table(chosen, outcomes))
    print(f"\n{report.summary(outcomes)}; written to {written[0]} and {written[1].name}")
    not_killed = [o for o in outcomes if o.verdict not in (KILLED, NOT_RUN)]
    return 1 if not_killed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
