"""A rate sweep: open-loop steps of rising request rate until the SLOs stop holding or the
server saturates; the highest sustainable rate with its figures, a curve, a table.

A step is sustained when

* every objective holds over the step (``SloReport.all_hold``: TTFT p99 within its bound, ...),
  and at least ``min_attainment`` of its requests met all of them;
* the server kept up: its completions, per second between the first and the last, are at
  least ``keep_up`` times the offered rate, give or take one completion (a saturated server
  completes at its capacity, below the offered rate; one that keeps up, at the offered rate
  whatever its latency);
* its queue did not grow: the median latency of the last third of the arrivals exceeds that of
  the first third by less than ``max_growth`` seconds per second of load (a queue that grows
  without bound adds (1 - capacity / rate) seconds per second), or by less than half of it, or
  a third holds under three requests;
* no arrival found ``max_in_flight`` requests unanswered, and none failed.

The sweep stops at the first step that is not sustained (or after the last rate). Steps of
a few requests judge little: give each step ten requests or more.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_suite.load_engine import LoadEngine
from atlas_suite.load_result import LoadResult, figure
from atlas_suite.slo import Slo, SloReport, evaluate
from atlas_suite.stats import percentile
from atlas_suite.workloads import Workload

KEEP_UP = 0.8  # completions per second at least this share of the offered rate
MAX_GROWTH_S_PER_S = 0.1  # median latency rising faster than this: a queue building up
MIN_PER_THIRD = 3
MIN_GROWTH_RATIO = 1.5
# the columns of the CSV and the table: (header, figure name in the summary)
COLUMNS = (("ttft_p50_ms", "ttft_ms.p50"), ("ttft_p99_ms", "ttft_ms.p99"),
           ("tpot_p50_ms", "tpot_ms.p50"), ("tpot_p99_ms", "tpot_ms.p99"),
           ("itl_p50_ms", "itl_ms.p50"), ("itl_p99_ms", "itl_ms.p99"),
           ("e2e_p50_ms", "latency_ms.p50"), ("e2e_p90_ms", "latency_ms.p90"),
           ("e2e_p99_ms", "latency_ms.p99"), ("e2e_mean_ms", "latency_ms.mean"),
           ("output_tokens_per_s", "output_tokens_per_s"))


def geometric_rates(start: float, factor: float, steps: int) -> list[float]:
    """start, start x factor, ... (``steps`` rates)."""
    if start <= 0 or factor <= 1 or steps < 1:
        raise ValueError("a sweep needs a positive start, a factor above 1 and a step or more")
    return [start * factor**i for i in range(steps)]


def completion_rate(result: LoadResult) -> tuple[float, int, float]:
    """(completions per second, completions, seconds) between the first and the last
    successful completion: the arrival rate for a server that keeps up (each request's
    latency cancels), its capacity for a saturated one, however long the latency."""
    done = sorted(s.done_s for s in result.succeeded)
    if len(done) < 2 or done[-1] <= done[0]:
        return math.nan, len(done), 0.0
    span = done[-1] - done[0]
    return (len(done) - 1) / span, len(done) - 1, span


def latency_growth(result: LoadResult, window_s: float) -> float:
    """Seconds of median latency gained per second of load, last third of the arrivals
    against the first third. 0 when a third holds under ``MIN_PER_THIRD`` requests (one slow
    request is no queue) or the last third's median is under ``MIN_GROWTH_RATIO`` times the
    first's (a queue that grows without bound multiplies the latency, noise shifts it)."""
    first = [s.latency_ms for s in result.succeeded if s.sent_s < window_s / 3]
    last = [s.latency_ms for s in result.succeeded if s.sent_s >= 2 * window_s / 3]
    if min(len(first), len(last)) < MIN_PER_THIRD:
        return 0.0
    early, late = percentile(first, 50), percentile(last, 50)
    if late < MIN_GROWTH_RATIO * early:
        return 0.0
    return (late - early) / 1000.0 / (2 * window_s / 3)


