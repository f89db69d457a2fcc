"""The harness's hold on the behave runs it starts: timeouts, interrupts, a copy that is broken
before any fault is applied."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from atlas_suite.mutation import runner
from atlas_suite.mutation.catalogue import parse_fault
from atlas_suite.mutation.runner import BROKEN, NOT_RUN, Harness, run_in_own_group

# a parent that starts a grandchild, reports its pid, and then waits for ever (as behave does
# with a server); the tests look for the grandchild afterwards
FAMILY = ("import subprocess, sys\n"
          "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
          "print(child.pid, flush=True)\n"
          "child.wait()\n")


@pytest.fixture(autouse=True)
def fresh_harness_state() -> Iterator[None]:
    runner._STOPPING.clear()
    yield
    runner._STOPPING.clear()


def _grandchild_gone(pid: int) -> bool:
    """Whether the process ends within 10 s (a signal is delivered asynchronously)."""
    try:
        psutil.Process(pid).wait(timeout=10)
    except psutil.NoSuchProcess:
        return True
    except psutil.TimeoutExpired:
        return False
    return True


def test_a_run_past_its_timeout_is_stopped_with_everything_it_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = FAMILY.replace("print(child.pid, flush=True)",
                            f"open({str(pid_file)!r}, 'w').write(str(child.pid))")
    with pytest.raises(subprocess.TimeoutExpired):
        run_in_own_group([sys.executable, "-c", script], cwd=tmp_path, env=dict(os.environ),
                         timeout_s=3)
    assert _grandchild_gone(int(pid_file.read_text()))


def test_an_interrupt_stops_the_runs_in_flight_and_starts_no_more(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = FAMILY.replace("print(child.pid, flush=True)",
                            f"open({str(pid_file)!r}, 'w').write(str(child.pid))")
    outcome: dict[str, object] = {}

    def run() -> None:
        outcome["done"] = run_in_own_group([sys.executable, "-c", script], cwd=tmp_path,
                                           env=dict(os.environ), timeout_s=120)

    thread = threading.Thread(target=run)
    thread.start()
    tick = threading.Event()
    for _ in range(1200):  # the family is up once the grandchild's pid is written (60 s at most)
        if (pid_file.is_file() and pid_file.read_text()) or tick.wait(0.05):
            break
    assert pid_file.is_file(), "the run never started its grandchild"
    runner.interrupt()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the interrupted run did not end"
    done = outcome["done"]
    assert isinstance(done, subprocess.CompletedProcess) and done.returncode != 0
    assert _grandchild_gone(int(pid_file.read_text()))
    fault = parse_fault({"id": "f", "requirement": "MEM-CORRUPT", "what": "w",
                         "file": "atlas_reference/x.py", "find": "a", "replace": "b"}, "t.toml")
    later = Harness(tmp_path).run_fault(fault)
    assert (later.verdict, later.detail) == (NOT_RUN, "interrupted")


def test_a_server_copy_that_cannot_import_is_broken_not_killed(tmp_path: Path) -> None:
    package = tmp_path / "atlas_reference"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text("import no_such_module_anywhere\n")
    (tmp_path / "pyproject.toml").write_text("")
    fault = parse_fault({"id": "f", "requirement": "MEM-CORRUPT", "what": "w",
                         "file": "atlas_reference/app.py", "find": "no_such", "replace": "x"},
                        "t.toml")
    outcome = Harness(tmp_path).run_fault(fault)
    assert outcome.verdict == BROKEN
    assert "no_such_module_anywhere" in outcome.detail


def _fault(fault_id: str, requirement: str, **extra: str) -> object:
    return parse_fault({"id": fault_id, "requirement": requirement, "what": "w",
                        "file": "atlas_reference/x.py", "find": "a", "replace": "b", **extra},
                       "t.toml")


def test_faults_judged_on_timing_run_alone_and_the_others_side_by_side() -> None:
    timed = _fault("t", "PERF-OVERHEAD", tags="@req.PERF-OVERHEAD and @timing")
    assert timed.timed and not _fault("u", "MEM-CORRUPT").timed
