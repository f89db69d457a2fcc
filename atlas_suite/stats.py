"""Statistics the load figures are made of: percentiles, distributions, straight-line fits.

Percentiles are ``numpy.percentile(values, q, method="linear")``: Hyndman and Fan's definition 7
(the default of NumPy, R and Excel's PERCENTILE.INC). For sorted values x[0..n-1] the q-th
percentile is x[k] + f * (x[k+1] - x[k]) with h = (n - 1) * q / 100, k = floor(h), f = h - k. It
interpolates between two observations, so p99 of 100 samples lies between the 99th and the 100th
largest, never beyond the maximum. The server's own ``/v1/atlas/metrics`` uses the same method.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

PERCENTILE_METHOD = "linear"
PERCENTILES = (50, 90, 95, 99)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by ``numpy.percentile(method="linear")``; NaN when empty."""
    if len(values) == 0:
        return math.nan
    return float(np.percentile(np.asarray(values, dtype=float), q, method=PERCENTILE_METHOD))


def distribution(values: Sequence[float]) -> dict[str, float | int | None]:
    """count, mean, min, p50, p90, p95, p99 and max of ``values`` (None for each when empty)."""
    if len(values) == 0:
        return {"count": 0, "mean": None, "min": None,
                **{f"p{q}": None for q in PERCENTILES}, "max": None}
    array = np.asarray(values, dtype=float)
    points = np.percentile(array, PERCENTILES, method=PERCENTILE_METHOD)
    return {"count": int(array.size), "mean": float(array.mean()), "min": float(array.min()),
            **{f"p{q}": float(v) for q, v in zip(PERCENTILES, points, strict=True)},
            "max": float(array.max())}


def linear_fit(x: Sequence[float], y: Sequence[float]) -> dict[str, float]:
    """Least squares y = intercept + slope * x, with R² (1 - SS_res / SS_tot)."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.size < 2 or np.ptp(xs) == 0:
        return {"slope": math.nan, "intercept": math.nan, "r2": math.nan}
    slope, intercept = np.polyfit(xs, ys, 1)
    residual = ys - (intercept + slope * xs)
    total = float(((ys - ys.mean()) ** 2).sum())
    r2 = 1.0 - float((residual ** 2).sum()) / total if total > 0 else 1.0
    return {"slope": float(slope), "intercept": float(intercept), "r2": r2}


def slope_ratio(x: Sequence[float], y: Sequence[float]) -> float:
    """Slope fitted over the longer half of the x values / slope over the shorter half (the
    middle value in both): 1 for a straight line, about 4 for a quadratic on doubling x, and
    infinite when the shorter half does not rise at all."""
    order = sorted(set(x))
    if len(order) < 3:
        return math.nan
    middle = order[len(order) // 2]
    low = [(a, b) for a, b in zip(x, y, strict=True) if a <= middle]
    high = [(a, b) for a, b in zip(x, y, strict=True) if a >= middle]
    lo = linear_fit([a for a, _ in low], [b for _, b in low])["slope"]
    hi = linear_fit([a for a, _ in high], [b for _, b in high])["slope"]
    return hi / lo if lo > 0 else math.inf
