"""Request, latency, throughput, memory and error counters, as JSON and as Prometheus text."""

from __future__ import annotations

import time
from collections import Counter, deque

import numpy as np
from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client import Counter as PromCounter

RECENT = 1000  # percentiles over the most recent requests, so old traffic does not dominate
RATE_SAMPLES = 20  # generation-rate moving average over this many requests


def percentiles(samples: list[float] | deque[float]) -> dict[str, float]:
    if not samples:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0}
    p50, p95, p99 = np.percentile(np.asarray(samples), [50, 95, 99], method="linear")
    return {"p50": round(float(p50), 3), "p95": round(float(p95), 3), "p99": round(float(p99), 3)}


class Metrics:
    """Everything the status, metrics and /metrics routes report."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.requests_total = 0
        self.requests_active = 0
        self.atlas_requests = 0
        self.tokens_generated = 0
        self.by_status: Counter[str] = Counter()
        self.errors_by_type: Counter[str] = Counter()
        self.latencies_ms: deque[float] = deque(maxlen=RECENT)
        self.update_ms: deque[float] = deque(maxlen=RECENT)
        self.generation_rates: deque[float] = deque(maxlen=RATE_SAMPLES)
        self.saves = 0
        self.loads = 0
        self._registry = CollectorRegistry()
        self._prom_requests = PromCounter(
            "atlas_requests", "Requests answered, by status", ["status"], registry=self._registry)
        self._prom_latency = Histogram(
            "atlas_request_latency_seconds", "End-to-end request latency", registry=self._registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self._prom_tokens = PromCounter(
            "atlas_tokens_generated", "Completion tokens generated", registry=self._registry)
        self._prom_errors = PromCounter(
            "atlas_errors", "Error answers, by type", ["type"], registry=self._registry)
        self._gauges = {
            name: Gauge(f"atlas_{name}", help_text, registry=self._registry)
            for name, help_text in {
                "requests_active": "Requests in flight",
                "requests_rejected": "Requests refused by admission control",
                "tokens_per_second": "Measured generation rate (moving average)",
                "memory_tokens_memorized": "Tokens memorised by all memories",
                "memory_updates": "Memory update steps by all memories",
                "memory_bytes_reserved": "Bytes reserved by in-flight ATLAS work",
                "uptime_seconds": "Seconds since start",
            }.items()
        }

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started

    @property
    def tokens_per_second(self) -> float:
        return round(float(np.mean(self.generation_rates)), 3) if self.generation_rates else 0.0

    def record_generation_rate(self, tokens_per_second: float) -> None:
        if tokens_per_second > 0 and np.isfinite(tokens_per_second):
            self.generation_rates.append(tokens_per_second)

    def record_request(self, status: int, latency_ms: float, error_type: str | None) -> None:
        self.requests_total += 1
        self.by_status[str(status)] += 1
        self.latencies_ms.append(latency_ms)
        self._prom_requests.labels(status=str(status)).inc()
        self._prom_latency.observe(latency_ms / 1000.0)
        if error_type:
            self.errors_by_type[error_type] += 1
            self._prom_errors.labels(type=error_type).inc()

    def record_tokens(self, count: int) -> None:
        if count > 0:
            self.tokens_generated += count
            self._prom_tokens.inc(count)

    def latency(self) -> dict[str, float]:
        return percentiles(self.latencies_ms)

    def as_json(self, *, rejected: int, memories: int, tokens_memorized: int,
                updates: int) -> dict:
        uptime = self.uptime_seconds
        return {
            "uptime_seconds": round(uptime, 3),
            "requests": {
                "total": self.requests_total, "active": self.requests_active,
                "rejected": rejected, "atlas": self.atlas_requests,
                "by_status": dict(self.by_status),
            },
            "latency_ms": {**self.latency(), "count": len(self.latencies_ms)},
            "throughput": {
                "tokens_per_second": self.tokens_per_second,
                "requests_per_second": round(self.requests_total / max(uptime, 1e-9), 3),
                "tokens_generated": self.tokens_generated,
            },
            "memory": {
                "memories": memories, "tokens_memorized": tokens_memorized, "updates": updates,
                "update_ms_p50": percentiles(self.update_ms)["p50"],
                "saves": self.saves, "loads": self.loads,
            },
            "errors": {"total": sum(self.errors_by_type.values()),
                       "by_type": dict(self.errors_by_type)},
        }

    def prometheus(self, *, rejected: int, tokens_memorized: int, updates: int,
                   reserved_bytes: int) -> bytes:
        values = {
            "requests_active": self.requests_active, "requests_rejected": rejected,
            "tokens_per_second": self.tokens_per_second,
            "memory_tokens_memorized": tokens_memorized, "memory_updates": updates,
            "memory_bytes_reserved": reserved_bytes, "uptime_seconds": self.uptime_seconds,
        }
        for name, value in values.items():
            self._gauges[name].set(value)
        return generate_latest(self._registry)
