"""Resource sampling, plots and report attachments, and the load scripts end to end against the
trivial local server."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from atlas_suite.calibration import trivial_server
from atlas_suite.load_engine import LoadEngine
from atlas_suite.plots import attach_file, plot_load, plot_pairs, plot_xy, slug, write_json
from atlas_suite.resources import ResourceMonitor, gpu_unavailable_reason
from atlas_suite.workloads import RequestSpec, cycling

ROOT = Path(__file__).resolve().parents[2]
ROUTES: dict[str, Any] = {
    "/v1/models": {"object": "list", "data": [{"id": "trivial"}]},
    "/health": {"status": "ok"},
    "/v1/atlas/memory/save": {"fingerprint": "f"},
    "/v1/atlas/memory/load": {"fingerprint": "f"},
    "/v1/atlas/memory/delete": {"deleted": True},
    "/v1/atlas/status": {"status": "ok", "uptime_seconds": 3.0,
                         "memory": {"bytes": 196608, "omega_loss": 0.1},
                         "performance": {"requests_active": 0}},
    "/v1/atlas/metrics": {
        "requests": {"total": 5, "active": 0, "rejected": 0, "atlas": 2,
                     "by_status": {"200": 5}},
        "latency_ms": {"p50": 1.0, "p95": 2.0, "p99": 3.0, "count": 5},
        "throughput": {"tokens_per_second": 100.0, "tokens_generated": 50},
        "memory": {"memories": 2, "tokens_memorized": 10, "updates": 2, "update_ms_p50": 0.5},
        "errors": {"total": 0, "by_type": {}}},
}


def test_the_monitor_samples_a_process_and_a_server() -> None:
    with trivial_server(routes=ROUTES) as server, \
            ResourceMonitor(pid=os.getpid(), base_url=server.url, interval_s=0.05) as monitor:
        sum(i * i for i in range(300_000))  # some CPU
        while len(monitor.samples) < 6:
            monitor._stop.wait(0.05)
    summary = monitor.summary()
    assert summary["rss_mb"]["peak"] > 10 and summary["cpu_seconds"] > 0
    assert summary["atlas_memory_mb"]["peak"] == pytest.approx(2 * 196608 / 2**20)
    assert math.isfinite(summary["rss_mb"]["slope_mb_per_hour"])
    assert "process" not in summary["unavailable"]


def test_the_monitor_says_why_a_source_is_missing() -> None:
    with ResourceMonitor(pid=None, base_url=None, interval_s=0.05, gpu=False) as monitor:
        pass
    reasons = monitor.summary()["unavailable"]
    assert "target=url" in reasons["process"] and "url" in reasons["atlas"].lower()
    assert monitor.summary()["rss_mb"]["peak"] is None


def test_gpu_reason_is_a_sentence_or_none() -> None:
    reason = gpu_unavailable_reason()
    assert reason is None or ("GPU" in reason or "NVML" in reason or "pynvml" in reason)


def _result():  # noqa: ANN202
    with trivial_server(tokens=3, interval_s=0.005) as server:
        spec = RequestSpec(server.url + "/v1/completions", {"prompt": "x", "stream": True})
        return LoadEngine().closed_loop(cycling(spec), 4, requests=40)


def test_plots_are_png_files(tmp_path: Path) -> None:
    result = _result()
    with ResourceMonitor(pid=os.getpid(), interval_s=0.05, gpu=False) as monitor:
        monitor._stop.wait(0.2)
    paths = [
        plot_load(tmp_path / "load.png", "a load", result, monitor),
        plot_xy(tmp_path / "xy.png", "xy", {"a": ([1, 2, 3], [2, 4, 6])}, xlabel="x",
                ylabel="y", fits={"a": {"slope": 2, "intercept": 0, "r2": 1.0}}),
        plot_pairs(tmp_path / "pairs.png", "pairs", ("off", "on"), [1, 2, 3], [2, 3, 5],
                   [1, 1, 2], 1.0),
    ]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_json_figures_have_no_nan(tmp_path: Path) -> None:
    path = write_json(tmp_path / "f.json", {"a": float("nan"), "b": [1.0, float("inf")]})
    assert json.loads(path.read_text()) == {"a": None, "b": [1.0, None]}
    assert slug("50 users -- @1.1 CI bounds") == "50-users-1-1-ci-bounds"


def test_attachments_reach_both_kinds_of_formatter(tmp_path: Path) -> None:
    png = tmp_path / "p.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nxx")
    calls: list[tuple] = []

    class Pretty:
        def embed(self, mime: str, data: Any, caption: str, **kwargs: Any) -> None:
            calls.append(("embed", mime, data, caption))

    class Json:
        def embedding(self, mime: str, data: bytes) -> None:
            calls.append(("embedding", mime, data))

    class Context:
        _runner = type("R", (), {"formatters": [Pretty(), Json()]})()

    attach_file(Context(), "plot", png)
    assert calls[0] == ("embed", "image/png", png.resolve(), "plot")
    assert calls[1] == ("embedding", "image/png", png.read_bytes())


def _with_server(args: list[str], timeout: int = 120) -> subprocess.CompletedProcess:
    with trivial_server(routes=ROUTES) as server:
        command = [a.replace("URL", server.url) for a in args]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout)


def test_the_load_test_script_prints_its_table_and_writes_its_report(tmp_path: Path) -> None:
    done = _with_server([sys.executable, "scripts/atlas-load-test.py", "--url", "URL",
                         "--duration", "1.5", "--concurrent", "4", "--report-dir",
                         str(tmp_path), "--name", "t", "--progress", "0"])
    assert done.returncode == 0, done.stderr
    for words in ("end-to-end latency (e2e) p50", "throughput", "by kind", "stream"):
        assert words in done.stdout
    figures = json.loads((tmp_path / "t.json").read_text())
    assert figures["summary"]["succeeded"] > 0 and (tmp_path / "t.png").is_file()


def test_the_load_test_script_refuses_a_remote_server() -> None:
    done = subprocess.run([sys.executable, "scripts/atlas-load-test.py", "--url",
                           "http://example.com:8080"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "only a local server" in done.stderr


def test_the_monitor_draws_a_frame() -> None:
    done = _with_server([sys.executable, "scripts/atlas-monitor.py", "--url", "URL", "--once",
                         "--interval", "0.2"])
    assert done.returncode == 0, done.stderr
    for words in ("latency p50 / p95 / p99", "active", "ATLAS memories", "rate"):
        assert words in done.stdout


def test_the_locustfile_drives_the_same_requests() -> None:
    if importlib.util.find_spec("locust") is None:  # never imported here: gevent patches ssl
        pytest.skip("locust is not installed (the optional extra: pip install -e .[load])")
    locust = Path(sys.executable).parent / "locust"
    done = _with_server([str(locust), "-f", "scripts/locustfile.py", "--headless", "-u", "4",
                         "-r", "4", "-t", "2s", "--host", "URL", "--only-summary"])
    output = done.stdout + done.stderr
    for name in ("ATLAS completion", "streamed ATLAS completion", "TTFT", "plain completion"):
        assert name in output
    # the trivial server gives no atlas block: the locustfile notices
    assert "without its atlas block" in output
