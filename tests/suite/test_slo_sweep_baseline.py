"""The figures (TPOT, p90, tokens per second), arrival processes, warm-up, SLOs and goodput,
the rate sweep and baselines, against hand-made samples and the trivial local server."""

from __future__ import annotations

import csv
import json
import math
import statistics
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

import pytest

from atlas_suite import routes
from atlas_suite.baseline import compare, load_baseline, save_baseline
from atlas_suite.calibration import trivial_server
from atlas_suite.experiments.sweep import (
    concurrency_sweep,
    geometric_rates,
    latency_growth,
    rate_sweep,
)
from atlas_suite.load_engine import LoadEngine, arrival_gaps
from atlas_suite.load_result import LoadResult, Sample, figure
from atlas_suite.slo import Slo, evaluate, parse_slo, parse_slos
from atlas_suite.stats import distribution
from atlas_suite.workloads import RequestSpec, cycling
from tests.suite.test_load_reports import ROOT, ROUTES


def _sample(i: int, latency: float, ttft: float | None = None, tokens: int = 1,
            error: str | None = None, prompt: int = 0) -> Sample:
    return Sample(i, "x", sent_s=i * 0.1, latency_ms=latency, status=200 if not error else 500,
                  error=error, ttft_ms=ttft, tokens=tokens, prompt_tokens=prompt)


# -- figures ------------------------------------------------------------------------------------
def test_distribution_gives_p90_beside_p50_p95_p99() -> None:
    values = [float(v) for v in range(1, 101)]
    dist = distribution(values)
    assert dist["p90"] == pytest.approx(90.1) and dist["p50"] == pytest.approx(50.5)
    assert distribution([])["p90"] is None


def test_tpot_is_the_time_after_the_first_token_per_further_token() -> None:
    assert _sample(0, 100.0, ttft=10.0, tokens=10).tpot_ms == pytest.approx(10.0)
    assert _sample(0, 100.0, ttft=10.0, tokens=1).tpot_ms is None  # no second token
    assert _sample(0, 100.0, ttft=None, tokens=10).tpot_ms is None  # not streamed


def test_summary_names_tpot_and_output_and_total_tokens_per_second() -> None:
    samples = [_sample(0, 100.0, 10.0, 10, prompt=5), _sample(1, 190.0, 10.0, 10, prompt=5),
               _sample(2, 50.0, error="server_error")]
    summary = LoadResult("closed", samples, duration_s=2.0).summary()
    assert summary["tpot_ms"]["count"] == 2
    assert summary["tpot_ms"]["mean"] == pytest.approx(15.0)  # (90/9 + 180/9) / 2
    assert summary["output_tokens_per_s"] == pytest.approx(10.0)
    assert summary["total_tokens_per_s"] == pytest.approx(15.0)
    assert figure(summary, "tpot_ms.p50") == pytest.approx(15.0)
    assert figure(summary, "e2e.p50") == figure(summary, "latency_ms.p50")
    assert figure(summary, "requests_per_s") == pytest.approx(1.0)
    with pytest.raises(KeyError, match="no figure"):
        figure(summary, "speed.p50")
    with pytest.raises(KeyError, match="no statistic"):
        figure(summary, "ttft_ms.p42")


# -- arrivals and warm-up -----------------------------------------------------------------------
@pytest.mark.parametrize(("arrival", "burstiness", "cv2"),
                         [("constant", 1.0, 0.0), ("poisson", 1.0, 1.0), ("gamma", 0.25, 4.0),
                          ("gamma", 4.0, 0.25)])
def test_arrival_gaps_have_the_mean_rate_and_the_burstiness(arrival: str, burstiness: float,
                                                           cv2: float) -> None:
    gaps = list(islice(arrival_gaps(10.0, arrival, burstiness=burstiness, seed=7), 20000))
    mean = statistics.fmean(gaps)
    assert mean == pytest.approx(0.1, rel=0.05)
    # squared coefficient of variation: 1 / shape for gamma, 1 for Poisson, 0 for constant
    assert statistics.pvariance(gaps) / mean**2 == pytest.approx(cv2, abs=0.1 + 0.1 * cv2)
    again = list(islice(arrival_gaps(10.0, arrival, burstiness=burstiness, seed=7), 50))
    assert again == gaps[:50]


