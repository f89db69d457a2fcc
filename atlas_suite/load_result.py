"""What a load run saw: one ``Sample`` per request, and the ``LoadResult`` of a run with the
figures people look at (throughput, end-to-end latency, time to first token, time per output
token, inter-token gaps, errors, a timeline). docs/load-figures.md defines every figure and
maps it to the names vLLM's benchmark, GuideLLM and AIPerf use."""

from __future__ import annotations

import collections
import csv
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from atlas_suite.stats import PERCENTILE_METHOD, distribution, percentile


@dataclass
class Sample:
    """One request as the engine saw it; times in ms, ``sent_s`` from the start of the run."""

    index: int
    label: str
    sent_s: float
    latency_ms: float = math.nan
    status: int | None = None  # None: no HTTP answer at all
    error: str | None = None  # None: success; else the error type (see ``error_type``)
    detail: str = ""
    ttft_ms: float | None = None
    itl_ms: list[float] = field(default_factory=list)
    tokens: int = 0  # output (completion) tokens
    prompt_tokens: int = 0  # from the answer's usage, when it gives them
    atlas: dict[str, Any] | None = None
    lateness_ms: float | None = None  # open loop: how late it was sent against its schedule
    payload: Any = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def done_s(self) -> float:
        return self.sent_s + self.latency_ms / 1000.0

    @property
    def tpot_ms(self) -> float | None:
        """Time per output token after the first: (e2e - TTFT) / (output tokens - 1); None
        without a first token or with fewer than two tokens."""
        if self.ttft_ms is None or self.tokens < 2 or not math.isfinite(self.latency_ms):
            return None
        return (self.latency_ms - self.ttft_ms) / (self.tokens - 1)


def error_type(status: int, text: str) -> str:
    """The OpenAI envelope's ``error.type`` of an error answer, else ``http_<status>``."""
    try:
        kind = json.loads(text)["error"]["type"]
        if isinstance(kind, str) and kind:
            return kind
    except (ValueError, KeyError, TypeError):
        pass
    return f"http_{status}"


def _has_token(event: dict[str, Any]) -> bool:
    for choice in event.get("choices") or []:
        delta = choice.get("delta") or {}
        if choice.get("text") or delta.get("content"):
            return True
    return False


