"""The asynchronous load engine that load, performance and soak scenarios measure with.

``LoadEngine`` runs asynchronous clients that share keep-alive connection pools
(``httpx.AsyncClient``), either

* closed-loop: N users, each sending its next request as soon as its previous one is answered;
* open-loop: requests arrive at a mean rate whether or not earlier ones were answered, as
  independent users do: evenly spaced (``constant``), with exponential gaps (``poisson``) or
  with gamma gaps (``gamma``, a burstiness factor: below 1 burstier than Poisson, above 1
  steadier), all drawn from a seed;

and times every request: end-to-end latency (sent to last byte), and for streams the time to the
first token and the gaps between tokens. A run is always bounded by a request count, a duration,
or both, and by a hard deadline; it stops by itself. ``interleaved_pairs`` compares two
workloads pair by pair. ``warmup`` requests, sent before the clock starts, are kept apart
(``LoadResult.warmup``) and count in no figure. The engine's own overhead is measured in
``atlas_suite.calibration``.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import json
import math
import random
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from atlas_suite import sse
from atlas_suite.load_result import LoadResult, Sample, error_type
from atlas_suite.stats import percentile
from atlas_suite.workloads import RequestSpec, Workload

HARD_DEADLINE_S = 3600.0 * 25  # no run lasts longer than a 24-hour soak and its margin
ARRIVALS = ("constant", "poisson", "gamma")


def arrival_gaps(rate_per_s: float, arrival: str = "constant", *, burstiness: float = 1.0,
                 seed: int = 0) -> Iterator[float]:
    """Seconds between successive arrivals at a mean of ``rate_per_s``: ``constant`` (1/rate
    each), ``poisson`` (exponential) or ``gamma`` (shape ``burstiness``, mean 1/rate; shape 1
    is Poisson), the same sequence for the same seed."""
    if arrival not in ARRIVALS:
        raise ValueError(f"unknown arrival process {arrival!r}: use one of {', '.join(ARRIVALS)}")
    if rate_per_s <= 0 or burstiness <= 0:
        raise ValueError("arrivals need a positive rate and burstiness")
    rng = random.Random(seed)
    while True:
        if arrival == "constant":
            yield 1.0 / rate_per_s
        elif arrival == "poisson":
            yield rng.expovariate(rate_per_s)
        else:
            yield rng.gammavariate(burstiness, 1.0 / (rate_per_s * burstiness))



@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class Pools:
    """Shared keep-alive connection pools (``httpx.AsyncClient``), ``pool_size`` connections
    each, enough for ``connections`` requests in flight; caller ``i`` uses pool ``i // size``.

    Why several pools of a few connections rather than one of fifty: httpcore's pool scans every
    connection it holds on each request's start and end, so one pool of 50 busy connections
    costs milliseconds of event-loop time per request (measured: at most 170 to 360 requests/s
    against a server that does nothing, against 1 150 with pools of 8). ``pool_size=0`` puts
    everyone on one pool.
    """

    def __init__(self, engine: LoadEngine, connections: int) -> None:
        size = engine.pool_size if engine.pool_size > 0 else connections
        self.size = max(1, min(size, connections))
        limits = httpx.Limits(max_connections=self.size, max_keepalive_connections=self.size,
                              keepalive_expiry=30)
        timeout = httpx.Timeout(engine.timeout_s, connect=min(10.0, engine.timeout_s))
        # one TLS context for all (building one per client costs ~15 ms: load it once)
        tls = _tls_context()
        self.clients = [httpx.AsyncClient(limits=limits, timeout=timeout, verify=tls,
                                          headers=engine.headers, trust_env=False)
                        for _ in range(math.ceil(connections / self.size))]

    def for_caller(self, i: int) -> httpx.AsyncClient:
        return self.clients[(i // self.size) % len(self.clients)]

    async def __aenter__(self) -> Pools:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for client in self.clients:
            await client.aclose()


class LoadEngine:
    """Asynchronous clients on shared keep-alive connection pools (``httpx.AsyncClient``).

    ``timeout_s`` bounds every request; ``pool_size`` is the connections per pool (see
    ``Pools``); there are always as many connections as users (or as the open loop's
    ``max_in_flight``), so nobody waits for a connection. ``on_sample`` sees every sample as
    it completes (a live view).
    """

    def __init__(self, *, headers: dict[str, str] | None = None, timeout_s: float = 120.0,
                 pool_size: int = 8, on_sample: Callable[[Sample], None] | None = None) -> None:
        self.headers = dict(headers or {})
        self.timeout_s = timeout_s
        self.pool_size = pool_size
        self.on_sample = on_sample

    async def send(self, client: httpx.AsyncClient, spec: RequestSpec, index: int,
                   t0: float, scheduled_s: float | None = None) -> Sample:
        """Send one request and time it; never raises for what the server or network does."""
        started = time.perf_counter()
        sample = Sample(index, spec.label, started - t0)
        if scheduled_s is not None:
            sample.lateness_ms = (sample.sent_s - scheduled_s) * 1000.0
        try:
            if spec.stream:
                await self._stream(client, spec, sample, started)
            else:
                reply = await client.request(spec.method, spec.url, json=spec.body)
                sample.latency_ms = (time.perf_counter() - started) * 1000.0
                self._read_answer(spec, sample, reply.status_code, reply.text)
        except httpx.HTTPError as exc:
            sample.latency_ms = (time.perf_counter() - started) * 1000.0
            sample.error = type(exc).__name__
            sample.detail = str(exc)[:300] or type(exc).__name__
        if self.on_sample is not None:
            self.on_sample(sample)
        return sample

    @staticmethod
    def _read_answer(spec: RequestSpec, sample: Sample, status: int, text: str) -> None:
        sample.status = status
        if not 200 <= status < 300:
            sample.error = error_type(status, text)
            sample.detail = text[:300]
            return
        try:
            payload = json.loads(text) if text else None
        except ValueError:
            sample.error, sample.detail = "invalid_json", text[:300]
            return
        if isinstance(payload, dict):
            usage = payload.get("usage") or {}
            sample.tokens = int(usage.get("completion_tokens") or 0)
            sample.prompt_tokens = int(usage.get("prompt_tokens") or 0)
            atlas = payload.get("atlas")
            sample.atlas = atlas if isinstance(atlas, dict) else None
        if spec.keep_payload:
            sample.payload = payload

    @staticmethod
    async def _stream(client: httpx.AsyncClient, spec: RequestSpec, sample: Sample,
                      started: float) -> None:
        async with client.stream(spec.method, spec.url, json=spec.body) as reply:
            sample.status = reply.status_code
            if not 200 <= reply.status_code < 300:
                text = (await reply.aread()).decode("utf-8", "replace")
                sample.latency_ms = (time.perf_counter() - started) * 1000.0
                sample.error, sample.detail = error_type(reply.status_code, text), text[:300]
                return
            done, events, last, usage = False, 0, None, {}
            kept: list[dict[str, Any]] | None = [] if spec.keep_payload else None
            try:
                async for data in sse.aevents(reply):  # to the end: the connection is reused
                    if sse.is_done(data):
                        done = True
                        continue
                    try:
                        event = sse.chunk(data)
                    except ValueError:
                        event = None
                    if not isinstance(event, dict):
                        sample.error, sample.detail = "invalid_event", data[:300]
                        continue
                    now = time.perf_counter()
                    if kept is not None:
                        kept.append(event)
                    if sse.has_token(event):
                        events += 1
                        if last is None:
                            sample.ttft_ms = (now - started) * 1000.0
                        else:
                            sample.itl_ms.append((now - last) * 1000.0)
                        last = now
                    if isinstance(event.get("atlas"), dict):
                        sample.atlas = event["atlas"]
                    usage = event.get("usage") or usage
            except sse.SSEError as exc:
                sample.error, sample.detail = "not_event_stream", str(exc)[:300]
            sample.latency_ms = (time.perf_counter() - started) * 1000.0
            sample.tokens = int(usage.get("completion_tokens") or events)
            sample.prompt_tokens = int(usage.get("prompt_tokens") or 0)
            sample.payload = kept
            if not done and sample.error is None:
                sample.error, sample.detail = "incomplete_stream", "the stream ended without [DONE]"

    async def _warm_up(self, pools: Pools, workload: Workload, count: int, users: int
                       ) -> list[Sample]:
        """``count`` requests (indices 0..count-1) from ``users`` users before the clock starts."""
        samples: list[Sample] = []
        counter = iter(range(count))
        t0 = time.perf_counter()

        async def user(client: httpx.AsyncClient) -> None:
            for index in counter:
                samples.append(await self.send(client, workload(index), index, t0))

        if count > 0:
            await asyncio.wait_for(
                asyncio.gather(*(user(pools.for_caller(i)) for i in range(max(1, users)))),
                timeout=self.timeout_s * count + 30)
        return sorted(samples, key=lambda s: s.sent_s)

    # -- closed loop ----------------------------------------------------------------------------
    async def closed_loop_async(self, workload: Workload, users: int, *,
                                requests: int | None = None, duration_s: float | None = None,
                                warmup: int = 0) -> LoadResult:
        """``users`` users send back to back until ``requests`` were sent or ``duration_s``
        passed (whichever comes first; at least one of them is required), after ``warmup``
        requests that count in no figure."""
        if requests is None and duration_s is None:
            raise ValueError("a closed loop needs a request count, a duration, or both")
        if users < 1:
            raise ValueError("a closed loop needs at least one user")
        budget = duration_s if duration_s is not None else HARD_DEADLINE_S
        samples: list[Sample] = []
        counter = iter(range(warmup, warmup + requests if requests is not None else 2**62))

        async def user(client: httpx.AsyncClient) -> None:
            for index in counter:
                if time.perf_counter() >= stop_at:
                    return
                samples.append(await self.send(client, workload(index), index, t0))

        async with Pools(self, users) as pools:  # made before the clock starts
            warm = await self._warm_up(pools, workload, warmup, users)
            t0 = time.perf_counter()
            stop_at = t0 + budget
            await asyncio.wait_for(
                asyncio.gather(*(user(pools.for_caller(i)) for i in range(users))),
                timeout=budget + self.timeout_s + 30)
        elapsed = time.perf_counter() - t0
        stopped = "count" if requests is not None and len(samples) >= requests else "duration"
        samples.sort(key=lambda s: s.sent_s)
        return LoadResult("closed", samples, elapsed, users=users, stopped_by=stopped,
                          started_at=t0, warmup=warm)

    def closed_loop(self, workload: Workload, users: int, *, requests: int | None = None,
                    duration_s: float | None = None, warmup: int = 0) -> LoadResult:
        """``closed_loop_async`` on its own event loop (for synchronous callers such as steps)."""
        return asyncio.run(self.closed_loop_async(workload, users, requests=requests,
                                                  duration_s=duration_s, warmup=warmup))

    # -- open loop ------------------------------------------------------------------------------
    async def open_loop_async(self, workload: Workload, rate_per_s: float, *,
                              duration_s: float, requests: int | None = None,
                              max_in_flight: int = 256, poisson: bool = False, seed: int = 0,
                              arrival: str | None = None, burstiness: float = 1.0,
                              warmup: int = 0) -> LoadResult:
        """Requests arrive at a mean ``rate_per_s`` for ``duration_s`` (or until ``requests``
        were scheduled), with the gaps of ``arrival`` (``arrival_gaps``; ``poisson=True`` is
        the older spelling of ``arrival="poisson"``) drawn from ``seed``, after ``warmup``
        requests sent one at a time that count in no figure. An arrival that finds
        ``max_in_flight`` requests unanswered is not sent and counted."""
        if rate_per_s <= 0 or duration_s <= 0:
            raise ValueError("an open loop needs a positive rate and duration")
        arrival = arrival or ("poisson" if poisson else "constant")
        gaps = arrival_gaps(rate_per_s, arrival, burstiness=burstiness, seed=seed)
        samples: list[Sample] = []
        tasks: set[asyncio.Task[None]] = set()
        not_sent = 0
        t0 = 0.0

        async def one(client: httpx.AsyncClient, index: int, at: float) -> None:
            samples.append(await self.send(client, workload(index), index, t0, scheduled_s=at))

        async with Pools(self, max_in_flight) as pools:  # made before the clock starts
            warm = await self._warm_up(pools, workload, warmup, 1)
            t0 = time.perf_counter()
            index, at = warmup, 0.0
            while at < duration_s and (requests is None or index - warmup < requests):
                delay = t0 + at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if len(tasks) >= max_in_flight:
                    not_sent += 1
                else:
                    task = asyncio.create_task(one(pools.for_caller(index), index, at))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                index += 1
                # constant: index / rate, not a running sum, so rounding never drifts
                at = ((index - warmup) / rate_per_s if arrival == "constant"
                      else at + next(gaps))
            if tasks:
                await asyncio.wait_for(asyncio.gather(*tasks), timeout=self.timeout_s + 30)
        elapsed = time.perf_counter() - t0
        samples.sort(key=lambda s: s.sent_s)
        stopped = ("count" if requests is not None and index - warmup >= requests
                   else "duration")
        if stopped == "duration":  # the window lasted its duration, even when the last
            elapsed = max(elapsed, duration_s)  # arrival came (and was answered) before its end
        label = f"gamma (burstiness {burstiness:g})" if arrival == "gamma" else arrival
        return LoadResult("open", samples, elapsed, rate_per_s=rate_per_s, not_sent=not_sent,
                          stopped_by=stopped, started_at=t0, warmup=warm, arrival=label)

    def open_loop(self, workload: Workload, rate_per_s: float, *, duration_s: float,
                  requests: int | None = None, max_in_flight: int = 256,
                  poisson: bool = False, seed: int = 0, arrival: str | None = None,
                  burstiness: float = 1.0, warmup: int = 0) -> LoadResult:
        """``open_loop_async`` on its own event loop."""
        return asyncio.run(self.open_loop_async(
            workload, rate_per_s, duration_s=duration_s, requests=requests,
            max_in_flight=max_in_flight, poisson=poisson, seed=seed, arrival=arrival,
            burstiness=burstiness, warmup=warmup))


# -- paired comparisons --------------------------------------------------------------------------
def interleaved_pairs(engine: LoadEngine, first: Workload, second: Workload, pairs: int, *,
                      warmup: int = 5, duration_s: float = 600.0) -> dict[str, Any]:
    """Send ``pairs`` pairs (one of each workload) one request at a time, alternating which
    goes first; answers both series and the per-pair differences ``second - first`` in ms.

    Noise that hits a whole moment of the machine hits both members of a pair alike, so the
    median of the per-pair differences is far steadier than the difference of two medians.
    """

    def workload(i: int) -> RequestSpec:
        pair, member = divmod(i, 2)
        second_first = pair % 2 == 1
        chosen = second if (member == 0) == second_first else first
        return chosen(pair)

    if warmup:
        engine.closed_loop(workload, 1, requests=2 * warmup, duration_s=duration_s)
    result = engine.closed_loop(workload, 1, requests=2 * pairs, duration_s=duration_s)
    by_pair: dict[int, dict[str, Sample]] = collections.defaultdict(dict)
    labels = {"first": first(0).label, "second": second(0).label}
    if labels["first"] == labels["second"]:
        raise ValueError("the two workloads of a pair need different labels")
    for sample in result.samples:
        by_pair[sample.index // 2][sample.label] = sample
    complete = [p for p in by_pair.values()
                if len(p) == 2 and all(s.ok for s in p.values())]
    a = [p[labels["first"]].latency_ms for p in complete]
    b = [p[labels["second"]].latency_ms for p in complete]
    diffs = [y - x for x, y in zip(a, b, strict=True)]
    return {"result": result, "labels": labels, "first_ms": a, "second_ms": b, "diff_ms": diffs,
            "paired_median_ms": percentile(diffs, 50),
            "median_difference_ms": percentile(b, 50) - percentile(a, 50),
            "pairs_complete": len(complete), "pairs_sent": pairs}
