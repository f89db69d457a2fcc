"""Load generation: a thread burst for fault scenarios, and the asynchronous load engine.

``burst`` fires N identical requests through a thread pool (the overload scenarios).

``LoadEngine`` is what load, performance and soak scenarios measure with: asynchronous clients
that share one connection pool (one ``httpx.AsyncClient``), run either

* closed-loop: N users, each sending its next request as soon as its previous one is answered;
* open-loop: requests arrive at a fixed rate (evenly spaced, or Poisson with a seed) whether or
  not earlier ones were answered, as independent users do;

and time every request: end-to-end latency (sent to last byte), and for streams the time to the
first token and the gaps between tokens. A run is always bounded by a request count, a duration,
or both, and by a hard deadline; it stops by itself.

Percentiles are ``numpy.percentile(values, q, method="linear")``: Hyndman and Fan's definition 7
(the default of NumPy, R and Excel's PERCENTILE.INC). For sorted values x[0..n-1] the q-th
percentile is x[k] + f * (x[k+1] - x[k]) with h = (n - 1) * q / 100, k = floor(h), f = h - k. It
interpolates between two observations, so p99 of 100 samples lies between the 99th and the 100th
largest, never beyond the maximum. The server's own ``/v1/atlas/metrics`` uses the same method.

``trivial_server`` is a minimal local HTTP server that answers at once (or streams tokens at a
fixed interval): the engine is measured against it, so its own overhead is known
(``measure_engine_overhead``; figures in docs/load.md).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import json
import math
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import numpy as np
import requests

PERCENTILE_METHOD = "linear"
PERCENTILES = (50, 95, 99)
HARD_DEADLINE_S = 3600.0 * 25  # no run lasts longer than a 24-hour soak and its margin


# -- the burst of the fault scenarios ---------------------------------------------------------
@dataclass
class BurstResult:
    """What a burst of identical requests got back."""

    answers: list[tuple[int, str]] = field(default_factory=list)  # (status, body)
    transport_errors: list[str] = field(default_factory=list)  # no HTTP answer at all

    def statuses(self) -> collections.Counter[int]:
        return collections.Counter(status for status, _ in self.answers)

    def bodies(self, status: int) -> list[str]:
        return [body for code, body in self.answers if code == status]

    def summary(self) -> str:
        counts = ", ".join(f"{n} x HTTP {s}" for s, n in sorted(self.statuses().items()))
        errors = f", {len(self.transport_errors)} without an answer" if self.transport_errors \
            else ""
        return (counts or "no answers") + errors


def burst(url: str, body: dict[str, Any], *, count: int, workers: int,
          headers: dict[str, str] | None = None, timeout_s: float = 300) -> BurstResult:
    """POST ``body`` to ``url`` ``count`` times through ``workers`` threads at once."""
    payload = json.dumps(body)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    result = BurstResult()

    def one(_: int) -> None:
        try:
            reply = requests.post(url, data=payload, headers=all_headers, timeout=timeout_s)
            result.answers.append((reply.status_code, reply.text))
        except requests.RequestException as exc:
            result.transport_errors.append(f"{type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, range(count)))
    return result


# -- percentiles ---------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by ``numpy.percentile(method="linear")``; NaN when empty."""
    if len(values) == 0:
        return math.nan
    return float(np.percentile(np.asarray(values, dtype=float), q, method=PERCENTILE_METHOD))


def distribution(values: Sequence[float]) -> dict[str, float | int | None]:
    """count, mean, min, p50, p95, p99 and max of ``values`` (None for each when empty)."""
    if len(values) == 0:
        return {"count": 0, "mean": None, "min": None, "p50": None, "p95": None, "p99": None,
                "max": None}
    array = np.asarray(values, dtype=float)
    p50, p95, p99 = np.percentile(array, PERCENTILES, method=PERCENTILE_METHOD)
    return {"count": int(array.size), "mean": float(array.mean()), "min": float(array.min()),
            "p50": float(p50), "p95": float(p95), "p99": float(p99), "max": float(array.max())}


