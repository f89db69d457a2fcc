"""The timing verdicts on synthetic figures: a right server passes them, with noise and outliers
and on a machine slowed by other jobs; a wrong one (quadratic, +50 ms, slower every cycle,
serialised) fails them at the bounds the features use."""

from __future__ import annotations

import math
import random

import pytest

from atlas_suite.flake import FlakeTable, tag_filter, verdicts_from_behave_json
from atlas_suite.timing import (
    doubling_lengths,
    drift_ratio,
    generation_concurrency,
    paired_ratios,
    per_token_ratio,
    scaling_design,
    scaling_fit,
    tail_ratio,
    total_ratio,
    update_cost_key,
)

LENGTHS = doubling_lengths(64, 918)  # the CI row: 64 .. 918 tokens
UPDATE_BOUND, LATENCY_BOUND = 2.0, 5.0  # context_scaling.feature
SAME_SERVER_BOUND = 2.0  # overhead.feature
DRIFT_BOUND = 3.0  # persistence.feature


def _points(cost, repeats: int = 3, noise: float = 0.0, outliers: int = 0, seed: int = 1,
            slow_lengths: dict[int, float] | None = None) -> list[dict[str, float]]:
    """Repeats of each length in the scenario's shuffled order; ``noise`` multiplies each by up
    to 1 + noise, ``outliers`` random repeats are 3x (leaving one repeat of every length clean:
    the minimum of the repeats is there to discard the others), ``slow_lengths`` slows every
    repeat of a length (a busy moment that lasts)."""
    rng = random.Random(seed)
    order = scaling_design(LENGTHS, repeats)
    clean = {n: min(i for i, (_, m) in enumerate(order) if m == n) for n in LENGTHS}
    bad = set(rng.sample([i for i in range(len(order)) if i not in clean.values()], outliers))
    points = []
    for i, (_, n) in enumerate(order):
        factor = (1 + rng.random() * noise) * (3.0 if i in bad else 1.0)
        factor *= (slow_lengths or {}).get(n, 1.0)
        points.append({"length": n, "tokens": n + 4, "cost": cost(n + 4) * factor})
    return points


def _fit(points):
    return scaling_fit("update", points, "length", "tokens", "cost")


def linear(n: float) -> float:
    return 2.0 + 0.18 * n


def windowed(n: float) -> float:  # the reference: a window of 256 fills over the first tokens
    return 0.12 * n + 0.06 * min(n, 256)


def quadratic(n: float) -> float:  # a memory that re-reads the whole text at every update
    # the reference with that fault, CPU ms: 6.1, 15.2, 31.4, 104, 329 at 68 .. 923 tokens
    return 2.5 + 0.027 * n + 0.000357 * n * n


def test_lengths_double_up_to_the_top() -> None:
    assert LENGTHS == [64, 128, 256, 512, 918]
    assert max(LENGTHS) / min(LENGTHS) >= 8
    with pytest.raises(ValueError):
        doubling_lengths(64, 64)


def test_design_shuffles_every_repeat_of_every_length_once() -> None:
    order = scaling_design(LENGTHS, 3)
    assert sorted(order) == sorted((r, n) for r in range(3) for n in LENGTHS)
    assert order != sorted(order, key=lambda p: p[1])
    assert order == scaling_design(LENGTHS, 3)  # seeded


@pytest.mark.parametrize("cost", [linear, windowed])
def test_linear_costs_pass(cost) -> None:
    fit = _fit(_points(cost))
    assert fit.slope_ratio == pytest.approx(1.0, abs=0.35)
    assert fit.slope_ratio <= UPDATE_BOUND and fit.per_token_ratio <= LATENCY_BOUND
    assert fit.r2 > 0.99


def test_quadratic_cost_fails() -> None:
    fit = _fit(_points(quadratic))
    assert fit.slope_ratio > UPDATE_BOUND * 1.5
    assert fit.r2 > 0.95  # why R-squared alone cannot tell them apart
    latency = _fit(_points(lambda n: 0.05 * n * n))  # a latency quadratic in the length
    assert latency.per_token_ratio > 2 * LATENCY_BOUND


