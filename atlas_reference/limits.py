"""Admission control and rate limiting: the server says no early and clearly, never crashes."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from dataclasses import dataclass

from atlas_reference.errors import ApiError

# What one token of ATLAS work holds in memory while a request is in flight: its key and value
# rows, the hidden activations and their gradients, with room for the window copy.
BYTES_PER_ATLAS_TOKEN = 4 * 1024


def estimate_atlas_bytes(prompt_tokens: int, max_tokens: int) -> int:
    return (prompt_tokens + max_tokens) * BYTES_PER_ATLAS_TOKEN


class MemoryAdmission:
    """A byte budget for in-flight ATLAS work with a bounded wait queue.

    A request that fits the budget starts at once; one that does not waits in a queue of at
    most ``queue_limit`` requests; beyond that the answer is 503 at once. A request larger than
    the whole budget is admitted only when nothing else is in flight, so it can never wait
    forever.
    """

    def __init__(self, budget_bytes: int, queue_limit: int) -> None:
        self.budget_bytes = budget_bytes
        self.queue_limit = queue_limit
        self.reserved_bytes = 0
        self.waiting = 0
        self.rejected = 0
        self._changed = asyncio.Condition()

    def _fits(self, nbytes: int) -> bool:
        return self.reserved_bytes == 0 or self.reserved_bytes + nbytes <= self.budget_bytes

    async def acquire(self, nbytes: int) -> None:
        """Reserve ``nbytes``, waiting in the bounded queue; 503 at once when it is full."""
        async with self._changed:
            if not self._fits(nbytes):
                if self.waiting >= self.queue_limit:
                    self.rejected += 1
                    raise ApiError(
                        503,
                        "ATLAS memory budget exhausted: "
                        f"{self.reserved_bytes / 2**20:.2f} MiB of "
                        f"{self.budget_bytes / 2**20:.2f} MiB memory reserved and the wait "
                        "queue is full; retry later",
                        headers={"Retry-After": "1"},
                    )
                self.waiting += 1
                try:
                    await self._changed.wait_for(lambda: self._fits(nbytes))
                finally:
                    self.waiting -= 1
            self.reserved_bytes += nbytes

    async def release(self, nbytes: int) -> None:
        async with self._changed:
            self.reserved_bytes -= nbytes
            self._changed.notify_all()


@dataclass
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset_seconds))
        return headers


class SlidingWindowRateLimiter:
    """At most ``per_minute`` requests in any 60 s window, counted per client identity."""

    WINDOW_S = 60.0

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}

    def check(self, identity: str, now: float | None = None) -> RateDecision:
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(identity, deque())
        while hits and hits[0] <= now - self.WINDOW_S:
            hits.popleft()
        allowed = len(hits) < self.per_minute
        if allowed:
            hits.append(now)
        reset = math.ceil(hits[0] + self.WINDOW_S - now) if hits else 0
        return RateDecision(allowed, self.per_minute, self.per_minute - len(hits), reset)
