"""What a load run saw: one ``Sample`` per request, and the ``LoadResult`` of a run with the
figures people look at (throughput, latency, time to first token, inter-token gaps, errors,
a timeline)."""

from __future__ import annotations

import collections
import json
import math
from dataclasses import asdict, dataclass, field
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
    tokens: int = 0
    atlas: dict[str, Any] | None = None
    lateness_ms: float | None = None  # open loop: how late it was sent against its schedule
    payload: Any = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def done_s(self) -> float:
        return self.sent_s + self.latency_ms / 1000.0


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

    def done_at(self) -> list[float]:
        """Every successful request's completion time on the ``time.perf_counter`` clock."""
        return sorted(self.started_at + s.done_s for s in self.succeeded)

    def select(self, label: str) -> LoadResult:
        """The samples of one label, over the same wall time."""
        return LoadResult(self.mode, [s for s in self.samples if s.label == label],
                          self.duration_s, self.users, self.rate_per_s, 0, self.stopped_by,
                          self.started_at)

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

    def summary(self) -> dict[str, Any]:
        ok = self.succeeded
        seconds = max(self.duration_s, 1e-9)
        tokens = sum(s.tokens for s in ok)
        itl = [gap for s in ok for gap in s.itl_ms]
        ttft = [s.ttft_ms for s in ok if s.ttft_ms is not None]
        lateness = [s.lateness_ms for s in self.samples if s.lateness_ms is not None]
        return {
            "mode": self.mode, "users": self.users, "rate_per_s": self.rate_per_s,
            "duration_s": self.duration_s, "stopped_by": self.stopped_by,
            "requests": len(self.samples), "succeeded": len(ok), "not_sent": self.not_sent,
            "answered": sum(1 for s in self.samples if s.status is not None),
            "requests_per_s": len(ok) / seconds, "tokens": tokens, "tokens_per_s": tokens / seconds,
            "latency_ms": distribution([s.latency_ms for s in ok]),
            "ttft_ms": distribution(ttft), "itl_ms": distribution(itl),
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

    def to_json(self, with_samples: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"summary": self.summary(), "timeline": self.timeline()}
        if len(self.labels()) > 1:
            out["by_label"] = {label: self.select(label).summary() for label in self.labels()}
        if with_samples:
            out["samples"] = [{k: v for k, v in asdict(s).items() if k != "payload"}
                              for s in self.samples]
        return out
