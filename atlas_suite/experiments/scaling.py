"""Context scaling: ATLAS prompts of doubling length, the memory update's cost and the latency
fitted against the tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atlas_suite import routes
from atlas_suite.load_engine import LoadEngine
from atlas_suite.load_result import LoadResult, Sample
from atlas_suite.timing import (
    ScalingFit,
    doubling_lengths,
    scaling_design,
    scaling_fit,
    update_cost_key,
)
from atlas_suite.workloads import RequestSpec, Workload, varied_prompt

MAX_TOKENS = 4  # the completion after each prompt: the prompt is what is measured
HEADROOM = 0.9  # the tokenizer may count a little over the words' estimate
STATISTIC = "minimum of the repeats"  # noise on a shared machine only ever adds time


@dataclass
class ScalingResult:
    """The run, its points (one per answered request) and the two fits."""

    lengths: list[int]
    repeats: int
    points: list[dict[str, Any]]
    update_key: str  # update_cpu_ms when every answer reports it, else update_ms
    fits: dict[str, ScalingFit]  # "memory update" and "latency"
    result: LoadResult

    def figures(self) -> dict[str, Any]:
        return {"lengths": self.lengths, "repeats": self.repeats, "points": self.points,
                "fits": {name: fit.to_json() for name, fit in self.fits.items()},
                "memory_update_figure": self.update_key, "statistic": STATISTIC}

    def table(self) -> list[tuple[str, str]]:
        return [(f"{name} ({fit.y_is}): R², slope ratio, per-token ratio, per 1k tokens",
                 f"{fit.r2:.4f}, {fit.slope_ratio:.2f}, {fit.per_token_ratio:.2f}, "
                 f"{fit.per_1k_tokens_ms:.1f} ms") for name, fit in self.fits.items()]


def scaling_lengths(start: int, slot_tokens: int) -> list[int]:
    """start, 2 x start, ... up to what a slot of ``slot_tokens`` holds beside the answer."""
    return doubling_lengths(start, int((slot_tokens - MAX_TOKENS) * HEADROOM))


def scaling_workload(base_url: str, model: str, order: list[tuple[int, int]]) -> Workload:
    """Request i is repeat r of length n, ``order[i] == (r, n)``: a prompt of its own."""

    def make(i: int) -> RequestSpec:
        repeat, length = order[i]
        body = routes.completion_body(model, varied_prompt(length, 10_000 * repeat + length),
                                      max_tokens=MAX_TOKENS, atlas=routes.atlas_extension())
        return RequestSpec(base_url + routes.COMPLETIONS, body, label=str(length),
                           keep_payload=True)

    return make


def _point(sample: Sample) -> dict[str, Any]:
    atlas, usage = sample.atlas or {}, sample.payload.get("usage") or {}
    return {"length": int(sample.label), "prompt_tokens": usage.get("prompt_tokens"),
            "tokens_memorized": atlas.get("tokens_memorized"),
            "update_ms": atlas.get("memory_update_ms"),
            "update_cpu_ms": atlas.get("memory_update_cpu_ms"), "latency_ms": sample.latency_ms}


def fit_points(points: list[dict[str, Any]]) -> tuple[str, dict[str, ScalingFit]]:
    """The memory update's cost against the tokens memorised, and the latency against the
    prompt tokens, each per length at the minimum of its repeats."""
    key = update_cost_key(points)
    return key, {
        "memory update": scaling_fit("memory update", points, "length", "tokens_memorized", key),
        "latency": scaling_fit("latency", points, "length", "prompt_tokens", "latency_ms")}


def context_scaling(engine: LoadEngine, base_url: str, model: str, *, lengths: list[int],
                    repeats: int) -> ScalingResult:
    """Every length ``repeats`` times in a seeded shuffled order, one request at a time."""
    order = scaling_design(lengths, repeats)
    result = engine.closed_loop(scaling_workload(base_url, model, order), 1,
                                requests=len(order))
    points = [_point(s) for s in result.samples
              if s.ok and s.atlas and isinstance(s.payload, dict)]
    key, fits = fit_points(points)
    return ScalingResult(lengths, repeats, points, key, fits, result)
