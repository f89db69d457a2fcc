"""Sweeps: open-loop steps of rising request rate (a rate sweep), or closed-loop steps of
rising concurrency (a concurrency sweep), until the SLOs stop holding or the server saturates;
the highest sustainable level with its figures, a curve, a table.

**Rate sweep.**

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

**Concurrency sweep** (``concurrency_sweep``): ``users`` users each send their next request as
soon as the last one is answered, for ``step_s`` seconds, at each level in turn. A closed loop
cannot queue more than its users, so saturation shows as throughput that stops rising: a level
is sustained when no request failed, every objective holds (and the attainment), and, after
the first, its completions per second rose by at least ``min_gain`` of the users' rise over the
previous level (from 2 to 4 users, +100 % users: at least +10 % throughput with the default
0.1). Past that knee more users add only waiting; the highest sustained level is the
concurrency to plan with.
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
MIN_GAIN = 0.1  # concurrency: throughput rise per users' rise below this share: saturated
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
    """One level of a sweep (a rate offered, or a number of users): its run, its SLO report,
    and whether it was sustained."""

    offered_per_s: float  # a concurrency step: nan (nothing is offered; users wait)
    window_s: float
    result: LoadResult
    slo: SloReport
    completed_per_s: float
    completions: int  # counted in completed_per_s (the first one starts the clock)
    completion_span_s: float
    growth_s_per_s: float
    reasons: list[str] = field(default_factory=list)  # why it was not sustained
    users: int | None = None  # a concurrency step: the closed loop's users

    @property
    def sustained(self) -> bool:
        return not self.reasons

    @property
    def level(self) -> float:
        """The swept quantity: users, or the offered rate."""
        return float(self.users) if self.users is not None else self.offered_per_s

    @property
    def label(self) -> str:
        return (_users(self.users) if self.users is not None
                else f"{self.offered_per_s:g}/s offered")

    def row(self) -> dict[str, Any]:
        summary = self.result.summary()
        level = ({"users": self.users} if self.users is not None
                 else {"offered_per_s": self.offered_per_s})
        row: dict[str, Any] = {
            **level, "achieved_per_s": summary["requests_per_s"],
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
    """Every step, the objectives, and the highest level sustained."""

    steps: list[SweepStep]
    slos: list[Slo]
    arrival: str  # a concurrency sweep: "closed loop"
    axis: str = "rate"  # rate | concurrency

    @property
    def best(self) -> SweepStep | None:
        """The highest level sustained (the sweep stops at the first one that is not)."""
        sustained = [s for s in self.steps if s.sustained]
        return sustained[-1] if sustained else None

    @property
    def stopped_because(self) -> str:
        last = self.steps[-1] if self.steps else None
        if last is None or last.sustained:
            return f"every {self.axis} of the sweep was sustained: the limit lies above it"
        return f"at {last.label}: {'; '.join(last.reasons)}"

    def rows(self) -> list[dict[str, Any]]:
        return [step.row() for step in self.steps]

    def figures(self) -> dict[str, Any]:
        best = self.best
        highest = ({"highest_sustainable_users": best.users if best else None,
                    "throughput_at_highest_per_s": best.completed_per_s if best else None}
                   if self.axis == "concurrency"
                   else {"highest_sustainable_per_s": best.offered_per_s if best else None})
        return {"objectives": [str(s) for s in self.slos], "arrival": self.arrival,
                "axis": self.axis, **highest,
                "stopped_because": self.stopped_because, "steps": self.rows(),
                "best": {"summary": best.result.summary(), "slo": best.slo.figures()}
                if best else None}

    def table(self) -> list[tuple[str, str]]:
        rows = []
        for step in self.steps:
            row = step.row()
            rows.append((step.label + ("" if step.sustained else " (not sustained)"),
                         f"achieved {row['achieved_per_s']:.2f}/s, goodput "
                         f"{row['goodput_per_s']:.2f}/s, attainment "
                         f"{100 * row['slo_attainment']:.0f} %, TTFT p99 "
                         f"{_ms(row['ttft_p99_ms'])}, TPOT p99 {_ms(row['tpot_p99_ms'])}, "
                         f"ITL p99 {_ms(row['itl_p99_ms'])}, e2e p99 {_ms(row['e2e_p99_ms'])}"))
        rows.append((f"highest sustainable {self.axis}", self.best_words))
        rows.append(("sweep stopped", self.stopped_because))
        return rows

    @property
    def best_words(self) -> str:
        """The answer in words: "4 users" / "2 requests/s", or none."""
        best = self.best
        if best is None:
            return f"none of the {'levels' if self.axis == 'concurrency' else 'rates'}"
        return _users(best.users) if best.users is not None \
            else f"{best.offered_per_s:g} requests/s"

    def write_csv(self, path: Path) -> Path:
        rows = self.rows()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["offered_per_s"])
            writer.writeheader()
            writer.writerows(rows)
        return path

    def plot(self, path: Path, title: str) -> Path:
        """Latency percentiles and goodput against the offered rate or the users (a PNG)."""
        from atlas_suite.plots import _save, plt  # Agg is chosen there, before pyplot

        rows = self.rows()
        rates = [step.level for step in self.steps]
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
        if self.axis == "rate":
            bottom.plot(rates, rates, ":", color="grey", label="offered")
        bottom.plot(rates, [r["achieved_per_s"] for r in rows], marker="o", label="achieved")
        bottom.plot(rates, [r["goodput_per_s"] for r in rows], marker="s", label="goodput")
        best = self.best
        if best is not None:
            bottom.axvline(best.level, color="green", linestyle="--",
                           label=f"highest sustainable: {self.best_words}")
        bottom.set_xlabel("users (closed loop)" if self.axis == "concurrency"
                          else "offered rate (requests/s)")
        bottom.set_ylabel("requests/s")
        bottom.grid(alpha=0.3)
        bottom.legend(fontsize=8)
        fig.suptitle(title, fontsize=10)
        return _save(fig, path)


def _users(n: int) -> str:
    return f"{n} user" if n == 1 else f"{n} users"


def _ms(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:,.1f} ms"


def service_reasons(step: SweepStep, *, min_attainment: float) -> list[str]:
    """What any step must give, at any rate or concurrency: no failure, no arrival dropped,
    every objective held, and the attainment."""
    reasons = []
    summary = step.result.summary()
    if summary["errors"]["total"]:
        kinds = ", ".join(f"{kind} x{n}" for kind, n in summary["errors"]["by_type"].items())
        first = next((s.detail for s in step.result.samples if not s.ok and s.detail), "")
        reasons.append(f"{summary['errors']['total']} requests failed ({kinds})" +
                       (f', the first: "{first[:160]}"' if first else ""))
    if summary["not_sent"]:
        reasons.append(f"{summary['not_sent']} arrivals found the in-flight cap full")
    missed = [str(s) for s in step.slo.slos if not step.slo.run_holds(s)]
    if missed:
        reasons.append(f"SLO missed: {', '.join(missed)}")
    if step.slo.slos and step.slo.attainment < min_attainment:
        reasons.append(f"SLO attainment {100 * step.slo.attainment:.1f} % under "
                       f"{100 * min_attainment:g} %")
    return reasons


def judge(step: SweepStep, *, min_attainment: float, keep_up: float,
          max_growth: float) -> list[str]:
    """Why a rate step was not sustained (empty: it was)."""
    reasons = service_reasons(step, min_attainment=min_attainment)
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


def judge_concurrency(step: SweepStep, previous: SweepStep | None, *, min_attainment: float,
                      min_gain: float) -> list[str]:
    """Why a concurrency step was not sustained (empty: it was): failures, objectives, and a
    throughput that stopped rising with the users (see the module's docstring)."""
    reasons = service_reasons(step, min_attainment=min_attainment)
    if previous is None or previous.users is None or step.users is None:
        return reasons
    before, now = previous.completed_per_s, step.completed_per_s
    if not (math.isfinite(before) and math.isfinite(now)):
        return reasons  # under two completions: nothing to compare
    users_rise = step.users / previous.users - 1.0
    gain = now / before - 1.0 if before else math.inf
    if users_rise > 0 and gain < min_gain * users_rise:
        reasons.append(f"saturated: {now:.2f} completions/s with {_users(step.users)} against "
                       f"{before:.2f}/s with {_users(previous.users)} ({100 * gain:+.0f} % for "
                       f"{100 * users_rise:+.0f} % users)")
    return reasons


def concurrency_sweep(engine: LoadEngine, workload: Workload, levels: Sequence[int], *,
                      step_s: float, slos: Sequence[Slo] = (), warmup: int = 0,
                      min_attainment: float = 0.0, min_gain: float = MIN_GAIN,
                      on_step: Callable[[SweepStep], None] | None = None) -> SweepResult:
    """Closed-loop steps of ``step_s`` seconds at each number of users in turn (rising), until
    one is not sustained (see the module's docstring); ``warmup`` requests before the first
    step only."""
    if not levels or any(n < 1 for n in levels) or list(levels) != sorted(set(levels)):
        raise ValueError("a concurrency sweep needs rising numbers of users, 1 or more")
    steps: list[SweepStep] = []
    for i, users in enumerate(levels):
        result = engine.closed_loop(workload, users, duration_s=step_s,
                                    warmup=warmup if i == 0 else 0)
        step = SweepStep(math.nan, step_s, result, evaluate(result, list(slos)),
                         *completion_rate(result), 0.0, users=users)
        step.reasons = judge_concurrency(step, steps[-1] if steps else None,
                                         min_attainment=min_attainment, min_gain=min_gain)
        steps.append(step)
        if on_step is not None:
            on_step(step)
        if not step.sustained:
            break
    return SweepResult(steps, list(slos), "closed loop", axis="concurrency")