def test_noisy_linear_with_outliers_passes() -> None:
    for seed in range(50):
        fit = _fit(_points(linear, noise=0.3, outliers=6, seed=seed))
        assert fit.slope_ratio <= UPDATE_BOUND, (seed, fit.describe())
        assert fit.per_token_ratio <= LATENCY_BOUND, (seed, fit.describe())


def test_a_busy_stretch_on_the_longest_prompts_passes_the_per_token_ratio() -> None:
    # every repeat of the longest length 2x slower: per-token ratio still under its bound
    fit = scaling_fit("latency", _points(lambda n: 300 + 3.5 * n,
                                         slow_lengths={918: 2.0}), "length", "tokens", "cost")
    assert fit.per_token_ratio <= LATENCY_BOUND


def test_per_token_ratio_of_a_line_through_the_origin_is_one() -> None:
    assert per_token_ratio([10, 100], [5, 50]) == pytest.approx(1.0)
    assert per_token_ratio([10, 100], [0, 50]) == math.inf


def test_median_statistic_and_missing_figures() -> None:
    points = [{"length": 1, "tokens": 10, "cost": c} for c in (1, 2, 9)] + \
             [{"length": 2, "tokens": 20, "cost": c} for c in (2, 4, 18)] + \
             [{"length": 3, "tokens": 40, "cost": None}]
    fit = scaling_fit("x", points, "length", "tokens", "cost", statistic="median")
    assert fit.y == [2.0, 4.0] and fit.repeats == [3, 3]


def test_update_cost_prefers_cpu_time_and_falls_back_to_wall_time() -> None:
    assert update_cost_key([{"update_cpu_ms": 1.0, "update_ms": 2.0}]) == "update_cpu_ms"
    assert update_cost_key([{"update_cpu_ms": 1.0}, {"update_cpu_ms": None}]) == "update_ms"
    assert update_cost_key([]) == "update_ms"


def _pairs(extra_ms: float, slowdown, n: int = 150, seed: int = 3):
    rng = random.Random(seed)
    off, on = [], []
    for i in range(n):
        k = slowdown(i) * (1 + rng.random() * 0.2)
        base = 28.0 * k
        off.append(base * (1 + rng.random() * 0.1))
        on.append((base + 4.5 * k) * (1 + rng.random() * 0.1) + extra_ms)
    return off, on


