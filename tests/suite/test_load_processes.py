"""The engine spread over worker processes, and its ceiling self-test, against the trivial
server (structure and counts only: no bound here is a time)."""

from __future__ import annotations

from atlas_suite import routes
from atlas_suite.calibration import measure_engine_ceiling, trivial_server
from atlas_suite.load_processes import closed_loop_processes, shares
from atlas_suite.workloads import RequestSpec


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
