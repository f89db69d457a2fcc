"""Admission control and rate limiting, without a server."""

from __future__ import annotations

import asyncio

import pytest

from atlas_reference.errors import ApiError
from atlas_reference.limits import MemoryAdmission, SlidingWindowRateLimiter


def test_rate_limit_allows_the_limit_then_refuses_with_headers() -> None:
    limiter = SlidingWindowRateLimiter(3)
    decisions = [limiter.check("key", now=100.0 + i) for i in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    refused = decisions[-1].headers()
    assert refused["X-RateLimit-Limit"] == "3"
    assert refused["Retry-After"] == "57"  # the first hit leaves the window at 160 s


def test_rate_limit_window_slides_and_identities_are_separate() -> None:
    limiter = SlidingWindowRateLimiter(1)
    assert limiter.check("a", now=0.0).allowed
    assert not limiter.check("a", now=59.0).allowed
    assert limiter.check("b", now=59.0).allowed
    assert limiter.check("a", now=60.5).allowed


def test_admission_queues_then_refuses_at_once_when_the_queue_is_full() -> None:
    async def scenario() -> tuple[list[str], int]:
        admission = MemoryAdmission(budget_bytes=100, queue_limit=1)
        await admission.acquire(80)
        waiter = asyncio.create_task(admission.acquire(80))
        await asyncio.sleep(0)  # let the waiter take its place in the queue
        outcomes = []
        with pytest.raises(ApiError) as refused:
            await admission.acquire(80)
        outcomes.append(refused.value.message)
        assert refused.value.status == 503
        await admission.release(80)
        await asyncio.wait_for(waiter, timeout=5)
        return outcomes, admission.rejected

    messages, rejected = asyncio.run(scenario())
    assert "memory" in messages[0]
    assert rejected == 1


def test_a_request_larger_than_the_budget_runs_alone() -> None:
    async def scenario() -> int:
        admission = MemoryAdmission(budget_bytes=10, queue_limit=0)
        await admission.acquire(1000)
        reserved = admission.reserved_bytes
        await admission.release(1000)
        return reserved

    assert asyncio.run(scenario()) == 1000
