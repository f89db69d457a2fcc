"""The burst helper and the SSE parser, against a tiny local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from atlas_suite.http import parse_sse_lines
from atlas_suite.workloads import burst


class _Handler(BaseHTTPRequestHandler):
    count = 0
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        self.rfile.read(int(self.headers["Content-Length"]))
        with self.lock:
            _Handler.count += 1
            status = 200 if _Handler.count % 2 else 503
        body = json.dumps({"error": {"message": "out of memory"}} if status == 503 else {})
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def local_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/x"
    server.shutdown()


def test_burst_counts_every_answer(local_url: str) -> None:
    result = burst(local_url, {"a": 1}, count=10, workers=4)
    assert sum(result.statuses().values()) == 10
    assert set(result.statuses()) == {200, 503}
    assert all("memory" in body for body in result.bodies(503))
    assert result.transport_errors == []


def test_burst_reports_refused_connections() -> None:
    result = burst("http://127.0.0.1:9/x", {}, count=2, workers=2, timeout_s=2)
    assert len(result.transport_errors) == 2 and "no answers" in result.summary()


def test_sse_parser_stops_at_done() -> None:
    lines = iter(['data: {"a": 1}', "", ": keep-alive", "", 'data: {"b": 2}', "",
                  "data: [DONE]", "", 'data: {"c": 3}', ""])
    assert list(parse_sse_lines(lines)) == [{"a": 1}, {"b": 2}, "[DONE]"]