def test_arrival_gaps_refuse_an_unknown_process() -> None:
    with pytest.raises(ValueError, match="unknown arrival process"):
        next(arrival_gaps(1.0, "bursty"))


def test_warm_up_requests_count_in_no_figure() -> None:
    with trivial_server() as server:
        spec = RequestSpec(server.url + routes.COMPLETIONS, {"prompt": "x"})
        engine = LoadEngine(timeout_s=10)
        opened = engine.open_loop(cycling(spec), 50, duration_s=0.4, warmup=3,
                                  arrival="gamma", burstiness=0.5, seed=1)
        closed = engine.closed_loop(cycling(spec), 2, requests=6, warmup=4)
        assert server.requests == 3 + len(opened.samples) + 4 + 6
    assert [s.index for s in opened.warmup] == [0, 1, 2]
    assert min(s.index for s in opened.samples) == 3
    assert opened.summary()["warmup_requests"] == 3
    assert opened.summary()["arrival"] == "gamma (burstiness 0.5)"
    assert len(closed.samples) == 6 and len(closed.warmup) == 4
    assert closed.summary()["requests"] == 6


# -- SLOs ---------------------------------------------------------------------------------------
def test_objectives_are_read_as_a_scenario_states_them() -> None:
    assert parse_slo("TTFT p99 <= 500 ms") == Slo("ttft", 500.0, 99.0)
    assert parse_slo("tpot p95 ≤ 0.05 s") == Slo("tpot", 50.0, 95.0)
    assert parse_slo("e2e <= 5 s") == Slo("e2e", 5000.0, 100.0)
    assert [s.figure for s in parse_slos("TTFT p99 <= 1 s, TPOT p99 <= 50 ms and e2e <= 9 s")
            ] == ["ttft", "tpot", "e2e"]
    with pytest.raises(ValueError, match="not a service-level objective"):
        parse_slo("speed >= 3")


def test_attainment_counts_failures_and_unsent_arrivals_as_misses() -> None:
    samples = [_sample(0, 100.0, 10.0, 10), _sample(1, 100.0, 90.0, 10),  # TTFT 90: misses
               _sample(2, 1000.0, 10.0, 10),  # TPOT 110: misses
               _sample(3, 50.0, error="server_error")]
    result = LoadResult("open", samples, duration_s=2.0, rate_per_s=2.0, not_sent=1)
    report = evaluate(result, parse_slos("TTFT p50 <= 50 ms, TPOT p99 <= 20 ms"))
    assert report.offered == 5 and report.met == 1
    assert report.attainment == pytest.approx(0.2)
    assert report.goodput_per_s == pytest.approx(0.5)
    assert report.misses == {"TTFT p50 <= 50 ms": 2, "TPOT p99 <= 20 ms": 2}
    # TTFT values 10, 10, 90 and the failure (infinite): p50 between 10 and 90
    assert report.run_values["TTFT p50 <= 50 ms"] == pytest.approx(50.0)
    assert math.isinf(report.run_values["TPOT p99 <= 20 ms"])  # the failure is the top
    assert not report.all_hold
    assert "SLO attainment" in report.rows()[0][0]


def test_a_request_that_was_not_streamed_uses_its_latency_as_its_ttft() -> None:
    result = LoadResult("closed", [_sample(0, 30.0), _sample(1, 300.0)], duration_s=1.0)
    report = evaluate(result, parse_slos("TTFT p50 <= 100 ms"))
    assert report.met == 1 and report.run_values["TTFT p50 <= 100 ms"] == pytest.approx(165.0)