@dataclass
class SweepStep:
    """One rate of the sweep: its run, its SLO report, and whether it was sustained."""

    offered_per_s: float
    window_s: float
    result: LoadResult
    slo: SloReport
    completed_per_s: float
    completions: int  # counted in completed_per_s (the first one starts the clock)
    completion_span_s: float
    growth_s_per_s: float
    reasons: list[str] = field(default_factory=list)  # why it was not sustained

    @property
    def sustained(self) -> bool:
        return not self.reasons

    def row(self) -> dict[str, Any]:
        summary = self.result.summary()
        row: dict[str, Any] = {
            "offered_per_s": self.offered_per_s, "achieved_per_s": summary["requests_per_s"],
            "completion_rate_per_s": self.completed_per_s,
            "latency_growth_s_per_s": self.growth_s_per_s,
            "requests": summary["requests"], "failed": summary["errors"]["total"],
            "not_sent": summary["not_sent"], "slo_attainment": self.slo.attainment,
            "goodput_per_s": self.slo.goodput_per_s}
        row.update({name: figure(summary, key) for name, key in COLUMNS})
        row["sustained"] = self.sustained
        row["why_not"] = "; ".join(self.reasons)
        return row


@dataclass
class SweepResult:
    """Every step, the objectives, and the highest rate sustained."""

    steps: list[SweepStep]
    slos: list[Slo]
    arrival: str

    @property
    def best(self) -> SweepStep | None:
        """The highest rate sustained (the sweep stops at the first one that is not)."""
        sustained = [s for s in self.steps if s.sustained]
        return sustained[-1] if sustained else None

    @property
    def stopped_because(self) -> str:
        last = self.steps[-1] if self.steps else None
        if last is None or last.sustained:
            return "every rate of the sweep was sustained: the limit lies above it"
        return f"at {last.offered_per_s:g}/s: {'; '.join(last.reasons)}"

    def rows(self) -> list[dict[str, Any]]:
        return [step.row() for step in self.steps]

    def figures(self) -> dict[str, Any]:
        best = self.best
        return {"objectives": [str(s) for s in self.slos], "arrival": self.arrival,
                "highest_sustainable_per_s": best.offered_per_s if best else None,
                "stopped_because": self.stopped_because, "steps": self.rows(),
                "best": {"summary": best.result.summary(), "slo": best.slo.figures()}
                if best else None}

    def table(self) -> list[tuple[str, str]]:
        rows = []
        for step in self.steps:
            row = step.row()
            rows.append((f"{step.offered_per_s:g}/s offered" +
                         ("" if step.sustained else " (not sustained)"),
                         f"achieved {row['achieved_per_s']:.2f}/s, goodput "
                         f"{row['goodput_per_s']:.2f}/s, attainment "
                         f"{100 * row['slo_attainment']:.0f} %, TTFT p99 "
                         f"{_ms(row['ttft_p99_ms'])}, TPOT p99 {_ms(row['tpot_p99_ms'])}, "
                         f"ITL p99 {_ms(row['itl_p99_ms'])}, e2e p99 {_ms(row['e2e_p99_ms'])}"))
        best = self.best
        rows.append(("highest sustainable rate",
                     f"{best.offered_per_s:g} requests/s" if best else "none of the rates"))
        rows.append(("sweep stopped", self.stopped_because))
        return rows

    def write_csv(self, path: Path) -> Path:
        rows = self.rows()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["offered_per_s"])
            writer.writeheader()
            writer.writerows(rows)
        return path

    def plot(self, path: Path, title: str) -> Path:
        """Latency percentiles and goodput against the offered rate (a PNG)."""
        from atlas_suite.plots import _save, plt  # Agg is chosen there, before pyplot

        rows = self.rows()
        rates = [r["offered_per_s"] for r in rows]
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
        for name in ("ttft_p50_ms", "ttft_p99_ms", "tpot_p99_ms", "itl_p99_ms", "e2e_p50_ms",
                     "e2e_p99_ms"):
            values = [math.nan if r[name] is None else r[name] for r in rows]
            if any(math.isfinite(v) for v in values):
                top.plot(rates, values, marker="o", label=name.replace("_ms", ""))
        top.set_ylabel("ms")
        top.set_yscale("log")
        top.grid(alpha=0.3)
        top.legend(fontsize=8)
        bottom.plot(rates, rates, ":", color="grey", label="offered")
        bottom.plot(rates, [r["achieved_per_s"] for r in rows], marker="o", label="achieved")
        bottom.plot(rates, [r["goodput_per_s"] for r in rows], marker="s", label="goodput")
        best = self.best
        if best is not None:
            bottom.axvline(best.offered_per_s, color="green", linestyle="--",
                           label=f"highest sustainable {best.offered_per_s:g}/s")
        bottom.set_xlabel("offered rate (requests/s)")
        bottom.set_ylabel("requests/s")
        bottom.grid(alpha=0.3)
        bottom.legend(fontsize=8)
        fig.suptitle(title, fontsize=10)
        return _save(fig, path)


