"""The generic comparisons of a number in the response with a remembered one."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from atlas_suite.steplib import json_steps


def _context(body: Any, remembered: dict[str, Any]) -> Any:
    reply = SimpleNamespace(json=lambda: body)
    return SimpleNamespace(http=SimpleNamespace(last=reply), notes=dict(remembered))


@pytest.mark.parametrize(("step", "now", "before", "holds"), [
    (json_steps.step_greater_than_remembered, 5, 4, True),
    (json_steps.step_greater_than_remembered, 4, 4, False),
    (json_steps.step_less_than_remembered, 3, 4.5, True),
    (json_steps.step_less_than_remembered, 4.5, 4.5, False),
    (json_steps.step_at_least_remembered, 4, 4, True),
    (json_steps.step_at_least_remembered, 3, 4, False),
])
def test_a_number_compares_with_the_remembered_one(step: Any, now: Any, before: Any,
                                                  holds: bool) -> None:
    context = _context({"performance": {"requests_total": now}}, {"seen": before})
    if holds:
        step(context, "performance.requests_total", "seen")
    else:
        with pytest.raises(AssertionError, match="remembered"):
            step(context, "performance.requests_total", "seen")


def test_a_remembered_value_that_is_no_number_or_missing_says_so() -> None:
    context = _context({"n": 3}, {"name": "abc"})
    with pytest.raises(AssertionError, match='remembered "name" is .abc., not a number'):
        json_steps.step_greater_than_remembered(context, "n", "name")
    with pytest.raises(AssertionError, match='nothing was noted as "other"'):
        json_steps.step_at_least_remembered(context, "n", "other")
    with pytest.raises(AssertionError, match="true is not a number|expected a number"):
        json_steps.step_less_than_remembered(_context({"n": True}, {"name": 1}), "n", "name")