def linear_fit(x: Sequence[float], y: Sequence[float]) -> dict[str, float]:
    """Least squares y = intercept + slope * x, with R² (1 - SS_res / SS_tot)."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.size < 2 or np.ptp(xs) == 0:
        return {"slope": math.nan, "intercept": math.nan, "r2": math.nan}
    slope, intercept = np.polyfit(xs, ys, 1)
    residual = ys - (intercept + slope * xs)
    total = float(((ys - ys.mean()) ** 2).sum())
    r2 = 1.0 - float((residual ** 2).sum()) / total if total > 0 else 1.0
    return {"slope": float(slope), "intercept": float(intercept), "r2": r2}


def slope_ratio(x: Sequence[float], y: Sequence[float]) -> float:
    """Slope fitted over the longer half of the x values / slope over the shorter half (the
    middle value in both): 1 for a straight line, about 4 for a quadratic on doubling x, and
    infinite when the shorter half does not rise at all."""
    order = sorted(set(x))
    if len(order) < 3:
        return math.nan
    middle = order[len(order) // 2]
    low = [(a, b) for a, b in zip(x, y, strict=True) if a <= middle]
    high = [(a, b) for a, b in zip(x, y, strict=True) if a >= middle]
    lo = linear_fit([a for a, _ in low], [b for _, b in low])["slope"]
    hi = linear_fit([a for a, _ in high], [b for _, b in high])["slope"]
    return hi / lo if lo > 0 else math.inf


# -- what to send --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RequestSpec:
    """One request: an absolute URL, a JSON body (or none), a label to group figures by."""

    url: str
    body: Any = None
    method: str = "POST"
    label: str = "request"
    keep_payload: bool = False  # keep the parsed JSON answer on the sample (small answers only)

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and self.body.get("stream") is True


Workload = Callable[[int], RequestSpec]  # request number (0, 1, ...) -> what to send


def cycling(*specs: RequestSpec) -> Workload:
    """A workload that sends ``specs`` in turn."""
    if not specs:
        raise ValueError("a workload needs at least one request")
    return lambda i: specs[i % len(specs)]


_WORD_TEXT = """
river harbour market bread morning lantern window garden letter mountain station winter summer
village forest candle bridge island engine doctor teacher kitchen silver orange yellow quiet
gentle rapid ancient modern simple careful distant narrow walked carried opened painted counted
followed noticed answered travelled gathered the a of and to in on with under over near across
before after while because
"""
_WORDS = tuple(_WORD_TEXT.split())


def varied_prompt(approx_tokens: int, seed: int) -> str:
    """English-like words, about ``approx_tokens`` tokens, different for every ``seed``.

    Every prompt starts differently, so the engine's prompt cache cannot reuse an earlier one:
    each request pays its whole prompt, as distinct users would.
    """
    rng = random.Random(seed)
    words = [f"Note {seed}:"]
    while len(words) < max(approx_tokens - 3, 2):  # about one token a word; the note is ~4
        words.append(rng.choice(_WORDS))
    return " ".join(words)


def completion_body(model: str, prompt: str, *, max_tokens: int, atlas: bool,
                    stream: bool = False, chat: bool = False, **atlas_fields: Any
                    ) -> dict[str, Any]:
    """A deterministic completion request; ``atlas`` adds ``{"atlas": {"enabled": true}}``."""
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "temperature": 0,
                            "seed": 42}
    if chat:
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    if atlas:
        body["atlas"] = {"enabled": True, **atlas_fields}
    if stream:
        body["stream"] = True
    return body


def completion_workload(base_url: str, model: str, *, max_tokens: int, atlas: bool = True,
                        stream: bool = False, prompt_tokens: int = 24, chat: bool = False,
                        label: str | None = None) -> Workload:
    """Completions of ``max_tokens`` tokens, each with its own short prompt (seeded by number)."""
    path = "/v1/chat/completions" if chat else "/v1/completions"
    name = label or ("atlas" if atlas else "plain") + ("-stream" if stream else "")

    def make(i: int) -> RequestSpec:
        body = completion_body(model, varied_prompt(prompt_tokens, i), max_tokens=max_tokens,
                               atlas=atlas, stream=stream, chat=chat)
        return RequestSpec(base_url.rstrip("/") + path, body, label=name)

    return make


def mixed_workload(base_url: str, model: str, *, max_tokens: int, prompt_tokens: int = 24
                   ) -> Workload:
    """ATLAS, streamed ATLAS and plain completions in turn (the soak's and the script's mix)."""
    kinds = [completion_workload(base_url, model, max_tokens=max_tokens, atlas=atlas,
                                 stream=stream, prompt_tokens=prompt_tokens)
             for atlas, stream in ((True, False), (True, True), (False, False))]
    return lambda i: kinds[i % len(kinds)](i)


# -- what came back ------------------------------------------------------------------------------
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


# -- the engine ----------------------------------------------------------------------------------
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
            async for line in reply.aiter_lines():  # read to the end: the connection is reused
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    done = True
                    continue
                try:
                    event = json.loads(data)
                except ValueError:
                    sample.error, sample.detail = "invalid_event", data[:300]
                    continue
                now = time.perf_counter()
                if _has_token(event):
                    events += 1
                    if last is None:
                        sample.ttft_ms = (now - started) * 1000.0
                    else:
                        sample.itl_ms.append((now - last) * 1000.0)
                    last = now
                if isinstance(event.get("atlas"), dict):
                    sample.atlas = event["atlas"]
                usage = event.get("usage") or usage
            sample.latency_ms = (time.perf_counter() - started) * 1000.0
            sample.tokens = int(usage.get("completion_tokens") or events)
            if not done and sample.error is None:
                sample.error, sample.detail = "incomplete_stream", "the stream ended without [DONE]"

    # -- closed loop ----------------------------------------------------------------------------
    async def closed_loop_async(self, workload: Workload, users: int, *,
                                requests: int | None = None, duration_s: float | None = None
                                ) -> LoadResult:
        """``users`` users send back to back until ``requests`` were sent or ``duration_s``
        passed (whichever comes first; at least one of them is required)."""
        if requests is None and duration_s is None:
            raise ValueError("a closed loop needs a request count, a duration, or both")
        if users < 1:
            raise ValueError("a closed loop needs at least one user")
        budget = duration_s if duration_s is not None else HARD_DEADLINE_S
        samples: list[Sample] = []
        counter = iter(range(requests if requests is not None else 2**62))

        async def user(client: httpx.AsyncClient) -> None:
            for index in counter:
                if time.perf_counter() >= stop_at:
                    return
                samples.append(await self.send(client, workload(index), index, t0))

        async with Pools(self, users) as pools:  # made before the clock starts
            t0 = time.perf_counter()
            stop_at = t0 + budget
            await asyncio.wait_for(
                asyncio.gather(*(user(pools.for_caller(i)) for i in range(users))),
                timeout=budget + self.timeout_s + 30)
        elapsed = time.perf_counter() - t0
        stopped = "count" if requests is not None and len(samples) >= requests else "duration"
        samples.sort(key=lambda s: s.sent_s)
        return LoadResult("closed", samples, elapsed, users=users, stopped_by=stopped,
                          started_at=t0)

    def closed_loop(self, workload: Workload, users: int, *, requests: int | None = None,
                    duration_s: float | None = None) -> LoadResult:
        """``closed_loop_async`` on its own event loop (for synchronous callers such as steps)."""
        return asyncio.run(self.closed_loop_async(workload, users, requests=requests,
                                                  duration_s=duration_s))

    # -- open loop ------------------------------------------------------------------------------
    async def open_loop_async(self, workload: Workload, rate_per_s: float, *,
                              duration_s: float, requests: int | None = None,
                              max_in_flight: int = 256, poisson: bool = False, seed: int = 0
                              ) -> LoadResult:
        """Requests arrive at ``rate_per_s`` for ``duration_s`` (or until ``requests`` were
        scheduled), evenly spaced or, with ``poisson``, with exponential gaps from ``seed``.
        An arrival that finds ``max_in_flight`` requests unanswered is not sent and counted."""
        if rate_per_s <= 0 or duration_s <= 0:
            raise ValueError("an open loop needs a positive rate and duration")
        rng = random.Random(seed)
        samples: list[Sample] = []
        tasks: set[asyncio.Task[None]] = set()
        not_sent = 0
        t0 = 0.0

        async def one(client: httpx.AsyncClient, index: int, at: float) -> None:
            samples.append(await self.send(client, workload(index), index, t0, scheduled_s=at))

        async with Pools(self, max_in_flight) as pools:  # made before the clock starts
            t0 = time.perf_counter()
            index, at = 0, 0.0
            while at < duration_s and (requests is None or index < requests):
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
                at = at + rng.expovariate(rate_per_s) if poisson else index / rate_per_s
            if tasks:
                await asyncio.wait_for(asyncio.gather(*tasks), timeout=self.timeout_s + 30)
        elapsed = time.perf_counter() - t0
        samples.sort(key=lambda s: s.sent_s)
        stopped = "count" if requests is not None and index >= requests else "duration"
        return LoadResult("open", samples, elapsed, rate_per_s=rate_per_s, not_sent=not_sent,
                          stopped_by=stopped, started_at=t0)

    def open_loop(self, workload: Workload, rate_per_s: float, *, duration_s: float,
                  requests: int | None = None, max_in_flight: int = 256,
                  poisson: bool = False, seed: int = 0) -> LoadResult:
        """``open_loop_async`` on its own event loop."""
        return asyncio.run(self.open_loop_async(
            workload, rate_per_s, duration_s=duration_s, requests=requests,
            max_in_flight=max_in_flight, poisson=poisson, seed=seed))


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


# -- the trivial server the engine is measured against -------------------------------------------
class TrivialServer:
    """A minimal HTTP/1.1 keep-alive server on 127.0.0.1 that does no work.

    POST with ``"stream": true`` in the body: ``tokens`` server-sent events, ``interval_s``
    apart, then ``[DONE]``. A path in ``routes``: that JSON. Any other request: a small
    completion JSON at once. A path that contains ``status=NNN`` answers that status with an
    OpenAI error envelope.
    """

    def __init__(self, tokens: int = 8, interval_s: float = 0.0,
                 routes: dict[str, Any] | None = None) -> None:
        self.tokens = tokens
        self.interval_s = interval_s
        self.routes = {path: json.dumps(body).encode() for path, body in (routes or {}).items()}
        self.port = 0
        self.requests = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trivial-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> TrivialServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the trivial server did not start within 10 s")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._server = loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError,
                                 asyncio.LimitOverrunError):
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                request_line, *header_lines = head.split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in
                           (line.partition(":") for line in header_lines if ":" in line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests += 1
                path = request_line.split(" ")[1] if " " in request_line else "/"
                await self._answer(writer, path, body)
        writer.close()

    async def _answer(self, writer: asyncio.StreamWriter, path: str, body: bytes) -> None:
        if "status=" in path:
            status = int(path.split("status=")[1][:3])
            payload = json.dumps({"error": {"message": "refused", "type": "unavailable_error",
                                            "code": status, "param": None}}).encode()
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
            await writer.drain()
            return
        if path.split("?")[0] in self.routes:
            _json_answer(writer, self.routes[path.split("?")[0]])
            await writer.drain()
            return
        if b'"stream": true' in body or b'"stream":true' in body:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            for k in range(self.tokens):
                if self.interval_s:
                    await asyncio.sleep(self.interval_s)
                _chunk(writer, f'data: {{"choices": [{{"text": "t{k}"}}]}}\n\n'.encode())
                await writer.drain()
            _chunk(writer, b"data: [DONE]\n\n")
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return
        _json_answer(writer, b'{"choices": [{"text": "ok"}], "usage": {"completion_tokens": 1}}')
        await writer.drain()


def _json_answer(writer: asyncio.StreamWriter, payload: bytes) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(payload) + payload)


def _chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(b"%x\r\n" % len(data) + data + b"\r\n")


@contextlib.contextmanager
def trivial_server(tokens: int = 8, interval_s: float = 0.0,
                   routes: dict[str, Any] | None = None) -> Iterator[TrivialServer]:
    """A running ``TrivialServer``, stopped on exit."""
    with TrivialServer(tokens, interval_s, routes) as server:
        yield server


def raw_socket_latencies(url: str, count: int) -> list[float]:
    """Round trips of a minimal blocking keep-alive socket client (the floor under any client)."""
    host, port = url.split("//")[1].split(":")
    request = (b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: 2\r\n\r\n{}")
    out = []
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(count):
            started = time.perf_counter()
            sock.sendall(request)
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = int([line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")][0])
            while len(rest) < length:
                rest += sock.recv(65536)
            out.append((time.perf_counter() - started) * 1000.0)
    return out


def measure_engine_overhead(*, sequential: int = 2000, users: int = 50,
                            concurrent_requests: int = 5000, stream_users: int = 50,
                            interval_ms: float = 10.0, tokens: int = 20,
                            open_rate: float = 200.0, open_seconds: float = 5.0
                            ) -> dict[str, Any]:
    """The engine against ``TrivialServer``: what it adds per request, how many requests per
    second it can drive, how exactly it times tokens, and how punctual its open loop is."""
    engine = LoadEngine(timeout_s=30)
    figures: dict[str, Any] = {}
    with trivial_server() as server:
        spec = RequestSpec(server.url + "/v1/completions", {"prompt": "x"}, label="trivial")
        raw_socket_latencies(server.url, 200)  # warm-up
        raw = raw_socket_latencies(server.url, sequential)
        engine.closed_loop(cycling(spec), 1, requests=200)
        one = engine.closed_loop(cycling(spec), 1, requests=sequential)
        figures["sequential"] = {
            "raw_socket_ms": distribution(raw), "engine_ms": one.summary()["latency_ms"],
            "engine_overhead_p50_ms": percentile(one.latencies(), 50) - percentile(raw, 50),
        }
        many = engine.closed_loop(cycling(spec), users, requests=concurrent_requests)
        figures["closed_loop_capacity"] = {"users": users,
                                           "requests_per_s": many.summary()["requests_per_s"],
                                           "latency_ms": many.summary()["latency_ms"]}
        opened = engine.open_loop(cycling(spec), open_rate, duration_s=open_seconds)
        figures["open_loop_punctuality"] = {"rate_per_s": open_rate,
                                            "lateness_ms": opened.summary()["lateness_ms"],
                                            "achieved_per_s": opened.summary()["requests_per_s"]}
    with trivial_server(tokens=tokens, interval_s=interval_ms / 1000.0) as server:
        body = {"prompt": "x", "stream": True}
        spec = RequestSpec(server.url + "/v1/completions", body, label="stream")
        for n in (1, stream_users):
            run = engine.closed_loop(cycling(spec), n, requests=n * 5)
            itl = run.summary()["itl_ms"]
            figures[f"stream_timing_{n}_users"] = {
                "interval_ms": interval_ms, "itl_ms": itl,
                "itl_error_p50_ms": (itl["p50"] or math.nan) - interval_ms,
                "ttft_ms": run.summary()["ttft_ms"]}
    return figures


# -- a table people read --------------------------------------------------------------------------
def _ms(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:,.1f}"


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(figure, value) rows of a ``LoadResult.summary()``, for a terminal or a report."""
    lat, ttft, itl = summary["latency_ms"], summary["ttft_ms"], summary["itl_ms"]
    errors = summary["errors"]
    kinds = ", ".join(f"{k}: {v}" for k, v in errors["by_type"].items()) or "none"
    statuses = ", ".join(f"{k}: {v}" for k, v in errors["by_status"].items()) or "none"
    load = (f"{summary['users']} users (closed loop)" if summary["mode"] == "closed"
            else f"{summary['rate_per_s']:g}/s arrivals (open loop)")
    rows = [
        ("load", load),
        ("duration", f"{summary['duration_s']:.1f} s"),
        ("requests sent / succeeded", f"{summary['requests']} / {summary['succeeded']}"),
        ("throughput", f"{summary['requests_per_s']:.2f} requests/s, "
                       f"{summary['tokens_per_s']:.1f} tokens/s"),
        ("latency p50 / p95 / p99 (ms)", f"{_ms(lat['p50'])} / {_ms(lat['p95'])} / "
                                         f"{_ms(lat['p99'])}"),
    ]
    if ttft["count"]:
        rows.append(("time to first token p50 / p95 (ms)", f"{_ms(ttft['p50'])} / "
                                                           f"{_ms(ttft['p95'])}"))
    if itl["count"]:
        rows.append(("inter-token latency p50 / p95 (ms)", f"{_ms(itl['p50'])} / "
                                                           f"{_ms(itl['p95'])}"))
    if summary["mode"] == "open":
        late = summary["lateness_ms"]
        rows.append(("send lateness p50 / p95 (ms)", f"{_ms(late['p50'])} / {_ms(late['p95'])}"))
        rows.append(("arrivals not sent (in-flight cap)", str(summary["not_sent"])))
    rows += [("errors by type", kinds), ("error statuses", statuses)]
    return rows


def render_table(rows: Sequence[tuple[str, str]]) -> str:
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)
