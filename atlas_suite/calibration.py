"""The engine measured against a server that does no work: its own overhead is then known.

``TrivialServer`` is a minimal local HTTP server that answers at once (or streams tokens at a
fixed interval); ``measure_engine_overhead`` drives it with the engine and a raw socket client
(figures in docs/load.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from atlas_suite import routes
from atlas_suite.load_engine import LoadEngine
from atlas_suite.stats import distribution, percentile
from atlas_suite.workloads import RequestSpec, cycling


class TrivialServer:
    """A minimal HTTP/1.1 keep-alive server on 127.0.0.1 that does no work.

    POST with ``"stream": true`` in the body: ``tokens`` server-sent events, ``interval_s``
    apart, then ``[DONE]``. A path in ``routes``: that JSON. With a ``handler``, any other
    request gets the JSON it returns for (path, parsed body): a stand-in server for the
    experiments' unit tests. Otherwise: a small
    completion JSON at once. A path that contains ``status=NNN`` answers that status with an
    OpenAI error envelope.
    """

    def __init__(self, tokens: int = 8, interval_s: float = 0.0,
                 routes: dict[str, Any] | None = None,
                 handler: Callable[[str, Any], Any] | None = None) -> None:
        self.handler = handler
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
                # the send time (perf_counter: CLOCK_MONOTONIC, the same clock in every
                # process here) lets a client's gaps be compared with the server's real ones
                _chunk(writer, f'data: {{"choices": [{{"text": "t{k}"}}], '
                               f'"sent": {time.perf_counter()!r}}}\n\n'.encode())
                await writer.drain()
            _chunk(writer, b"data: [DONE]\n\n")
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return
        if self.handler is not None:
            _json_answer(writer, json.dumps(self.handler(path, json.loads(body or b"null")))
                         .encode())
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
                   routes: dict[str, Any] | None = None,
                   handler: Callable[[str, Any], Any] | None = None) -> Iterator[TrivialServer]:
    """A running ``TrivialServer``, stopped on exit."""
    with TrivialServer(tokens, interval_s, routes, handler) as server:
        yield server


def raw_socket_latencies(url: str, count: int) -> list[float]:
    """Round trips of a minimal blocking keep-alive socket client (the floor under any client)."""
    host, port = url.split("//")[1].split(":")
    request = (f"POST {routes.COMPLETIONS} HTTP/1.1\r\nHost: x\r\n"
               "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}").encode()
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
        spec = RequestSpec(server.url + routes.COMPLETIONS, {"prompt": "x"}, label="trivial")
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
        spec = RequestSpec(server.url + routes.COMPLETIONS, body, label="stream")
        for n in (1, stream_users):
            run = engine.closed_loop(cycling(spec), n, requests=n * 5)
            itl = run.summary()["itl_ms"]
            figures[f"stream_timing_{n}_users"] = {
                "interval_ms": interval_ms, "itl_ms": itl,
                "itl_error_p50_ms": (itl["p50"] or math.nan) - interval_ms,
                "ttft_ms": run.summary()["ttft_ms"]}
    return figures


# -- the engine's own ceiling ----------------------------------------------------------------------
def _serve_in_process(tokens: int, interval_s: float, ports: Any, stop: Any) -> None:
    with trivial_server(tokens=tokens, interval_s=interval_s) as server:
        ports.put(server.port)
        stop.wait()


@contextlib.contextmanager
def streaming_server_process(tokens: int, interval_s: float) -> Iterator[str]:
    """A ``TrivialServer`` streaming ``tokens`` chunks ``interval_s`` apart, in a process of its
    own, so that it does not share the engine's interpreter lock; yields its URL."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    ports, stop = context.Queue(), context.Event()
    process = context.Process(target=_serve_in_process, args=(tokens, interval_s, ports, stop),
                              daemon=True)
    process.start()
    try:
        yield f"http://127.0.0.1:{ports.get(timeout=60)}"
    finally:
        stop.set()
        process.join(timeout=10)
        if process.is_alive():
            process.kill()


def server_gaps_ms(events: list[dict[str, Any]]) -> list[float]:
    """The gaps between the chunks as the server sent them, from the send times it stamped."""
    sent = [e["sent"] for e in events if isinstance(e.get("sent"), float)]
    return [(b - a) * 1000.0 for a, b in itertools.pairwise(sent)]


