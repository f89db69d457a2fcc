"""Baselines: a run's figures saved to a file, and a later run compared with them.

A baseline file (JSON) holds the target it was measured against, when, and the run's whole
``LoadResult.summary()``. ``compare`` puts the chosen figures of both runs side by side and
marks a figure regressed when it got worse by more than the tolerance: a latency figure
(``*_ms``) that rose, a rate (``*_per_s``) that fell. This is how a team notices that a
release got slower; against the same server a comparison passes within its tolerance.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas_suite.load_result import figure

DEFAULT_FIGURES = ("ttft_ms.p99", "tpot_ms.p99", "itl_ms.p99", "latency_ms.p50",
                   "latency_ms.p99", "requests_per_s", "output_tokens_per_s")
FORMAT = "atlas-load-baseline/1"


def save_baseline(path: Path, summary: dict[str, Any], *, target: str,
                  what: str = "") -> Path:
    """Write a run's figures as a baseline file for ``target`` (a URL, a label)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"format": FORMAT, "target": target, "what": what,
                                "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                "summary": summary}, indent=2, default=str) + "\n")
    return path


def load_baseline(path: Path) -> dict[str, Any]:
    """A baseline file, checked to be one."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"no baseline file at {path}: save one first (--save-baseline)") from None
    except ValueError as exc:
        raise ValueError(f"{path} is not a baseline file: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or "summary" not in data:
        raise ValueError(f"{path} is not a baseline file (format {FORMAT} expected)")
    return data


def higher_is_worse(name: str) -> bool:
    """Latency figures get worse as they rise; rates (``*_per_s``) as they fall."""
    return "_per_s" not in name.partition(".")[0]


@dataclass(frozen=True)
class FigureChange:
    name: str
    baseline: float | None
    now: float | None
    tolerance_pct: float

    @property
    def change_pct(self) -> float | None:
        """How much worse (+) or better (-) the figure is now, in percent of the baseline."""
        if self.baseline is None or self.now is None or self.baseline == 0:
            return None
        change = 100.0 * (self.now - self.baseline) / abs(self.baseline)
        return change if higher_is_worse(self.name) else -change

    @property
    def regressed(self) -> bool:
        change = self.change_pct
        return change is not None and change > self.tolerance_pct


@dataclass
class Comparison:
    """The chosen figures of a baseline and of this run, side by side."""

    baseline_target: str
    target: str
    changes: list[FigureChange]

    @property
    def regressed(self) -> list[FigureChange]:
        return [c for c in self.changes if c.regressed]

    @property
    def same_target(self) -> bool:
        return self.baseline_target == self.target

    def rows(self) -> list[tuple[str, str]]:
        rows = [("figure (worse by more than the tolerance: REGRESSED)",
                 "baseline -> now (change, tolerance)")]
        for c in self.changes:
            change = c.change_pct
            shown = "no value" if change is None else f"{change:+.1f} % worse" \
                if change >= 0 else f"{-change:.1f} % better"
            verdict = "REGRESSED" if c.regressed else "ok"
            rows.append((f"{c.name} {verdict}", f"{_num(c.baseline)} -> {_num(c.now)} "
                                                f"({shown}, tolerance {c.tolerance_pct:g} %)"))
        return rows

    def figures(self) -> dict[str, Any]:
        return {"baseline_target": self.baseline_target, "target": self.target,
                "regressed": [c.name for c in self.regressed],
                "figures": [{"figure": c.name, "baseline": c.baseline, "now": c.now,
                             "worse_pct": c.change_pct, "tolerance_pct": c.tolerance_pct,
                             "regressed": c.regressed} for c in self.changes]}


def _num(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:,.2f}"


def compare(baseline: dict[str, Any], summary: dict[str, Any], *, target: str,
            figures: tuple[str, ...] | list[str] = DEFAULT_FIGURES,
            tolerance_pct: float = 10.0) -> Comparison:
    """This run's ``summary`` against a loaded baseline, figure by figure. Raises ValueError
    for a baseline of another target: its figures say nothing about this one."""
    if baseline["target"] != target:
        raise ValueError(f"the baseline was measured against {baseline['target']}, this run "
                         f"against {target}: compare runs of the same target")
    changes = [FigureChange(name, figure(baseline["summary"], name), figure(summary, name),
                            tolerance_pct) for name in figures]
    return Comparison(baseline["target"], target, changes)
