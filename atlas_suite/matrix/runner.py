"""Running one target: its build, its container if it is an image, and behave against it.

Everything about one run goes under ``<out>/<name>/``: ``command.txt``, ``behave.log``,
``behave-report.html``, ``junit/``, ``logs/``, the traceability reports and, for an image,
``container.log``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas_suite.matrix.targets import Target
from atlas_suite.traceability import CHECK_ENV

RESULTS = "traceability.json"


class TargetError(RuntimeError):
    """A target could not be prepared (a build that failed, no container engine...)."""


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
    with _container(target, out_dir) as (base_url, memory):
        yield {**{k: v for k, v in userdata.items() if k != "image"},
               "target": "url", "base_url": base_url, "memory_dir": str(memory)}


@contextlib.contextmanager
def _container(target: Target, out_dir: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, memory folder) of the target's image, running and healthy; removed after."""
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
        yield server.base_url, memory
    finally:
        (out_dir / "container.log").write_text(server.logs_tail(5000), encoding="utf-8")
        with contextlib.suppress(Exception):
            server.stop(30)
        with contextlib.suppress(Exception):
            server.remove()


def run_target(target: Target, out_root: Path, root: Path, *, python: str = sys.executable,
               extra_args: Sequence[str] = ()) -> TargetRun:
    """Run the suite against one target; its results, or why there are none."""
    out_dir = (out_root / target.name).resolve()
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    run = TargetRun(target, out_dir)
    started = time.monotonic()
    env = {**os.environ, CHECK_ENV: "warn"}  # the matrix checked the catalog already
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
    results = out_dir / RESULTS
    if results.is_file():
        run.data = json.loads(results.read_text(encoding="utf-8"))
    elif run.error is None:
        log = out_dir / "behave.log"
        run.error = f"behave wrote no {RESULTS}: " + \
            (_tail(log.read_text(encoding="utf-8"), 8) if log.is_file() else "no log")
    return run


def load_run(target: Target, out_root: Path) -> TargetRun:
    """A target's results from an earlier matrix run (``--report-only``)."""
    out_dir = (out_root / target.name).resolve()
    run = TargetRun(target, out_dir)
    results = out_dir / RESULTS
    if results.is_file():
        run.data = json.loads(results.read_text(encoding="utf-8"))
    else:
        run.error = f"no results in {out_dir}"
    return run