def timing_errors(result: Any, interval_ms: float) -> list[float]:
    """How far each inter-token gap the engine recorded is from the same gap as the server
    sent it (ms): the engine's own error, whatever the server's scheduling jitter. A stream
    whose events were not kept, or carry no send times, is compared with the interval."""
    errors = []
    for sample in result.succeeded:
        sent = server_gaps_ms(sample.payload or [])
        if len(sent) != len(sample.itl_ms):
            sent = [interval_ms] * len(sample.itl_ms)
        errors.extend(abs(gap - server) for gap, server in zip(sample.itl_ms, sent, strict=True))
    return errors


def server_jitter(result: Any, interval_ms: float) -> list[float]:
    """How far the server's own gaps were from its interval (ms): the noise that comparing
    with the server's send times takes out of the engine's error."""
    return [abs(gap - interval_ms) for sample in result.succeeded
            for gap in server_gaps_ms(sample.payload or [])]


def ceiling_step(spec: RequestSpec, streams: int, processes: int, *, interval_ms: float,
                 tokens: int, quantile: float, tolerance_ms: float) -> dict[str, Any]:
    """``streams`` concurrent streams (two each) over ``processes`` processes: the aggregate
    chunk rate asked for, the engine's timing error against the server's own gaps, and the
    server's jitter against its interval (for context)."""
    from atlas_suite.load_processes import closed_loop_processes

    processes = min(processes, streams)
    result = closed_loop_processes([spec], streams, requests=2 * streams, processes=processes,
                                   timeout_s=60)
    errors = timing_errors(result, interval_ms)
    error_q = percentile(errors, quantile) if errors else math.inf
    jitter = server_jitter(result, interval_ms)
    return {"streams": streams, "processes": processes,
            "chunks_per_s": streams * 1000.0 / interval_ms,
            "failed": len(result.failed), "gaps": len(errors),
            "error_ms": distribution(errors), f"error_p{quantile:g}_ms": error_q,
            f"server_jitter_p{quantile:g}_ms": percentile(jitter, quantile) if jitter
            else math.nan,
            "within": not result.failed and error_q <= tolerance_ms}


def measure_engine_ceiling(*, interval_ms: float = 10.0, tokens: int = 20,
                           streams: tuple[int, ...] = (1, 5, 10, 25, 50, 100, 200, 400),
                           tolerance_ms: float = 1.0, quantile: float = 95.0,
                           max_processes: int | None = None) -> dict[str, Any]:
    """The highest aggregate chunk rate at which the engine's inter-token gaps stay within
    ``tolerance_ms`` of the server's interval (at the ``quantile``-th percentile of the
    absolute errors), stepping the concurrent streams up; where one process falls outside,
    the step is run again over twice the processes (up to ``max_processes``, the CPU count,
    and never more than the streams). It stops after a step outside the bounds on every
    process it may use."""
    import os

    limit = max_processes or os.cpu_count() or 1
    options = {"interval_ms": interval_ms, "tokens": tokens, "quantile": quantile,
               "tolerance_ms": tolerance_ms}
    rows: list[dict[str, Any]] = []
    processes = 1
    with streaming_server_process(tokens, interval_ms / 1000.0) as url:
        spec = RequestSpec(url + routes.COMPLETIONS, {"prompt": "x", "stream": True},
                           label="stream", keep_payload=True)
        for n in streams:
            row = ceiling_step(spec, n, processes, **options)
            while not row["within"] and processes < min(limit, n):
                rows.append(row)
                processes = min(limit, n, processes * 2)
                row = ceiling_step(spec, n, processes, **options)
            rows.append(row)
            if not row["within"] and n >= limit:  # more streams on as many processes: no better
                break
    return _ceiling_summary(rows, options)


def _ceiling_summary(rows: list[dict[str, Any]], options: dict[str, Any]) -> dict[str, Any]:
    def best(candidates: list[dict[str, Any]]) -> dict[str, Any] | None:
        return max(candidates, key=lambda r: r["chunks_per_s"], default=None)

    within = [r for r in rows if r["within"]]
    top, single = best(within), best([r for r in within if r["processes"] == 1])
    return {**options, "steps": rows,
            "ceiling_chunks_per_s": top["chunks_per_s"] if top else 0.0,
            "processes_used": top["processes"] if top else 1,
            "single_process_ceiling_chunks_per_s": single["chunks_per_s"] if single else 0.0}
