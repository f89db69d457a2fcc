"""A real distributed Locust run (a master and two workers on 127.0.0.1) against the trivial
server, and the mapping of Locust's statistics to the suite's figure names."""

from __future__ import annotations

from pathlib import Path

from atlas_suite.calibration import trivial_server
from atlas_suite.locust_run import LocustRun, figures, recorded_times, run_distributed
from tests.suite.test_load_reports import ROUTES

TOKENS = 4


def test_a_master_and_two_workers_send_the_request_mix(tmp_path: Path) -> None:
    with trivial_server(tokens=TOKENS, interval_s=0.002, routes=ROUTES) as server:
        run = run_distributed(server.url, tmp_path, workers=2, users=4, run_time_s=3,
                              env={"ATLAS_SAVE_LOAD_WEIGHT": "0"})
    assert run.workers_connected == 2, run.log
    assert run.worker_returncodes == [0, 0]
    streams = run.entry("streamed ATLAS completion")["num_requests"]
    assert streams > 0 and run.entry("plain completion")["num_requests"] > 0
    # every finished stream gives one TTFT and TOKENS - 1 gaps, as the suite's engine counts
    assert run.entry("TTFT")["num_requests"] == run.entry("TPOT")["num_requests"]
    assert run.entry("ITL")["num_requests"] == (TOKENS - 1) * run.entry("TTFT")["num_requests"]
    # the trivial server's answers carry no atlas block: the locustfile fails them
    atlas = run.entry("ATLAS completion")
    assert atlas["num_requests"] > 0 and atlas["num_failures"] == atlas["num_requests"]
    assert run.figures["workers"] == 2 and run.figures["itl_ms"]["count"] > 0


def _entry(name: str, times: dict[str, int], failures: int = 0) -> dict:
    return {"name": name, "num_requests": sum(times.values()), "num_failures": failures,
            "response_times": times}


def test_locust_statistics_become_the_suite_figures() -> None:
    entries = {e["name"]: e for e in (
        _entry("ATLAS completion", {"10": 2, "30": 1}, failures=1),
        _entry("plain completion", {"20": 1}),
        _entry("TTFT", {"5": 3}), _entry("ITL", {"1": 2, "3": 2}),
        _entry("memory save", {"7": 1}, failures=1))}
    run = LocustRun(2, 2, 0, [0, 0], entries, 2.0)
    out = figures(run, 2.0)
    assert recorded_times(entries["ITL"]) == [1.0, 1.0, 3.0, 3.0]
    assert out["requests"] == 4 and out["succeeded"] == 3 and out["requests_per_s"] == 1.5
    assert out["latency_ms"]["p50"] == 15.0 and out["latency_ms"]["max"] == 30.0
    assert out["itl_ms"]["mean"] == 2.0 and out["ttft_ms"]["count"] == 3
    assert out["tpot_ms"]["count"] == 0 and out["errors"]["total"] == 2
