"""The engine spread over worker processes, and its ceiling self-test, against the trivial
server (structure and counts only: no bound here is a time)."""

from __future__ import annotations

from atlas_suite import routes
from atlas_suite.calibration import (
    measure_engine_ceiling,
    server_gaps_ms,
    server_jitter,
    timing_errors,
    trivial_server,
)
from atlas_suite.load_engine import LoadEngine
from atlas_suite.load_processes import closed_loop_processes, shares
from atlas_suite.load_result import LoadResult, Sample
from atlas_suite.workloads import RequestSpec, cycling


def result_of(*samples: Sample) -> LoadResult:
    return LoadResult("closed", list(samples), duration_s=1.0)


def test_shares_split_evenly() -> None:
    assert shares(7, 3) == [3, 2, 2] and shares(2, 4) == [1, 1, 0, 0] and sum(shares(9, 2)) == 9


def test_users_spread_over_two_processes_give_one_result() -> None:
    with trivial_server() as server:
        spec = RequestSpec(server.url + routes.COMPLETIONS, {"prompt": "x"}, label="t")
        result = closed_loop_processes([spec], 4, requests=10, processes=2, timeout_s=30)
        assert server.requests == 10
    assert len(result.samples) == 10 and not result.failed and result.users == 4
    assert min(s.sent_s for s in result.samples) >= 0.0 and result.duration_s > 0


def test_the_ceiling_is_the_highest_rate_within_the_tolerance() -> None:
    easy = measure_engine_ceiling(interval_ms=20.0, tokens=4, streams=(1, 2),
                                  tolerance_ms=10_000.0, max_processes=2)
    assert [r["streams"] for r in easy["steps"]] == [1, 2]
    assert easy["ceiling_chunks_per_s"] == 100.0 and easy["processes_used"] == 1
    assert all(r["gaps"] == 3 * 2 * r["streams"] for r in easy["steps"])  # 3 gaps, 2 streams each


def test_a_step_outside_the_tolerance_is_tried_again_over_more_processes() -> None:
    never = measure_engine_ceiling(interval_ms=20.0, tokens=3, streams=(2, 4),
                                   tolerance_ms=-1.0, max_processes=2)
    assert [(r["streams"], r["processes"], r["within"]) for r in never["steps"]] == \
        [(2, 1, False), (2, 2, False)]
    assert never["ceiling_chunks_per_s"] == 0.0


def test_the_engine_is_judged_against_the_gaps_the_server_really_sent() -> None:
    # the server was 5 ms late on its second chunk: the engine saw it so, and is not to blame
    stamped = Sample(0, "stream", 0.0, latency_ms=40.0, itl_ms=[15.2, 5.1])
    stamped.payload = [{"sent": 1.000}, {"sent": 1.015}, {"sent": 1.020}]
    assert [round(e, 3) for e in timing_errors(result_of(stamped), 10.0)] == [0.2, 0.1]
    assert [round(e, 3) for e in server_jitter(result_of(stamped), 10.0)] == [5.0, 5.0]
    unstamped = Sample(1, "stream", 0.0, latency_ms=40.0, itl_ms=[15.2, 5.1])
    assert [round(e, 3) for e in timing_errors(result_of(unstamped), 10.0)] == [5.2, 4.9]


def test_a_kept_stream_holds_its_events_with_the_servers_send_times() -> None:
    with trivial_server(tokens=3, interval_s=0.005) as server:
        spec = RequestSpec(server.url + routes.COMPLETIONS, {"prompt": "x", "stream": True},
                           keep_payload=True)
        result = LoadEngine().closed_loop(cycling(spec), 1, requests=1)
    (sample,) = result.succeeded
    assert len(sample.payload) == 3 and len(server_gaps_ms(sample.payload)) == 2
    assert all(gap > 0 for gap in server_gaps_ms(sample.payload))
