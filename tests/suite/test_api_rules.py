"""The arithmetic behind the API edge scenarios: window sizes, token counts, metric readings."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from atlas_suite import api_rules
from atlas_suite.api_rules import WindowSize
from atlas_suite.targets import Unsupported


@pytest.mark.parametrize(("text", "ctx", "expected"), [
    ("1", 4096, 1), ("0", None, 0), ("the context size", 4096, 4096),
    ("the context size + 1", 4096, 4097), ("the context size - 1", 2048, 2047),
])
def test_window_sizes_resolve_against_the_context(text: str, ctx: int | None,
                                                   expected: int) -> None:
    assert WindowSize.parse(text).resolve(ctx) == expected


def test_a_relative_window_needs_a_known_context() -> None:
    with pytest.raises(LookupError, match="context size"):
        WindowSize.parse("the context size + 1").resolve(None)


def _answer(memorized: int, prompt: int = 50, completion: int = 16) -> dict:
    return {"usage": {"prompt_tokens": prompt, "completion_tokens": completion},
            "atlas": {"tokens_memorized": memorized}}


@pytest.mark.parametrize("memorized", [66, 65, 62, 58])
def test_counting_prompt_and_completion_passes(memorized: int) -> None:
    assert api_rules.tokens_counted_problem(_answer(memorized)) is None


@pytest.mark.parametrize(("memorized", "what"), [
    (49, "the prompt alone"), (16, "the completion alone"), (500, "the memory's total"),
    (57, "less than half the completion"),
])
def test_counting_one_part_or_the_total_fails(memorized: int, what: str) -> None:
    problem = api_rules.tokens_counted_problem(_answer(memorized))
    assert problem is not None and "between 58 and 66" in problem, what


def test_a_completion_too_short_to_judge_is_reported() -> None:
    assert "too few" in (api_rules.tokens_counted_problem(_answer(52, completion=2)) or "")


def test_metric_values_read_absent_labels_as_zero() -> None:
    document = {"requests": {"by_status": {"200": 3}}, "errors": {"total": 2}}
    assert api_rules.metric_value(document, "requests.by_status.'200'") == 3
    assert api_rules.metric_value(document, "requests.by_status.'400'") == 0
    with pytest.raises(AssertionError, match="nothing at"):
        api_rules.metric_value(document, "memory.saves")


def test_growth_is_the_difference_across_the_action() -> None:
    counter = {"n": 5}
    assert api_rules.growth(lambda: counter["n"], lambda: counter.update(n=8)) == 3


def _exposition() -> str:
    registry = CollectorRegistry()
    requests = Counter("atlas_requests", "by status", ["status"], registry=registry)
    Counter("atlas_errors", "by type", ["type"], registry=registry)
    Gauge("atlas_memory_updates", "updates", registry=registry).set(7)
    requests.labels(status="200").inc(4)
    return generate_latest(registry).decode()


def test_prometheus_samples_are_read_with_their_labels() -> None:
    text = _exposition()
    assert api_rules.prometheus_value(text, 'atlas_requests_total{status="200"}') == 4
    assert api_rules.prometheus_value(text, "atlas_memory_updates") == 7
    # a labelled counter that has not counted this label yet reads 0
    assert api_rules.prometheus_value(text, 'atlas_requests_total{status="400"}') == 0
    assert api_rules.prometheus_value(text, 'atlas_errors_total{type="server_error"}') == 0
    with pytest.raises(Unsupported, match="no Prometheus metric"):
        api_rules.prometheus_value(text, "atlas_missing")


def test_a_median_in_milliseconds_passes_and_one_in_seconds_fails() -> None:
    timed = [310.0, 290.0, 305.0, 330.0]
    assert api_rules.latency_problem({"p50": 300.2}, timed) is None
    assert "between 29.0 and 331.0" in (api_rules.latency_problem({"p50": 0.3}, timed) or "")
    assert api_rules.latency_problem({"p50": None}, timed) is not None


def test_a_prometheus_metric_the_server_names_otherwise_is_not_claimed() -> None:
    text = "# TYPE other_requests_total counter\nother_requests_total 3\n"
    with pytest.raises(Unsupported, match="no Prometheus metric"):
        api_rules.prometheus_value(text, "atlas_requests_total")
    with pytest.raises(AssertionError, match="no Prometheus sample"):
        api_rules.prometheus_value(text + "atlas_requests_total 1\n",
                                   'atlas_requests_total{kind="x"}')