@dataclass
class LoadResult:
    """Every sample of one run, and the figures people look at."""

    mode: str  # closed | open
    samples: list[Sample]
    duration_s: float
    users: int | None = None
    rate_per_s: float | None = None
    not_sent: int = 0  # open loop: arrivals dropped because ``max_in_flight`` were in flight
    stopped_by: str = ""
    started_at: float = math.nan  # time.perf_counter() at the run's start: aligns other clocks
    warmup: list[Sample] = field(default_factory=list)  # sent first, kept out of every figure
    arrival: str = ""  # open loop: constant | poisson | gamma (burstiness b)

    def done_at(self) -> list[float]:
        """Every successful request's completion time on the ``time.perf_counter`` clock."""
        return sorted(self.started_at + s.done_s for s in self.succeeded)

    def select(self, label: str) -> LoadResult:
        """The samples of one label, over the same wall time."""
        return LoadResult(self.mode, [s for s in self.samples if s.label == label],
                          self.duration_s, self.users, self.rate_per_s, 0, self.stopped_by,
                          self.started_at, arrival=self.arrival)

    def labels(self) -> list[str]:
        return sorted({s.label for s in self.samples})

    @property
    def succeeded(self) -> list[Sample]:
        return [s for s in self.samples if s.ok]

    @property
    def failed(self) -> list[Sample]:
        return [s for s in self.samples if not s.ok]

    def statuses(self) -> collections.Counter[int | None]:
        return collections.Counter(s.status for s in self.samples)

    def error_types(self) -> collections.Counter[str]:
        return collections.Counter(s.error for s in self.samples if s.error)

    def latencies(self) -> list[float]:
        return [s.latency_ms for s in self.succeeded]

    def generation_intervals(self) -> list[tuple[float, float]]:
        """(first token, last byte) of every successful stream, in seconds from the start."""
        return [(s.sent_s + s.ttft_ms / 1000.0, s.done_s) for s in self.succeeded
                if s.ttft_ms is not None and math.isfinite(s.latency_ms)]

    def tpots(self) -> list[float]:
        """The time per output token of every successful stream that has one."""
        return [t for t in (s.tpot_ms for s in self.succeeded) if t is not None]

    def summary(self) -> dict[str, Any]:
        """The run's figures (docs/load-figures.md): ``latency_ms`` is the end-to-end latency,
        ``tpot_ms`` the time per output token per request, ``itl_ms`` every gap pooled."""
        ok = self.succeeded
        seconds = max(self.duration_s, 1e-9)
        tokens = sum(s.tokens for s in ok)
        prompt = sum(s.prompt_tokens for s in ok)
        itl = [gap for s in ok for gap in s.itl_ms]
        ttft = [s.ttft_ms for s in ok if s.ttft_ms is not None]
        lateness = [s.lateness_ms for s in self.samples if s.lateness_ms is not None]
        return {
            "mode": self.mode, "users": self.users, "rate_per_s": self.rate_per_s,
            "arrival": self.arrival or None, "warmup_requests": len(self.warmup),
            "duration_s": self.duration_s, "stopped_by": self.stopped_by,
            "requests": len(self.samples), "succeeded": len(ok), "not_sent": self.not_sent,
            "answered": sum(1 for s in self.samples if s.status is not None),
            "requests_per_s": len(ok) / seconds, "tokens": tokens, "tokens_per_s": tokens / seconds,
            "output_tokens_per_s": tokens / seconds, "prompt_tokens": prompt,
            "total_tokens_per_s": (tokens + prompt) / seconds,
            "latency_ms": distribution([s.latency_ms for s in ok]),
            "ttft_ms": distribution(ttft), "tpot_ms": distribution(self.tpots()),
            "itl_ms": distribution(itl),
            "lateness_ms": distribution(lateness),
            "errors": {
                "total": len(self.failed),
                "by_status": {str(k): v for k, v in sorted(
                    self.statuses().items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
                    if k is None or not 200 <= k < 300},
                "by_type": dict(sorted(self.error_types().items())),
            },
            "percentile_method": f"numpy.percentile(method={PERCENTILE_METHOD!r})",
        }

    def timeline(self, bucket_s: float | None = None) -> list[dict[str, Any]]:
        """Figures per time bucket (by completion time): requests and tokens per second,
        latency p50/p95/p99 of the requests that completed in it, errors."""
        if not self.samples:
            return []
        finished = [s.done_s for s in self.samples if math.isfinite(s.latency_ms)]
        end = max([self.duration_s, *finished])
        bucket_s = bucket_s or max(1.0, end / 30)
        count = max(1, math.ceil(end / bucket_s))
        buckets: list[list[Sample]] = [[] for _ in range(count)]
        for sample in self.samples:
            done = sample.done_s if math.isfinite(sample.latency_ms) else sample.sent_s
            buckets[min(int(done / bucket_s), count - 1)].append(sample)
        rows = []
        for i, bucket in enumerate(buckets):
            ok = [s for s in bucket if s.ok]
            lat = [s.latency_ms for s in ok]
            rows.append({
                "t_s": (i + 1) * bucket_s, "completed": len(ok), "errors": len(bucket) - len(ok),
                "requests_per_s": len(ok) / bucket_s,
                "tokens_per_s": sum(s.tokens for s in ok) / bucket_s,
                "p50_ms": percentile(lat, 50) if lat else None,
                "p95_ms": percentile(lat, 95) if lat else None,
                "p99_ms": percentile(lat, 99) if lat else None,
            })
        return rows

    def write_csv(self, path: Path) -> Path:
        """One row per request (warm-up ones marked), for a spreadsheet."""
        path.parent.mkdir(parents=True, exist_ok=True)
        columns = ["index", "label", "warmup", "sent_s", "latency_ms", "ttft_ms", "tpot_ms",
                   "tokens", "prompt_tokens", "status", "error", "lateness_ms"]
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(columns)
            for warm, sample in [(True, s) for s in self.warmup] + [(False, s)
                                                                    for s in self.samples]:
                writer.writerow([sample.index, sample.label, warm, f"{sample.sent_s:.6f}",
                                 sample.latency_ms, sample.ttft_ms, sample.tpot_ms,
                                 sample.tokens, sample.prompt_tokens, sample.status,
                                 sample.error or "", sample.lateness_ms])
        return path

    def to_json(self, with_samples: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"summary": self.summary(), "timeline": self.timeline()}
        if len(self.labels()) > 1:
            out["by_label"] = {label: self.select(label).summary() for label in self.labels()}
        if with_samples:
            out["samples"] = [{k: v for k, v in asdict(s).items() if k != "payload"}
                              for s in self.samples]
        return out


# the figures a baseline, an SLO or a sweep may name: "<key>.<statistic>" or a plain key
FIGURE_KEYS = ("latency_ms", "ttft_ms", "tpot_ms", "itl_ms")
RATE_KEYS = ("requests_per_s", "output_tokens_per_s", "total_tokens_per_s")


def figure(summary: dict[str, Any], name: str) -> float | None:
    """One figure of a ``LoadResult.summary()`` by name: ``ttft_ms.p99``, ``tpot_ms.mean``,
    ``requests_per_s``; the short forms ``e2e`` and ``latency`` mean ``latency_ms``."""
    key, _, stat = name.partition(".")
    key = {"e2e": "latency_ms", "e2e_ms": "latency_ms", "latency": "latency_ms",
           "ttft": "ttft_ms", "tpot": "tpot_ms", "itl": "itl_ms"}.get(key, key)
    if key not in summary:
        raise KeyError(f"no figure {name!r}: use one of {', '.join(FIGURE_KEYS)} with .p50, "
                       f".p90, .p95, .p99 or .mean, or one of {', '.join(RATE_KEYS)}")
    value = summary[key]
    if isinstance(value, dict):
        if stat not in value:
            raise KeyError(f"no statistic {stat!r} of {key}: use one of "
                           f"{', '.join(k for k in value if k != 'count')}")
        value = value[stat]
    return None if value is None else float(value)