def _ms(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:,.1f} ms"


def judge(step: SweepStep, *, min_attainment: float, keep_up: float,
          max_growth: float) -> list[str]:
    """Why a step was not sustained (empty: it was)."""
    reasons = []
    summary = step.result.summary()
    if summary["errors"]["total"]:
        reasons.append(f"{summary['errors']['total']} requests failed")
    if summary["not_sent"]:
        reasons.append(f"{summary['not_sent']} arrivals found the in-flight cap full")
    missed = [str(s) for s in step.slo.slos if not step.slo.run_holds(s)]
    if missed:
        reasons.append(f"SLO missed: {', '.join(missed)}")
    if step.slo.slos and step.slo.attainment < min_attainment:
        reasons.append(f"SLO attainment {100 * step.slo.attainment:.1f} % under "
                       f"{100 * min_attainment:g} %")
    # one completion of slack: a short step at a low rate holds only a few
    expected = keep_up * step.offered_per_s * step.completion_span_s
    if step.completion_span_s > 0 and step.completions + 1 < expected:
        reasons.append(f"saturated: {step.completed_per_s:.2f} completions/s against "
                       f"{step.offered_per_s:g}/s offered")
    if step.growth_s_per_s > max_growth:
        reasons.append(f"queue growing: median latency rose {step.growth_s_per_s:.2f} s "
                       "per second of load")
    return reasons


def rate_sweep(engine: LoadEngine, workload: Workload, rates: Sequence[float], *,
               step_s: float, slos: Sequence[Slo] = (), arrival: str = "constant",
               burstiness: float = 1.0, seed: int = 0, warmup: int = 0,
               max_in_flight: int = 256, min_attainment: float = 0.0,
               keep_up: float = KEEP_UP, max_growth: float = MAX_GROWTH_S_PER_S,
               on_step: Callable[[SweepStep], None] | None = None) -> SweepResult:
    """Open-loop steps of ``step_s`` seconds at each rate in turn, until one is not sustained
    (see the module's docstring); ``warmup`` requests before the first step only."""
    steps: list[SweepStep] = []
    label = f"gamma (burstiness {burstiness:g})" if arrival == "gamma" else arrival
    for i, rate in enumerate(rates):
        result = engine.open_loop(workload, rate, duration_s=step_s, max_in_flight=max_in_flight,
                                  arrival=arrival, burstiness=burstiness, seed=seed + i,
                                  warmup=warmup if i == 0 else 0)
        step = SweepStep(rate, step_s, result, evaluate(result, list(slos)),
                         *completion_rate(result), latency_growth(result, step_s))
        step.reasons = judge(step, min_attainment=min_attainment, keep_up=keep_up,
                             max_growth=max_growth)
        steps.append(step)
        if on_step is not None:
            on_step(step)
        if not step.sustained:
            break
    return SweepResult(steps, list(slos), label)