# -- the rate sweep -----------------------------------------------------------------------------
def _slow(path: str, body: object) -> dict[str, object]:
    time.sleep(0.05)  # blocks the server's one event loop: at most 20 answers per second
    return {"choices": [{"text": "ok"}], "usage": {"completion_tokens": 1}}


def test_the_sweep_stops_where_the_server_saturates(tmp_path: Path) -> None:
    with trivial_server(handler=_slow) as server:
        spec = RequestSpec(server.url + "/v1/anything", {"prompt": "x"})
        sweep = rate_sweep(LoadEngine(timeout_s=30), cycling(spec),
                           geometric_rates(2.5, 2, 6), step_s=2.0,
                           slos=parse_slos("e2e p99 <= 20 s"))
    best = sweep.best
    assert best is not None and 2.5 <= best.offered_per_s <= 20
    last = sweep.steps[-1]
    assert not last.sustained and last.offered_per_s <= 80
    assert any(r.startswith(("saturated", "queue growing")) for r in last.reasons), last.reasons
    figures = sweep.figures()
    assert figures["highest_sustainable_per_s"] == best.offered_per_s
    sweep.write_csv(tmp_path / "s.csv")
    rows = list(csv.DictReader((tmp_path / "s.csv").open()))
    assert [float(r["offered_per_s"]) for r in rows] == [s.offered_per_s for s in sweep.steps]
    assert {"ttft_p99_ms", "tpot_p99_ms", "itl_p99_ms", "e2e_p99_ms", "goodput_per_s"} <= set(
        rows[0])
    assert sweep.plot(tmp_path / "s.png", "sweep").stat().st_size > 1000
    assert "highest sustainable rate" in dict(sweep.table())


def test_the_sweep_stops_at_the_first_rate_whose_objectives_do_not_hold() -> None:
    with trivial_server(tokens=3) as server:
        spec = RequestSpec(server.url + routes.COMPLETIONS, {"prompt": "x", "stream": True})
        sweep = rate_sweep(LoadEngine(timeout_s=30), cycling(spec), [5.0, 10.0], step_s=1.0,
                           slos=parse_slos("e2e p50 <= 0.001 ms"))
    assert len(sweep.steps) == 1 and sweep.best is None
    assert "SLO missed: e2e p50 <= 0.001 ms" in sweep.stopped_because
    assert sweep.steps[0].slo.attainment == 0.0


# -- the concurrency sweep ----------------------------------------------------------------------
def test_the_concurrency_sweep_stops_where_more_users_add_no_throughput(tmp_path: Path) -> None:
    with trivial_server(handler=_slow) as server:  # one answer at a time, whatever the users
        spec = RequestSpec(server.url + "/v1/anything", {"prompt": "x"})
        sweep = concurrency_sweep(LoadEngine(timeout_s=30), cycling(spec), [1, 2, 4, 8],
                                  step_s=1.5, slos=parse_slos("e2e p99 <= 20 s"))
    best, last = sweep.best, sweep.steps[-1]
    assert best is not None and best.users in (1, 2)  # 2: the client's own time hid at 1 user
    assert not last.sustained and last.reasons[-1].startswith("saturated"), last.reasons
    assert last.users is not None and last.users <= 4
    figures = sweep.figures()
    assert figures["axis"] == "concurrency" and figures["highest_sustainable_users"] == best.users
    sweep.write_csv(tmp_path / "c.csv")
    rows = list(csv.DictReader((tmp_path / "c.csv").open()))
    assert [int(r["users"]) for r in rows] == [s.users for s in sweep.steps]
    assert "offered_per_s" not in rows[0]
    assert sweep.plot(tmp_path / "c.png", "users").stat().st_size > 1000
    words = "1 user" if best.users == 1 else f"{best.users} users"
    assert dict(sweep.table())["highest sustainable concurrency"] == words


