"""Context scaling: the memory update's cost and the latency against the prompt's length. The
experiment is ``atlas_suite.experiments.scaling``."""

from __future__ import annotations

from typing import Any

from behave import given, then, when
from hamcrest import assert_that, equal_to

from atlas_suite.experiments.scaling import ScalingResult, context_scaling, scaling_lengths
from atlas_suite.plots import plot_xy
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.load_support import (
    attach_table,
    engine,
    monitor,
    outcome,
    publish_run,
    record_check,
)
from atlas_suite.steplib.support import (
    api,
    current_server,
    noted,
    notes,
    skips_when_unsupported,
    use_server,
)
from atlas_suite.timing import ScalingFit

DOMAIN = "load"

FIGURES = {"memory update time": "memory update", "memory update cost": "memory update",
           "latency": "latency"}


@given("an ATLAS server with {slots:Int} slots of {tokens:Int} tokens of context")
@skips_when_unsupported
def step_context_server(context: Any, slots: int, tokens: int) -> None:
    """A server started with ``-np SLOTS -c SLOTS*TOKENS`` (llama.cpp splits the context among
    the slots); with 4 slots of 1024 it is the default server."""
    config = context.pool.default_config.with_(parallel=slots, ctx_size=slots * tokens)
    use_server(context, context.pool.get(config))
    notes(context)["slot_tokens"] = tokens


def _plot(result: ScalingResult) -> Any:
    update, latency = result.fits["memory update"], result.fits["latency"]
    label = f"memory update ({result.update_key})"
    return lambda path: plot_xy(
        path, "context scaling: minimum per length",
        {label: (update.x, update.y), "latency (ms)": (latency.x, latency.y)},
        xlabel="tokens", ylabel="ms",
        fits={label: update.to_json(), "latency (ms)": latency.to_json()}, separate=True)


@when("ATLAS prompts doubling from {start:Int} tokens up to the slot's context are each sent "
      "{repeats:Int} times")
def step_scaling(context: Any, start: int, repeats: int) -> None:
    """Prompts of start, 2 x start, ... tokens, up to the slot's context less the completion
    (4 tokens), every length ``repeats`` times in a shuffled order (seeded), one at a time.
    Fitted against the tokens the answer reports: the memory update's cost (the answer's
    ``atlas.memory_update_cpu_ms`` when every answer has it, else ``atlas.memory_update_ms``)
    against ``atlas.tokens_memorized``, and the latency against ``usage.prompt_tokens``; per
    length the minimum of the repeats (noise on a shared machine only ever adds time)."""
    lengths = scaling_lengths(start, int(noted(context, "slot_tokens")))
    with monitor(context) as watched:
        result = context_scaling(engine(context), current_server(context).base_url,
                                 api(context).model_id(), lengths=lengths, repeats=repeats)
    publish_run(context, f"ATLAS prompts of {lengths[0]} to {lengths[-1]} tokens, {repeats} "
                         "times each",
                {**result.result.to_json(), **result.figures(), "resources": watched.to_json()},
                _plot(result), result=result.result, monitor=watched, outcome=result)
    attach_table(context, "context scaling", result.table())


def _fit(context: Any, what: str) -> ScalingFit:
    assert what in FIGURES, f'say "memory update time" or "latency", not "{what}"'
    return outcome(context, ScalingResult).fits[FIGURES[what]]


@then("the {what} grows linearly with the length: R-squared at least {r2:Number}, slope ratio "
      "at most {ratio:Number}")
def step_linear(context: Any, what: str, r2: float, ratio: float) -> None:
    """``what`` is "memory update time" or "latency": the straight-line fit of its per-length
    minimum explains at least ``r2`` of the variance, and the slope over the longer half of the
    lengths is at most ``ratio`` times the slope over the shorter half. Absolute enough to
    belong to a dedicated machine (``@hardware``); the default run uses the next two steps."""
    fit = _fit(context, what)
    record_check(context, f"{what} R²", fit.r2, r2, fit.r2 >= r2)
    record_check(context, f"{what} slope ratio", fit.slope_ratio, ratio, fit.slope_ratio <= ratio)
    assert_that(fit.r2 >= r2, equal_to(True), f"{what}: R² {fit.r2:.4f} < {r2} "
                                              f"({fit.describe()})")
    assert_that(fit.slope_ratio <= ratio, equal_to(True),
                f"{what}: slope ratio {fit.slope_ratio:.2f} > {ratio} ({fit.describe()})")


@then("the memory update cost grows linearly with the length: slope ratio at most "
      "{ratio:Number}")
def step_update_slope_ratio(context: Any, ratio: float) -> None:
    """The memory update's cost for one more token, over the longer half of the lengths
    against the shorter half, is at most ``ratio`` (1 for any straight line). The cost is its
    CPU time when the server reports ``atlas.memory_update_cpu_ms``, else its wall time."""
    fit = _fit(context, "memory update cost")
    record_check(context, f"memory update slope ratio ({fit.y_is})", fit.slope_ratio, ratio,
                 fit.slope_ratio <= ratio)
    assert_that(fit.slope_ratio <= ratio, equal_to(True),
                f"each added token cost the memory update {fit.slope_ratio:.2f} times more "
                f"over the longer prompts than over the shorter ones, expected at most "
                f"{ratio} ({fit.describe()})")


@then("the latency per token at the longest prompt is at most {ratio:Number} times that at "
      "the shortest")
def step_latency_per_token(context: Any, ratio: float) -> None:
    """Latency / prompt tokens at the longest prompt against the shortest (minimum of the
    repeats): at most 1 for a straight line with a fixed part, the span for a quadratic."""
    fit = _fit(context, "latency")
    record_check(context, "latency per-token ratio", fit.per_token_ratio, ratio,
                 fit.per_token_ratio <= ratio)
    assert_that(fit.per_token_ratio <= ratio, equal_to(True),
                f"a token of the longest prompt took {fit.per_token_ratio:.2f} times as long "
                f"as one of the shortest, expected at most {ratio} ({fit.describe()})")


__all__ = [name for name in dir() if name.startswith("step_")]
