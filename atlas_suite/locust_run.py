"""A distributed Locust run on this machine: one master and N workers, headless, as processes.

The master listens on a free 127.0.0.1 port; the workers start once it accepts connections
(polled with a deadline, never slept on), and the master starts the users only when all of
them have connected (``--expect-workers``). Locust's own statistics (``--json-file``: each
entry's count, failures and response-time histogram) are mapped to the suite's figure names
(docs/load.md, "Distributed load on Locust"): ``latency_ms`` for the completions, ``ttft_ms``,
``tpot_ms`` and ``itl_ms`` from the entries the locustfile reports for streams, each a
``stats.distribution`` of Locust's recorded response times (which Locust rounds: to 10 ms above
100 ms, to 100 ms above 1 s).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_suite.stats import distribution

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "scripts" / "locustfile.py"
# the locustfile's entry names, and the suite's figure each one is
COMPLETION_ENTRIES = ("ATLAS completion", "plain completion", "streamed ATLAS completion")
FIGURE_ENTRIES = {"ttft_ms": "TTFT", "tpot_ms": "TPOT", "itl_ms": "ITL"}
_CONNECTED = re.compile(r"(\d+) workers? connected")


class LocustRunError(RuntimeError):
    """The distributed run did not happen as asked (a process failed or the workers never came)."""


@dataclass
class LocustRun:
    """What a distributed run saw: Locust's entries, the suite's figures and the processes."""

    workers: int
    workers_connected: int
    master_returncode: int
    worker_returncodes: list[int]
    entries: dict[str, dict[str, Any]]
    duration_s: float
    log: str = ""
    figures: dict[str, Any] = field(default_factory=dict)

    def entry(self, name: str) -> dict[str, Any]:
        """Locust's statistics for one entry name (an empty entry when it never ran)."""
        return self.entries.get(name, {"num_requests": 0, "num_failures": 0,
                                       "response_times": {}})


def locust_command() -> list[str]:
    """Locust as this interpreter runs it (the venv's, whatever the PATH says)."""
    return [sys.executable, "-m", "locust"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, deadline_s: float, process: subprocess.Popen) -> None:
    """Poll until 127.0.0.1:port accepts a connection; fail naming what was seen."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if process.poll() is not None:
            raise LocustRunError(f"the Locust master exited (code {process.returncode}) "
                                 "before it listened for workers")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)  # the poll's step, not a wait for readiness
    raise LocustRunError(f"the Locust master did not listen on 127.0.0.1:{port} "
                         f"within {deadline_s:g} s")


def run_distributed(host: str, out_dir: Path, *, workers: int = 2, users: int = 4,
                    spawn_rate: float = 4.0, run_time_s: float = 5.0,
                    locustfile: Path = LOCUSTFILE, env: dict[str, str] | None = None,
                    start_timeout_s: float = 60.0) -> LocustRun:
    """Run Locust headless as one master and ``workers`` workers against ``host``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    environment = {**os.environ, **(env or {})}
    common = ["-f", str(locustfile)]
    master_log, json_file = out_dir / "locust-master.log", out_dir / "locust-stats.json"
    master_cmd = [*locust_command(), *common, "--master", "--headless",
                  "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                  "--expect-workers", str(workers),
                  "--expect-workers-max-wait", str(int(start_timeout_s)),
                  "-u", str(users), "-r", str(spawn_rate), "-t", f"{run_time_s:g}s",
                  "--host", host, "--only-summary", "--json-file", str(json_file.with_suffix("")),
                  "--csv", str(out_dir / "locust"), "--stop-timeout", "10"]
    worker_cmd = [*locust_command(), *common, "--worker", "--master-host", "127.0.0.1",
                  "--master-port", str(port)]
    started = time.monotonic()
    with master_log.open("w") as log:
        master = subprocess.Popen(master_cmd, cwd=ROOT, env=environment, stdout=log,
                                  stderr=subprocess.STDOUT)
        procs: list[subprocess.Popen] = []
        with contextlib.ExitStack() as logs:
            try:
                wait_for_port(port, start_timeout_s, master)
                for i in range(workers):
                    worker_log = logs.enter_context((out_dir / f"locust-worker-{i}.log").open("w"))
                    procs.append(subprocess.Popen(worker_cmd, cwd=ROOT, env=environment,
                                                  stdout=worker_log, stderr=subprocess.STDOUT))
                master.wait(timeout=start_timeout_s + run_time_s + 60)
                codes = [p.wait(timeout=30) for p in procs]
            finally:
                for p in [master, *procs]:
                    if p.poll() is None:
                        p.kill()
                        p.wait()
    text = master_log.read_text(errors="replace")
    connected = max((int(n) for n in _CONNECTED.findall(text)), default=0)
    entries = _read_entries(json_file)
    run = LocustRun(workers, connected, master.returncode, codes, entries,
                    time.monotonic() - started, text[-4000:])
    run.figures = figures(run, run_time_s)
    return run


def _read_entries(json_file: Path) -> dict[str, dict[str, Any]]:
    if not json_file.is_file():
        raise LocustRunError(f"the Locust master wrote no statistics ({json_file.name})")
    return {entry["name"]: entry for entry in json.loads(json_file.read_text())}


def recorded_times(entry: dict[str, Any]) -> list[float]:
    """Locust's histogram (rounded ms -> count) expanded back into values."""
    return [float(ms) for ms, count in entry.get("response_times", {}).items()
            for _ in range(int(count))]


def figures(run: LocustRun, run_time_s: float) -> dict[str, Any]:
    """The suite's figure names for a Locust run (see the module's docstring)."""
    completions = [run.entry(name) for name in COMPLETION_ENTRIES]
    sent = sum(e["num_requests"] for e in completions)
    failed = sum(e["num_failures"] for e in completions)
    latencies = [t for e in completions for t in recorded_times(e)]
    out: dict[str, Any] = {
        "mode": "locust", "workers": run.workers_connected, "duration_s": run_time_s,
        "requests": sent, "succeeded": sent - failed, "requests_per_s": (sent - failed) /
        max(run_time_s, 1e-9), "latency_ms": distribution(latencies),
        "errors": {"total": failed + sum(e["num_failures"] for name, e in run.entries.items()
                                         if name not in COMPLETION_ENTRIES)},
        "by_label": {name: {"requests": e["num_requests"], "failures": e["num_failures"],
                            "latency_ms": distribution(recorded_times(e))}
                     for name, e in run.entries.items()},
        "percentile_method": "numpy.percentile(method='linear') of Locust's rounded times",
    }
    for key, name in FIGURE_ENTRIES.items():
        out[key] = distribution(recorded_times(run.entry(name)))
    return out
