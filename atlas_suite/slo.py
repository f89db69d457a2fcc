"""Service-level objectives of a load run: attainment and goodput.

An objective bounds one per-request figure: time to first token (TTFT), time per output token
(TPOT) or end-to-end latency (e2e), written as a scenario or a command line states it:

    TTFT p99 <= 500 ms, TPOT p99 <= 50 ms, e2e <= 5 s

Two readings, both reported (docs/load-figures.md):

* per request, as vLLM's and GuideLLM's goodput: a request meets the objectives when it
  succeeded and each of its own figures is within its bound. **Attainment** is the share of
  the requests (sent, or arrivals not sent for the in-flight cap) that met all of them; a
  failed request misses them. **Goodput** is the requests per second that met them.
* over the run: the stated percentile of the figure (p99 of every request's TTFT) is within
  the bound. Without a percentile an objective is read as p100: every request.

A request that was not streamed has no first token of its own: its TTFT is its end-to-end
latency (the first token arrives with the last byte). A request with fewer than two output
tokens has no TPOT and meets a TPOT objective.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from atlas_suite.load_result import LoadResult, Sample
from atlas_suite.stats import percentile

FIGURES = {"ttft": "time to first token (TTFT)", "tpot": "time per output token (TPOT)",
           "e2e": "end-to-end latency (e2e)"}
ALIASES = {"ttft": "ttft", "tpot": "tpot", "e2e": "e2e", "latency": "e2e", "end-to-end": "e2e"}
UNITS_MS = {"ms": 1.0, "s": 1000.0}
_PATTERN = re.compile(r"^\s*(?P<figure>[a-z0-9-]+)\s*(?:p(?P<q>\d+(?:\.\d+)?)\s*)?"
                      r"(?:<=|≤)\s*(?P<bound>\d+(?:\.\d+)?)\s*(?P<unit>ms|s)\s*$", re.I)


@dataclass(frozen=True)
class Slo:
    """One objective: ``figure`` (ttft, tpot, e2e) within ``bound_ms``, at percentile ``q``
    over the run (100: every request)."""

    figure: str
    bound_ms: float
    q: float = 100.0

    def __str__(self) -> str:
        at = "" if self.q == 100 else f" p{self.q:g}"
        return f"{self.figure.upper() if self.figure != 'e2e' else 'e2e'}{at} <= " \
               f"{self.bound_ms:g} ms"

    def value(self, sample: Sample) -> float | None:
        """The request's own figure (ms) that this objective bounds; None: not applicable."""
        if self.figure == "e2e":
            return sample.latency_ms
        if self.figure == "ttft":
            return sample.ttft_ms if sample.ttft_ms is not None else sample.latency_ms
        return sample.tpot_ms

    def met_by(self, sample: Sample) -> bool:
        if not sample.ok:
            return False
        value = self.value(sample)
        return value is None or (math.isfinite(value) and value <= self.bound_ms)


def parse_slo(text: str) -> Slo:
    """``TTFT p99 <= 500 ms`` (or ``≤``; units ms or s; figures TTFT, TPOT, e2e)."""
    match = _PATTERN.match(text)
    figure = ALIASES.get(match["figure"].lower()) if match else None
    if match is None or figure is None:
        raise ValueError(f"not a service-level objective: {text!r}; write it as "
                         "'TTFT p99 <= 500 ms', 'TPOT p99 <= 50 ms' or 'e2e <= 5 s'")
    q = float(match["q"]) if match["q"] else 100.0
    if not 0 < q <= 100:
        raise ValueError(f"percentile out of range in {text!r}")
    return Slo(figure, float(match["bound"]) * UNITS_MS[match["unit"].lower()], q)


def parse_slos(text: str) -> list[Slo]:
    """Objectives separated by commas, semicolons or "and"."""
    parts = [p for p in re.split(r"\s*(?:,|;|\band\b)\s*", text.strip()) if p]
    if not parts:
        raise ValueError("no service-level objective given")
    return [parse_slo(part) for part in parts]


@dataclass
class SloReport:
    """How a run fared against its objectives."""

    slos: list[Slo]
    offered: int  # requests sent plus arrivals not sent
    met: int
    duration_s: float
    misses: dict[str, int]  # by objective: requests that missed it (failed ones count)
    run_values: dict[str, float]  # by objective: the figure at its percentile over the run

    @property
    def attainment(self) -> float:
        """The share (0..1) of the offered requests that met every objective."""
        return self.met / self.offered if self.offered else 0.0

    @property
    def goodput_per_s(self) -> float:
        """Requests per second that met every objective."""
        return self.met / max(self.duration_s, 1e-9)

    def run_holds(self, slo: Slo) -> bool:
        value = self.run_values[str(slo)]
        return math.isfinite(value) and value <= slo.bound_ms

    @property
    def all_hold(self) -> bool:
        return all(self.run_holds(slo) for slo in self.slos)

    def figures(self) -> dict[str, Any]:
        return {"objectives": [str(s) for s in self.slos], "offered": self.offered,
                "met": self.met, "attainment": self.attainment,
                "goodput_per_s": self.goodput_per_s, "misses": self.misses,
                "over_the_run": {str(s): {"value_ms": _finite(self.run_values[str(s)]),
                                          "bound_ms": s.bound_ms, "holds": self.run_holds(s)}
                                 for s in self.slos}}

    def rows(self) -> list[tuple[str, str]]:
        rows = [("SLO attainment (met all / offered)",
                 f"{100 * self.attainment:.1f} % ({self.met} / {self.offered})"),
                ("goodput (requests/s meeting every SLO)", f"{self.goodput_per_s:.2f}")]
        for slo in self.slos:
            value = self.run_values[str(slo)]
            shown = f"{value:,.1f} ms" if math.isfinite(value) else "no value"
            verdict = "holds" if self.run_holds(slo) else "MISSED"
            rows.append((f"SLO {slo}", f"{shown} over the run, {verdict}; "
                                       f"{self.misses[str(slo)]} requests missed it"))
        return rows


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _percentile_with_inf(values: list[float], q: float) -> float:
    """``stats.percentile`` (linear, Hyndman and Fan 7) where some values may be infinite."""
    if not values or all(math.isfinite(v) for v in values):
        return percentile(values, q)
    ordered = sorted(values)
    h = (len(ordered) - 1) * q / 100.0
    k, f = math.floor(h), h - math.floor(h)
    if f == 0:
        return ordered[k]
    low, high = ordered[k], ordered[k + 1]
    return math.inf if math.isinf(high) else low + f * (high - low)


def evaluate(result: LoadResult, slos: list[Slo]) -> SloReport:
    """Attainment, goodput and the run-wide percentile of each objective's figure."""
    met = sum(1 for s in result.samples if all(slo.met_by(s) for slo in slos))
    misses = {str(slo): sum(1 for s in result.samples if not slo.met_by(s)) for slo in slos}
    run_values = {}
    for slo in slos:
        # a failed request counts as an infinitely slow one: it lifts the percentile
        values = [math.inf if not s.ok else slo.value(s) for s in result.samples]
        run_values[str(slo)] = _percentile_with_inf([v for v in values if v is not None], slo.q)
    return SloReport(slos, len(result.samples) + result.not_sent, met, result.duration_s,
                     misses, run_values)