def test_a_server_that_scales_with_its_users_sustains_every_level() -> None:
    with trivial_server(tokens=3, interval_s=0.02) as server:  # waits without working
        spec = RequestSpec(server.url + routes.COMPLETIONS, {"prompt": "x", "stream": True})
        sweep = concurrency_sweep(LoadEngine(timeout_s=30), cycling(spec), [1, 2, 4],
                                  step_s=1.0)
    assert [s.sustained for s in sweep.steps] == [True, True, True]
    assert sweep.best is sweep.steps[-1]
    assert sweep.stopped_because.startswith("every concurrency of the sweep was sustained")


def test_a_step_with_failures_says_what_they_were() -> None:
    with trivial_server() as server:
        spec = RequestSpec(server.url + "/v1/completions?status=500", {"prompt": "x"})
        sweep = concurrency_sweep(LoadEngine(timeout_s=30), cycling(spec), [1, 2], step_s=0.5)
    (step,) = sweep.steps
    assert sweep.best is None and step.reasons[0].endswith('the first: "' +
                                                           step.result.samples[0].detail[:160]
                                                           + '"')
    assert "requests failed (unavailable_error x" in step.reasons[0]


def test_a_concurrency_sweep_needs_rising_users() -> None:
    with pytest.raises(ValueError, match="rising numbers of users"):
        concurrency_sweep(LoadEngine(), cycling(RequestSpec("http://127.0.0.1:9/")), [2, 1],
                          step_s=1.0)


# -- baselines ----------------------------------------------------------------------------------
def _summary(latency: float, rps: float) -> dict[str, object]:
    samples = [_sample(i, latency, latency / 10, 10) for i in range(10)]
    summary = LoadResult("closed", samples, duration_s=10 / rps).summary()
    return json.loads(json.dumps(summary))  # as read back from a file


def test_a_baseline_comparison_fails_a_slower_run_and_passes_the_same(tmp_path: Path) -> None:
    path = save_baseline(tmp_path / "b.json", _summary(100.0, 10.0), target="http://a")
    baseline = load_baseline(path)
    same = compare(baseline, _summary(105.0, 9.8), target="http://a", tolerance_pct=10)
    assert not same.regressed
    slower = compare(baseline, _summary(150.0, 6.0), target="http://a", tolerance_pct=10,
                     figures=["latency_ms.p50", "requests_per_s", "ttft_ms.p99"])
    assert [c.name for c in slower.regressed] == ["latency_ms.p50", "requests_per_s",
                                                 "ttft_ms.p99"]
    assert slower.changes[1].change_pct == pytest.approx(40.0)  # 10/s -> 6/s: 40 % worse
    text = "\n".join(f"{a} {b}" for a, b in slower.rows())
    assert "REGRESSED" in text and "100.00 -> 150.00" in text
    faster = compare(baseline, _summary(50.0, 20.0), target="http://a", tolerance_pct=10)
    assert not faster.regressed


def test_a_baseline_of_another_target_or_no_baseline_is_refused(tmp_path: Path) -> None:
    path = save_baseline(tmp_path / "b.json", _summary(100.0, 10.0), target="http://a")
    with pytest.raises(ValueError, match="same target"):
        compare(load_baseline(path), _summary(100.0, 10.0), target="http://b")
    with pytest.raises(ValueError, match="no baseline file"):
        load_baseline(tmp_path / "missing.json")
    (tmp_path / "other.json").write_text('{"summary": {}}')
    with pytest.raises(ValueError, match="not a baseline file"):
        load_baseline(tmp_path / "other.json")


# -- the scripts, end to end against the trivial server -----------------------------------------
def _script(args: list[str], interval_s: float, tmp_path: Path) -> subprocess.CompletedProcess:
    with trivial_server(tokens=4, interval_s=interval_s, routes=ROUTES) as server:
        command = [sys.executable, *[a.replace("URL", server.url) for a in args],
                   "--report-dir", str(tmp_path)]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)


