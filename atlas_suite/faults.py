"""Edges of the error, limit and security rules: exact-size bodies, chunked uploads, every
route of the API, answers that never come, health watched during a burst, a SIGINT stop."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from atlas_suite import routes
from atlas_suite.http import ApiClient, Exchange
from atlas_suite.routes import OPERATIONS, ROUTES, UNKNOWN, Route
from atlas_suite.server import ServerProcess
from atlas_suite.verdicts import NoAnswerInTime

# Every /v1 route of the contract (§2, §3; POSTs carry an empty JSON object), then the public
# routes outside /v1 and an unknown one: answers that must not leak anything either.
V1_ROUTES: tuple[Route, ...] = ROUTES
OTHER_ROUTES: tuple[Route, ...] = (*OPERATIONS, Route("GET", UNKNOWN, False))

# Routes that read state only: safe to call on any pooled server.
READ_ONLY_ROUTES: tuple[Route, ...] = tuple(
    r for r in V1_ROUTES + OTHER_ROUTES if r.method == "GET")

NO_ANSWER = 0  # the status an Exchange records when the server never answered


def send_route(client: ApiClient, route: Route, headers: dict[str, str] | None = None
               ) -> Exchange:
    """Send one route's request (an empty JSON object for a POST)."""
    body = "{}" if route.method == "POST" else None
    return client.request(route.method, route.path, body=body, headers=headers)


def padded_json(document: Any, size: int) -> bytes:
    """``document`` as JSON followed by spaces, exactly ``size`` bytes long (still valid JSON)."""
    text = json.dumps(document).encode("utf-8")
    if len(text) > size:
        raise ValueError(f"the JSON itself is {len(text)} bytes, more than {size}")
    return text + b" " * (size - len(text))


def _chunks(body: bytes, chunk_size: int) -> Iterator[bytes]:
    for start in range(0, len(body), chunk_size):
        yield body[start:start + chunk_size]


def post_chunked(client: ApiClient, path: str, body: bytes, chunk_size: int = 64 * 1024
                 ) -> Exchange:
    """POST ``body`` with ``Transfer-Encoding: chunked`` (no Content-Length to go by).

    A server may answer and close before it has read everything: what it answered is kept;
    a connection closed without any answer is recorded as status 0 with what happened.
    """
    headers = dict(client.headers, **{"Content-Type": "application/json"})
    try:
        reply = client.session.post(client.url(path), data=_chunks(body, chunk_size),
                                    headers=headers, timeout=client.timeout_s)
        exchange = Exchange("POST", path, reply.status_code, dict(reply.headers), reply.text)
    except requests.RequestException as exc:
        exchange = Exchange("POST", path, NO_ANSWER, {},
                            f"(no answer: the connection ended while sending a chunked body "
                            f"of {len(body)} bytes: {type(exc).__name__})")
    client.exchanges.append(exchange)
    return exchange


def request_or_silence(client: ApiClient, method: str, path: str, json_body: Any,
                       timeout_s: float) -> Exchange:
    """Send a request; when no answer comes within ``timeout_s``, record status 0 and say so
    (a request the server holds for ever must fail the scenario, not hang it)."""
    saved = client.timeout_s
    client.timeout_s = timeout_s
    try:
        return client.request(method, path, json_body=json_body)
    except (requests.Timeout, NoAnswerInTime):
        exchange = Exchange(method, path, NO_ANSWER, {},
                            f"(no answer within {timeout_s:.0f} s: the server is still holding "
                            "the request)")
        client.exchanges.append(exchange)
        return exchange
    finally:
        client.timeout_s = saved


@dataclass
class HealthWatch:
    """``/health`` answers seen while something else was going on."""

    answers: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """What was wrong: a non-200 answer, no answer at all, or no probe."""
        found = [f"/health answered {status}" for status in self.answers if status != 200]
        found += self.failures
        if not self.answers and not self.failures:
            found.append("/health was never probed")
        return found

    def summary(self) -> str:
        counts: dict[int, int] = {}
        for status in self.answers:
            counts[status] = counts.get(status, 0) + 1
        return f"{len(self.answers)} probes, statuses {counts}, {len(self.failures)} unanswered"


@contextlib.contextmanager
def watching_health(base_url: str, every_s: float = 0.25, timeout_s: float = 60.0
                    ) -> Iterator[HealthWatch]:
    """Probe ``GET /health`` from a background thread until the block ends (at least once)."""
    watch = HealthWatch()
    stop = threading.Event()

    def probe() -> None:
        with requests.Session() as session:
            while True:
                try:
                    watch.answers.append(session.get(base_url + routes.HEALTH,
                                                     timeout=timeout_s).status_code)
                except requests.RequestException as exc:
                    watch.failures.append(f"/health gave no answer: {type(exc).__name__}")
                if stop.wait(every_s):
                    return

    thread = threading.Thread(target=probe, name="health-watch", daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        stop.set()
        thread.join(timeout_s + 5)


def interrupt(process: ServerProcess, grace_s: float = 60.0) -> int | None:
    """Send SIGINT (Ctrl-C) and wait for the exit; a process still running after ``grace_s``
    is stopped the usual way. Answers the exit code the SIGINT produced, or None."""
    popen = process.popen
    if popen is None or popen.poll() is not None:
        raise AssertionError("the server is not running, so it cannot be interrupted")
    popen.send_signal(signal.SIGINT)
    try:
        code: int | None = popen.wait(grace_s)
    except subprocess.TimeoutExpired:
        code = None
    process.stop()  # joins the log pump; kills what is still running
    return code


def countdown_problems(exchanges: list[Exchange], limit: int,
                       header: str = "X-RateLimit-Remaining") -> list[str]:
    """Where the accepted answers carry ``header``, the k-th says ``limit - k``."""
    problems = []
    accepted = [e for e in exchanges if e.status == 200]
    for number, exchange in enumerate(accepted, 1):
        value = {k.lower(): v for k, v in exchange.headers.items()}.get(header.lower())
        if value is not None and value.strip() != str(limit - number):
            problems.append(f"accepted answer {number} says {header}: {value}, "
                            f"expected {limit - number}")
    return problems



def admission_overflow_unknown(status: dict, concurrency: int) -> str:
    """Why a burst of ``concurrency`` requests need not overflow this server's wait queue
    ("" when it must: the declared queue, plus one running request, is smaller)."""
    queue = (status.get("limits") or {}).get("admission_queue")
    if not isinstance(queue, int) or isinstance(queue, bool):
        return ("the server does not declare its wait queue (limits.admission_queue in the "
                "status), so no burst is known to overflow it")
    if queue + 1 >= concurrency:
        return (f"the server's wait queue holds {queue} requests, as many as the burst's "
                f"{concurrency} concurrent requests can fill")
    return ""
