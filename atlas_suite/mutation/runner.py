"""Runs faults: each in its own copy of the server, against the scenarios tagged for it.

The suite itself runs from the project; only the server is the mutated copy. ``PYTHONPATH``
puts the copy first and ``PYTHONSAFEPATH`` keeps ``python -m atlas_reference`` from finding the
project's own package through the working folder. Every run writes into a temporary folder
that is removed afterwards: reports, logs, memory files and the copy itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from atlas_suite.mutation.catalogue import SERVER_PACKAGE, Fault, copy_server
from atlas_suite.mutation.images import engine_skip_reason, mutant_image

KILLED, SURVIVED, NOT_RUN, TIMED_OUT, BROKEN = (
    "killed", "survived", "not run", "timed out", "broken")
FAILING = ("failed", "error", "hook_error")
GRACE_S = 30.0  # a stopped behave gets this long to stop its servers before it is killed

_STOPPING = threading.Event()
_GROUPS: set[int] = set()  # process groups of the behave runs in flight
_GROUPS_LOCK = threading.Lock()


def interrupt() -> None:
    """Stop every behave run in flight, with the servers it started, and start no more.

    For a SIGTERM or Ctrl-C handler: each run's temporary folder is then removed as its
    ``with`` block unwinds, and the faults not yet run are reported as not run."""
    _STOPPING.set()
    with _GROUPS_LOCK:
        groups = list(_GROUPS)
    for group in groups:
        _signal_group(group, signal.SIGTERM)


def _signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signum)


def run_in_own_group(argv: Sequence[str], *, cwd: Path, env: dict[str, str], timeout_s: float
                     ) -> subprocess.CompletedProcess[str]:
    """``argv`` in a process group of its own, so that a timeout or an interrupt stops the
    servers it started as well (SIGTERM, then SIGKILL after ``GRACE_S``). Raises
    ``subprocess.TimeoutExpired`` after stopping the group when ``timeout_s`` passed."""
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                               start_new_session=True)
    with _GROUPS_LOCK:
        _GROUPS.add(process.pid)
    try:
        out, err = process.communicate(timeout=timeout_s)
    except BaseException:
        _stop_group(process)
        raise
    finally:
        with _GROUPS_LOCK:
            _GROUPS.discard(process.pid)
    _signal_group(process.pid, signal.SIGKILL)  # a server that outlived its behave run
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


def _stop_group(process: subprocess.Popen[str]) -> None:
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.communicate(timeout=GRACE_S)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        process.communicate()


@dataclass(frozen=True)
class ScenarioResult:
    location: str
    name: str
    status: str
    message: str = ""

    def describe(self) -> str:
        text = f"{self.location} {self.name}"
        return f"{text}: {self.message}" if self.message else text


@dataclass(frozen=True)
class Outcome:
    """What the suite made of one fault (or of the unmutated server, for the baseline)."""

    fault_id: str
    requirement: str
    verdict: str
    seconds: float
    scenarios: int = 0
    caught_by: str = ""
    detail: str = ""

    def to_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def scenario_results(behave_json: Sequence[dict]) -> list[ScenarioResult]:
    """Scenarios from behave's JSON formatter output, with the first failing step's message."""
    results = []
    for feature in behave_json:
        for element in feature.get("elements", []):
            if element.get("type") != "scenario":
                continue
            message = ""
            for step in element.get("steps", []):
                result = step.get("result", {})
                if result.get("status") in FAILING:
                    lines = result.get("error_message") or [""]
                    text = lines if isinstance(lines, str) else "\n".join(lines)
                    message = text.strip().splitlines()[0][:300] if text.strip() else ""
                    break
            results.append(ScenarioResult(element.get("location", "?"),
                                          element.get("name", "?"),
                                          str(element.get("status") or "untested"), message))
    return results


def judge(fault_id: str, requirement: str, results: Sequence[ScenarioResult], seconds: float,
          baseline_failures: Iterable[str] = ()) -> Outcome:
    """Killed when a scenario that passes on the unmutated server failed."""
    known_bad = set(baseline_failures)
    ran = [r for r in results if r.status not in ("skipped", "untested")]
    caught = [r for r in ran if r.status in FAILING and r.location not in known_bad]
    if caught:
        return Outcome(fault_id, requirement, KILLED, seconds, len(ran), caught[0].describe())
    if not ran:
        return Outcome(fault_id, requirement, NOT_RUN, seconds, 0,
                       detail="no scenario ran (all skipped or none selected)")
    return Outcome(fault_id, requirement, SURVIVED, seconds, len(ran),
                   detail=f"{len(ran)} scenarios passed")


@dataclass
class Harness:
    """Runs behave against copies of the reference server found in ``project_root``."""

    project_root: Path
    behave: Sequence[str] = field(default_factory=lambda: [sys.executable, "-m", "behave"])
    timeout_s: float = 900.0
    stop_at_first_failure: bool = True
    progress: Callable[[str], None] = print

    def run_fault(self, fault: Fault, baseline_failures: Iterable[str] = ()) -> Outcome:
        if _STOPPING.is_set():
            return Outcome(fault.id, fault.requirement, NOT_RUN, 0.0, detail="interrupted")
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"atlas-mutant-{fault.id}-") as tmp:
            work = Path(tmp)
            copy_server(self.project_root, work / "src")
            broken = self._unmutated_copy_problem(work)
            if broken:
                return Outcome(fault.id, fault.requirement, BROKEN, 0.0, detail=broken)
            fault.apply(work / "src")
            if "docker" in fault.needs:  # container scenarios run an image, not the copy
                gpu = "gpu" in fault.needs
                with mutant_image(self.project_root, work / "src", fault.id, gpu) as image:
                    variable = "ATLAS_GPU_IMAGE" if gpu else "ATLAS_IMAGE"
                    verdict = self._behave(work, fault.tag_expression, fault.excluded_tags,
                                           extra_env={variable: image},
                                           userdata=fault.userdata)
            else:
                verdict = self._behave(work, fault.tag_expression, fault.excluded_tags,
                                       userdata=fault.userdata)
        seconds = time.monotonic() - started
        if isinstance(verdict, Outcome):
            return Outcome(fault.id, fault.requirement, verdict.verdict, seconds,
                           detail=verdict.detail)
        return judge(fault.id, fault.requirement, verdict, seconds, baseline_failures)

    def run_baseline(self, tag_expression: str, excluded: Sequence[str]) -> Outcome | list:
        """The same scenarios against an unmutated copy: what fails there proves nothing."""
        with tempfile.TemporaryDirectory(prefix="atlas-mutant-baseline-") as tmp:
            work = Path(tmp)
            copy_server(self.project_root, work / "src")
            return self._behave(work, tag_expression, excluded, stop=False)

    def _behave(self, work: Path, tags: str, excluded: Sequence[str], stop: bool | None = None,
                extra_env: dict[str, str] | None = None,
                userdata: Sequence[tuple[str, str]] = ()) -> Outcome | list[ScenarioResult]:
        result_file = work / "behave.json"
        argv = [*self.behave, f"--tags={tags}", "--no-junit", "--no-capture-stderr",
                "-f", "json", "-o", str(result_file), "-f", "progress",
                "-D", f"trace_dir={work / 'reports'}", "-D", f"log_dir={work / 'logs'}",
                "-D", f"load_report_dir={work / 'load'}"]
        argv += [f"--tags=not {tag}" for tag in excluded]
        argv += [arg for name, value in userdata for arg in ("-D", f"{name}={value}")]
        if self.stop_at_first_failure if stop is None else stop:
            argv.append("--stop")
        env = dict(os.environ, PYTHONPATH=str(work / "src"), PYTHONSAFEPATH="1",
                   ATLAS_TRACE_CHECK="warn", TMPDIR=str(work), **(extra_env or {}))
        self._check_server_copy(work, env)
        try:
            done = run_in_own_group(argv, cwd=self.project_root, env=env,
                                    timeout_s=self.timeout_s)
        except subprocess.TimeoutExpired:
            return Outcome("", "", TIMED_OUT, self.timeout_s,
                           detail=f"behave ran past {self.timeout_s:.0f} s")
        if _STOPPING.is_set():
            return Outcome("", "", NOT_RUN, 0.0, detail="interrupted")
        try:
            data = json.loads(result_file.read_text(encoding="utf-8") or "[]")
        except (OSError, json.JSONDecodeError):
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
            return Outcome("", "", BROKEN, 0.0,
                           detail=f"behave exited {done.returncode} without results:\n{tail}")
        return scenario_results(data)

    def _unmutated_copy_problem(self, work: Path) -> str:
        """Why the copy, before its fault, cannot even import ("" when it can): a server
        that cannot start would fail every scenario and pass for a killed fault."""
        env = dict(os.environ, PYTHONPATH=str(work / "src"), PYTHONSAFEPATH="1")
        package = SERVER_PACKAGE
        script = (f"import importlib, pkgutil, {package}\n"
                  f"for m in pkgutil.walk_packages({package}.__path__, '{package}.'):\n"
                  "    m.name.endswith('__main__') or importlib.import_module(m.name)")
        done = subprocess.run([sys.executable, "-c", script], cwd=self.project_root, env=env,
                              capture_output=True, text=True, timeout=120)
        if done.returncode == 0:
            return ""
        return ("the unmutated server copy does not import: "
                + " ".join(done.stderr.strip().splitlines()[-1:]))

    def _check_server_copy(self, work: Path, env: dict[str, str]) -> None:
        """Refuse to run when the server the suite would start is not the mutated copy."""
        found = subprocess.run(
            [sys.executable, "-c", f"import {SERVER_PACKAGE}; print({SERVER_PACKAGE}.__file__)"],
            cwd=self.project_root, env=env, capture_output=True, text=True, check=True,
        ).stdout.strip()
        if not Path(found).resolve().is_relative_to((work / "src").resolve()):
            raise RuntimeError(f"the server copy is shadowed: {SERVER_PACKAGE} comes from "
                               f"{found} (Python 3.11+ is needed for PYTHONSAFEPATH)")


def missing_environment(needs: Iterable[str]) -> str:
    """Why faults with these needs cannot run here ("" when they can)."""
    from atlas_suite import gpu, kube  # asked only when a fault needs them

    reasons = []
    for need in needs:
        if need == "gpu":
            reasons.append(gpu.nvml_skip_reason() or "")
        elif need == "k8s":
            reasons.append(kube.skip_reason() or "")
        elif need == "docker":
            reasons.append(engine_skip_reason())
    return "; ".join(r for r in reasons if r)
