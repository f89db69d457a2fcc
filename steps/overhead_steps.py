"""ATLAS overhead: the same completion with ATLAS on and off, in interleaved pairs, compared pair
by pair. The experiment is ``atlas_suite.experiments.overhead``."""

from __future__ import annotations

import collections
from typing import Any

from behave import then, when
from hamcrest import assert_that, equal_to, less_than

from atlas_suite.experiments.overhead import OverheadResult, overhead_pairs
from atlas_suite.plots import plot_pairs
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.load_support import (
    attach_table,
    engine,
    load_result,
    monitor,
    outcome,
    publish_run,
    record_check,
)
from atlas_suite.steplib.support import api, current_server, skips_when_unsupported, use_server
from atlas_suite.timing import paired_ratios

DOMAIN = "load"

SAME_SERVER = "the same server without the atlas object"
PLAIN_SERVER = "a plain server started without ATLAS"


def _baseline_url(context: Any, baseline: str) -> str:
    """Where the ATLAS-off member of each pair goes; a plain server serves the same model."""
    server = current_server(context)
    if baseline == SAME_SERVER:
        return server.base_url
    if baseline != PLAIN_SERVER:
        raise AssertionError(f'unknown baseline "{baseline}": say "{SAME_SERVER}" or '
                             f'"{PLAIN_SERVER}"')
    model = api(context).model_id()
    plain = use_server(context, context.pool.get(server.config.with_(atlas=False)))
    plain_model = api(context).model_id()
    use_server(context, server)
    assert_that(plain_model, equal_to(model), "both servers must serve the same model")
    return plain.base_url


@when("I send {pairs:Int} interleaved pairs of the same {tokens:Int}-token completion, with "
      "ATLAS and against {baseline}")
@skips_when_unsupported
def step_overhead_pairs(context: Any, pairs: int, tokens: int, baseline: str) -> None:
    """One request at a time: pairs of the same completion with ATLAS on and, as the baseline,
    either "the same server without the atlas object" or "a plain server started without
    ATLAS"; the order inside a pair alternates. 10 warm-up pairs are not counted."""
    off_url = _baseline_url(context, baseline)
    with monitor(context) as watched:
        paired = overhead_pairs(engine(context), on_url=current_server(context).base_url,
                                off_url=off_url, model=api(context).model_id(), pairs=pairs,
                                tokens=tokens)
    publish_run(context, f"ATLAS overhead against {baseline}",
                {"baseline": baseline, "max_tokens": tokens, **paired.figures(),
                 "resources": watched.summary()},
                lambda path: plot_pairs(path, f"ATLAS on vs off ({baseline})",
                                        ("ATLAS off", "ATLAS on"), paired.off_ms, paired.on_ms,
                                        paired.diff_ms, paired.paired_median_ms),
                result=paired.result, monitor=watched, outcome=paired)
    attach_table(context, "overhead", paired.table())


@then("every paired request succeeded")
def step_pairs_ok(context: Any) -> None:
    """Both members of every pair were answered with success."""
    paired = outcome(context, OverheadResult)
    complete, sent = paired.pairs_complete, paired.pairs_sent
    record_check(context, "complete pairs", complete, sent, complete == sent)
    failures = collections.Counter(f"{s.status} {s.error}" for s in load_result(context).failed)
    assert_that(complete, equal_to(sent), f"incomplete pairs; failures: {dict(failures)}")


@then("the median of the paired ratios is at most {ratio:Number}")
def step_paired_ratio(context: Any, ratio: float) -> None:
    """ATLAS on / ATLAS off, per pair; the median of those ratios is at most ``ratio``. The
    median of the differences, in ms, is reported beside it."""
    paired = outcome(context, OverheadResult)
    comparison = paired_ratios(paired.off_ms, paired.on_ms)
    record_check(context, "median paired ratio (ATLAS on / off)", comparison.median_ratio,
                 ratio, comparison.median_ratio <= ratio)
    record_check(context, "median paired difference (ms), reported",
                 comparison.median_difference_ms, None, True)
    assert_that(comparison.median_ratio <= ratio, equal_to(True),
                f"with ATLAS the median pair took {comparison.median_ratio:.2f} times as long "
                f"({comparison.median_difference_ms:.1f} ms more; p50 {comparison.a_p50_ms:.1f}"
                f" ms off, {comparison.b_p50_ms:.1f} ms on), expected at most {ratio}")


@then("the median of the paired differences is under {ms:Number} ms")
def step_paired_median(context: Any, ms: float) -> None:
    """ATLAS on minus ATLAS off, per pair; the median of those differences is under ``ms``."""
    value = outcome(context, OverheadResult).paired_median_ms
    record_check(context, "median paired difference (ms)", value, ms, value < ms)
    assert_that(value, less_than(ms), "ATLAS overhead: median of the paired differences, ms")


__all__ = [name for name in dir() if name.startswith("step_")]