def test_a_baseline_run_fails_against_a_slowed_server_and_passes_against_the_same(
        tmp_path: Path) -> None:
    base = ["scripts/atlas-load-test.py", "--url", "URL", "--mix", "plain-stream",
            "--concurrent", "2", "--requests", "12", "--duration", "60", "--progress", "0",
            "--target", "trivial", "--baseline-figures", "latency_ms.p50,tpot_ms.p50",
            "--tolerance", "100"]
    baseline = tmp_path / "baseline.json"
    saved = _script([*base, "--save-baseline", str(baseline), "--name", "a"], 0.02, tmp_path)
    assert saved.returncode == 0, saved.stderr
    same = _script([*base, "--baseline", str(baseline), "--name", "b"], 0.02, tmp_path)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "baseline latency_ms.p50 ok" in same.stdout
    slowed = _script([*base, "--baseline", str(baseline), "--name", "c"], 0.1, tmp_path)
    assert slowed.returncode == 1
    assert "baseline tpot_ms.p50 REGRESSED" in slowed.stdout
    assert "tpot_ms.p50 regressed against the baseline" in slowed.stderr
    assert json.loads((tmp_path / "c.json").read_text())["baseline"]["regressed"]
    assert (tmp_path / "c.csv").read_text().startswith("index,label,warmup")


def test_the_sweep_command_prints_the_highest_rate_and_writes_its_table(tmp_path: Path) -> None:
    done = _script(["scripts/atlas-load-test.py", "sweep", "--url", "URL", "--rates", "4,8",
                    "--step-seconds", "1.5", "--warmup", "2", "--arrival", "poisson",
                    "--slo", "TTFT p99 <= 10 s, TPOT p99 <= 5 s", "--name", "sw"],
                   0.005, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "highest sustainable rate: 8 requests/s" in done.stdout
    assert "time per output token (TPOT) p50 / p90 / p95 / p99 / mean" in done.stdout
    figures = json.loads((tmp_path / "sw.json").read_text())
    assert figures["highest_sustainable_per_s"] == 8 and len(figures["steps"]) == 2
    assert (tmp_path / "sw.csv").is_file() and (tmp_path / "sw.png").stat().st_size > 1000


def test_a_queue_is_growing_only_when_many_requests_say_so() -> None:
    def run(latencies: list[float]) -> LoadResult:
        step = 6.0 / len(latencies)
        return LoadResult("open", [Sample(i, "x", i * step, latency, 200)
                                   for i, latency in enumerate(latencies)], 6.0)

    assert latency_growth(run([700.0, 900.0, 1300.0]), 6.0) == 0.0  # one request a third
    assert latency_growth(run([100.0] * 5 + [110.0] * 5 + [130.0] * 5), 6.0) == 0.0  # noise
    growing = latency_growth(run([100.0 + 400.0 * i for i in range(15)]), 6.0)
    assert growing > 0.5  # 2 s more in 4 s: half a second per second


def test_the_load_test_fails_a_run_whose_objectives_do_not_hold(tmp_path: Path) -> None:
    base = ["scripts/atlas-load-test.py", "--url", "URL", "--mix", "plain-stream", "--rate",
            "20", "--duration", "1", "--arrival", "gamma", "--burstiness", "0.5", "--warmup",
            "2", "--progress", "0", "--name", "s"]
    held = _script([*base, "--slo", "TTFT p99 <= 30 s, e2e <= 60 s"], 0.0, tmp_path)
    assert held.returncode == 0, held.stdout + held.stderr
    assert "SLO attainment (met all / offered)" in held.stdout and "100.0 %" in held.stdout
    assert "gamma (burstiness 0.5)" in held.stdout
    missed = _script([*base, "--slo", "e2e p50 <= 0.001 ms"], 0.0, tmp_path)
    assert missed.returncode == 1 and "SLO e2e p50 <= 0.001 ms missed" in missed.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["slo"]["attainment"] == 0.0 and summary["summary"]["warmup_requests"] == 2
    wrong = _script([*base, "--slo", "fast please"], 0.0, tmp_path)
    assert wrong.returncode == 2 and "not a service-level objective" in wrong.stderr