def test_overhead_ratio_holds_on_a_busy_machine_where_the_difference_does_not() -> None:
    busy = _pairs(0.0, lambda i: 4.0)  # every request 4x slower
    comparison = paired_ratios(*busy)
    assert comparison.median_difference_ms > 10  # the absolute bound would fail a right server
    assert comparison.median_ratio <= SAME_SERVER_BOUND
    changing = paired_ratios(*_pairs(0.0, lambda i: 1.0 if (i // 20) % 2 else 3.0))
    assert changing.median_ratio <= SAME_SERVER_BOUND


@pytest.mark.parametrize("slowdown", [1.0, 1.5])
def test_fifty_ms_more_per_atlas_request_fails_the_ratio(slowdown: float) -> None:
    # 28 ms quiet, 42 ms with other jobs: 50 ms more stands out (the reference with that fault
    # measured 2.29 with a plain request at 75 ms, its extra wait queueing behind other work)
    comparison = paired_ratios(*_pairs(50.0, lambda i: slowdown))
    assert comparison.median_ratio > SAME_SERVER_BOUND


def test_paired_series_must_match() -> None:
    with pytest.raises(ValueError):
        paired_ratios([1.0], [1.0, 2.0])


def test_drift_ratio_steady_passes_and_slower_every_cycle_fails() -> None:
    rng = random.Random(5)
    steady = [5.0 * (1 + rng.random()) for _ in range(1000)]
    assert drift_ratio(steady, 100, 100) <= DRIFT_BOUND
    # the machine twice as slow at the end as at the start: still passes
    drifting = [5.0 * (1 + i / 1000) * (1 + rng.random() * 0.3) for i in range(1000)]
    assert drift_ratio(drifting, 100, 100) <= DRIFT_BOUND
    creeping = [5.0 + 1.0 * i for i in range(1000)]  # 1 ms more at every cycle
    assert drift_ratio(creeping, 100, 100) > 10 * DRIFT_BOUND / 2
    compounding = [5.0 * 1.01 ** i for i in range(1000)]
    assert drift_ratio(compounding, 100, 100) > DRIFT_BOUND
    with pytest.raises(ValueError):
        drift_ratio(steady[:150], 100, 100)


def test_tail_ratio_of_a_fair_closed_loop_and_of_a_starving_one() -> None:
    # 50 users x 2: the first wave waits 0..T, the second about T
    fair = [i / 50 * 10.0 for i in range(1, 51)] + [10.0] * 50
    assert tail_ratio(fair) < 1.5
    starving = [1.0] * 90 + [40.0] * 10  # a tenth of the requests wait for everyone else
    assert tail_ratio(starving) > 2.5
    assert math.isnan(tail_ratio([]))


def test_concurrency_counts_streams_side_by_side_whatever_the_speed() -> None:
    def slots(k: int, speed: float) -> list[tuple[float, float]]:
        # 100 streams through k slots, each generating for 0.2 s / speed
        d = 0.2 / speed
        return [((i // k) * d, (i // k) * d + d) for i in range(100)]

    assert generation_concurrency(slots(4, 1.0)) == pytest.approx(4.0)
    assert generation_concurrency(slots(4, 0.25)) == pytest.approx(4.0)
    serial = slots(1, 1.0)
    assert generation_concurrency(serial) == pytest.approx(1.0)
    jitter = [(s, e + 0.01) for s, e in serial]  # the client reads the last byte a bit late
    assert generation_concurrency(jitter) < 1.1
    assert math.isnan(generation_concurrency([]))


def test_flake_table_lists_changed_verdicts() -> None:
    report = [{"elements": [
        {"type": "scenario", "location": "a.feature:3", "name": "A", "status": "passed"},
        {"type": "scenario", "location": "a.feature:9", "name": "B", "status": "failed"},
        {"type": "scenario", "location": "a.feature:20", "name": "C", "status": "skipped",
         "tags": ["other"]},
        {"type": "background", "name": "bg"}], "tags": ["timing"]}]
    assert len(verdicts_from_behave_json(report)) == 3
    first = verdicts_from_behave_json(report, tag_filter("@timing and not @other"))
    assert first == {"a.feature  A": "passed", "a.feature  B": "failed"}
    table = FlakeTable()
    table.add_run(first, 10)
    table.add_run({"a.feature  A": "failed", "a.feature  B": "failed"}, 12)
    assert table.changed() == ["a.feature  A"]
    assert table.always_failed() == ["a.feature  B"]
    text = table.render()
    assert "Verdict changed between runs" in text and "| a.feature  A | passed | failed |" \
        in text
    assert table.to_json()["changed"] == ["a.feature  A"]


def test_total_ratio_of_coarse_cpu_ticks() -> None:
    rng = random.Random(9)
    # 4 ms of CPU a cycle, read in 10 ms ticks: each cycle reads 0 or 10, the sums still agree
    steady, clock = [], 0.0
    for _ in range(1000):
        before = math.floor(clock / 10) * 10
        clock += 4.0 * (1 + rng.random() * 0.1)
        steady.append(math.floor(clock / 10) * 10 - before)
    assert total_ratio(steady, 100, 100) == pytest.approx(1.0, abs=0.15)
    growing = [4.0 + 0.05 * i for i in range(1000)]  # a digest over everything saved so far
    assert total_ratio(growing, 100, 100) > 2 * 3.0  # the bound in persistence.feature
    with pytest.raises(ValueError):
        total_ratio(steady[:10], 100, 100)
