"""Shared helpers for the benchmarks: percentiles, tables, JSON reports, the in-process server.

Every benchmark prints a table and writes the same figures to ``reports/benchmarks/<name>.json``.
Percentiles are ``numpy.percentile(..., method="linear")``, as the server's own metrics use.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REPORT_DIR = ROOT / "reports" / "benchmarks"


def pct(samples: Sequence[float], q: float) -> float:
    """The q-th percentile, linear interpolation."""
    return float(np.percentile(np.asarray(samples, dtype=float), q, method="linear"))


def p50_p95(samples: Sequence[float]) -> dict[str, float]:
    return {"p50": pct(samples, 50), "p95": pct(samples, 95), "n": len(samples)}


def machine() -> dict[str, object]:
    """What the figures were measured on; the load average says how shared the machine was."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {"cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__,
            "loadavg_1m_at_end": round(load[0], 2)}


def write_report(name: str, figures: dict, args: dict) -> Path:
    """Write figures, arguments, date and machine to reports/benchmarks/<name>.json."""
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    path = REPORT_DIR / f"{name}.json"
    payload = {"benchmark": name, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "machine": machine(), "args": args, "figures": figures}
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain, aligned text table (numbers right-aligned)."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row, raw in zip(cells, rows, strict=True):
        parts = [c.rjust(w) if isinstance(v, (int, float)) else c.ljust(w)
                 for c, v, w in zip(row, raw, widths, strict=True)]
        print("  ".join(parts).rstrip())


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)


def model_path() -> Path:
    from atlas_models import fetch_model

    return fetch_model()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_health(base_url: str, deadline_s: float = 180.0) -> None:
    """Poll /health until it answers 200; raise after the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{base_url}/health", timeout=2.0)
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code == 200:
            return
        if response is not None and response.status_code == 500:
            raise RuntimeError(f"the server failed to start: {response.text}")
        time.sleep(0.05)
    raise TimeoutError(f"{base_url}/health did not answer 200 within {deadline_s} s")


@contextmanager
def engine_log_to(path: Path) -> Iterator[None]:
    """Send file descriptor 2 (llama.cpp logs every request there) to a file meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "wb") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


@contextmanager
def reference_server(extra_args: Sequence[str] = (),
                     log_name: str = "engine.log") -> Iterator[tuple[str, object]]:
    """Run the reference server (ATLAS on) in this process; yield (base_url, ServerState).

    llama.cpp's per-request log lines go to reports/benchmarks/<log_name>, not the terminal.
    """
    import uvicorn

    from atlas_reference.app import build_app
    from atlas_reference.cli import settings_from_args
    from atlas_reference.state import ServerState

    port = free_port()
    log_path = REPORT_DIR / log_name
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as memory_dir, \
            engine_log_to(log_path):
        argv = ["-m", str(model_path()), "--atlas", "--port", str(port),
                "--atlas-memory-dir", memory_dir, *extra_args]
        state = ServerState(settings_from_args(argv))
        config = uvicorn.Config(build_app(state), host="127.0.0.1", port=port,
                                log_level="warning", access_log=False, lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
        thread.start()
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_for_health(base_url)
            yield base_url, state
        finally:
            server.should_exit = True
            thread.join(timeout=60)
