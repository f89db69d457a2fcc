"""Verdicts on timing that hold on a busy machine: experiment designs and robust statistics.

A shared 2-core machine slows any moment down by a factor nobody controls (1x quiet, 2-4x while
other jobs run). A verdict may therefore never rest on one absolute wall-clock figure; each
function here compares figures measured side by side in the same run, counts work, or uses
CPU time, and says in its docstring how a correct server and a wrong one score:

* ``scaling_design`` / ``scaling_fit``: cost against context length, lengths doubling over a
  wide span, repeats shuffled (seeded) so that a slow moment hits random lengths, the minimum
  of the repeats per length (noise only adds time). Linearity is judged by the **slope
  ratio** (the cost of one more token over the longer half of the lengths against the shorter
  half: 1 for any straight line, the span's half-ratio for a quadratic) and the **per-token
  ratio** (cost per token at the longest length against the shortest: at most 1 for a
  straight line with a fixed part, the span for a quadratic).
* ``paired_ratios``: interleaved pairs (A B, B A, ...); per pair B / A. A slow moment slows
  both members alike, so the ratio survives what the difference does not.
* ``drift_ratio``: the median of the last cycles against the first; ``total_ratio`` and
  ``process_cpu_clock``: the server's CPU time over the last cycles against the first.
* ``tail_ratio``: a high percentile against the mean of the same run (a fair queue keeps it
  near 1.3 at any speed).
* ``generation_concurrency``: how many streams produced tokens at the same time, averaged
  over time: a count, whatever the machine's speed (a server that serialises requests: 1).
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from atlas_suite.stats import linear_fit, percentile, slope_ratio


# -- context scaling -----------------------------------------------------------------------------
def doubling_lengths(start: int, top: int) -> list[int]:
    """start, 2 x start, ... below ``top``, then ``top``."""
    if start < 1 or top <= start:
        raise ValueError(f"lengths need 1 <= start < top, not {start} and {top}")
    lengths, n = [], start
    while n < top:
        lengths.append(n)
        n *= 2
    lengths.append(top)
    return lengths


def scaling_design(lengths: Sequence[int], repeats: int, seed: int = 7) -> list[tuple[int, int]]:
    """Every (repeat, length) once, in a seeded shuffled order: a slow stretch of the machine
    lands on random lengths instead of on the longest ones, which come last in a sorted run."""
    order = [(r, length) for r in range(repeats) for length in lengths]
    random.Random(seed).shuffle(order)
    return order


def per_token_ratio(x: Sequence[float], y: Sequence[float]) -> float:
    """(y / x at the largest x) / (y / x at the smallest x): cost per token at the longest
    length against the shortest. A straight line through the origin gives 1, one with a fixed
    part (an intercept) less than 1, a quadratic about x_max / x_min; infinite when the
    shortest costs nothing."""
    if len(x) < 2:
        return math.nan
    pairs = sorted(zip(x, y, strict=True))
    (x0, y0), (x1, y1) = pairs[0], pairs[-1]
    if x0 <= 0 or x1 <= 0:
        return math.nan
    return (y1 / x1) / (y0 / x0) if y0 > 0 else math.inf


@dataclass(frozen=True)
class ScalingFit:
    """One cost fitted against the tokens; ``y`` is the per-length statistic of the repeats."""

    name: str
    x_is: str
    y_is: str
    x: list[float]
    y: list[float]
    repeats: list[int]
    statistic: str
    slope: float
    intercept: float
    r2: float
    slope_ratio: float
    per_token_ratio: float

    @property
    def per_1k_tokens_ms(self) -> float:
        return self.slope * 1000.0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "per_1k_tokens_ms": self.per_1k_tokens_ms}

    def describe(self) -> str:
        points = ", ".join(f"{a:g}: {b:.1f}" for a, b in zip(self.x, self.y, strict=True))
        return f"{self.y_is} ({self.statistic}) by {self.x_is}: {points}"


def scaling_fit(name: str, points: Iterable[dict[str, Any]], group: str, x_key: str,
                y_key: str, statistic: str = "min") -> ScalingFit:
    """Group ``points`` by ``group`` (the asked length); per group x is the smallest ``x_key``
    and y the ``statistic`` ("min" or "median") of ``y_key``; fit a line and the two ratios."""
    groups: dict[Any, list[dict[str, Any]]] = {}
    for point in points:
        if point.get(y_key) is not None and point.get(x_key) is not None:
            groups.setdefault(point[group], []).append(point)
    pick = min if statistic == "min" else statistics.median
    xs, ys, counts = [], [], []
    for _, members in sorted(groups.items()):
        xs.append(float(min(p[x_key] for p in members)))
        ys.append(float(pick([float(p[y_key]) for p in members])))
        counts.append(len(members))
    fit = linear_fit(xs, ys) if len(xs) >= 2 else {"slope": math.nan, "intercept": math.nan,
                                                   "r2": math.nan}
    return ScalingFit(name, x_key, y_key, xs, ys, counts,
                      f"{statistic} of the repeats per length", fit["slope"],
                      fit["intercept"], fit["r2"],
                      slope_ratio(xs, ys) if len(xs) >= 3 else math.nan,
                      per_token_ratio(xs, ys))


def update_cost_key(points: Sequence[dict[str, Any]]) -> str:
    """The memory update's cost figure: ``update_cpu_ms`` (the server's optional
    ``atlas.memory_update_cpu_ms``, thread CPU time, which other jobs on the machine barely
    move) when every point carries it, else the wall-clock ``update_ms``."""
    if points and all(isinstance(p.get("update_cpu_ms"), (int, float)) for p in points):
        return "update_cpu_ms"
    return "update_ms"


# -- paired comparisons ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PairedComparison:
    """Interleaved pairs of the same request, B against A (ATLAS on against off)."""

    pairs: int
    median_difference_ms: float  # median of B - A per pair
    median_ratio: float  # median of B / A per pair
    a_p50_ms: float
    b_p50_ms: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def paired_ratios(a: Sequence[float], b: Sequence[float]) -> PairedComparison:
    """Per pair B - A and B / A, and their medians. A moment that makes the machine k times
    slower makes both members k times slower: the ratio stays, the difference is multiplied."""
    if len(a) != len(b):
        raise ValueError("both series need one value per pair")
    diffs = [y - x for x, y in zip(a, b, strict=True)]
    ratios = [y / x for x, y in zip(a, b, strict=True) if x > 0]
    return PairedComparison(len(diffs), percentile(diffs, 50), percentile(ratios, 50),
                            percentile(a, 50), percentile(b, 50))


# -- drift, tails, concurrency -------------------------------------------------------------------
def drift_ratio(series: Sequence[float], first: int, last: int) -> float:
    """Median of the last ``last`` values over the median of the first ``first``."""
    if len(series) < first + last:
        raise ValueError(f"{len(series)} values, fewer than the {first} + {last} compared")
    head, tail = percentile(series[:first], 50), percentile(series[-last:], 50)
    return tail / head if head > 0 else math.inf


def total_ratio(series: Sequence[float], first: int, last: int) -> float:
    """Sum of the last ``last`` values over the sum of the first ``first`` (for coarse figures,
    such as CPU times read in clock ticks, that only add up over many values)."""
    if len(series) < first + last:
        raise ValueError(f"{len(series)} values, fewer than the {first} + {last} compared")
    head, tail = sum(series[:first]) / first, sum(series[-last:]) / last
    return tail / head if head > 0 else math.inf


def process_cpu_clock(pid: int | None) -> Callable[[], float | None]:
    """A function answering the CPU time (user + system, children included, in ms) the process
    has used so far, or None when the process cannot be read (a server the suite did not start).
    The kernel counts it in clock ticks (10 ms): difference it over many operations."""
    import psutil

    try:
        process = psutil.Process(pid) if pid is not None else None
    except psutil.Error:
        process = None

    def read() -> float | None:
        if process is None:
            return None
        try:
            t = process.cpu_times()
        except psutil.Error:
            return None
        return (t.user + t.system + t.children_user + t.children_system) * 1000.0

    return read


def tail_ratio(values: Sequence[float], q: float = 95) -> float:
    """The q-th percentile over the mean of the same values (NaN when empty)."""
    if not values:
        return math.nan
    mean = sum(values) / len(values)
    return percentile(values, q) / mean if mean > 0 else math.inf


def generation_concurrency(intervals: Iterable[tuple[float, float]]) -> float:
    """Streams producing tokens at once, averaged over the time any of them did: the summed
    length of the intervals (first token to last byte) over the length of their union. One
    stream at a time gives 1 whatever the speed; four slots decoding together give about 4."""
    spans = sorted((s, e) for s, e in intervals if e > s)
    if not spans:
        return math.nan
    total = sum(e - s for s, e in spans)
    union, (cur_s, cur_e) = 0.0, spans[0]
    for s, e in spans[1:]:
        if s > cur_e:
            union += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    union += cur_e - cur_s
    return total / union if union > 0 else math.nan
