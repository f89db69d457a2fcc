"""The fuzzer's judgement: it must fail a wrong server, report it as curl, and bound its work."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from atlas_suite import fuzzing
from atlas_suite.fuzzing import FuzzBudget, FuzzReport, FuzzTarget

KEY = "fuzz-test-key-77"
Answer = Callable[[BaseHTTPRequestHandler], tuple[int, dict]]


def _serve(answer: Answer) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            status, body = answer(self)
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _reply  # noqa: N815 - http.server's names

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def _run(answer: Answer, tmp_path: Path, **budget: object) -> FuzzReport:
    memory = tmp_path / "memory"
    memory.mkdir()
    for base_url in _serve(answer):
        target = FuzzTarget(base_url, KEY, memory, tmp_path, atlas=False)
        return fuzzing.fuzz(target, FuzzBudget(**{"examples": 2, "seconds": 60, **budget}))
    raise AssertionError("unreachable")


def _error(status: int) -> dict:
    return {"error": {"message": "no", "type": "server_error", "code": status, "param": None}}


def test_a_server_that_answers_500_fails_every_route_with_a_curl_line(tmp_path: Path) -> None:
    report = _run(lambda handler: (500, _error(500)), tmp_path)
    assert report.requests > 0
    assert len(report.findings) == report.requests
    first = report.findings[0]
    assert "Server error" in first.check
    assert first.curl.startswith("curl ") and fuzzing.KEY_PLACEHOLDER in first.curl
    assert KEY not in report.summary()


def test_a_server_that_echoes_the_key_is_caught(tmp_path: Path) -> None:
    def echo(handler: BaseHTTPRequestHandler) -> tuple[int, dict]:
        return 401, {"error": {"message": f"bad key {handler.headers.get('authorization')}",
                               "type": "authentication_error", "code": 401, "param": None}}

    report = _run(echo, tmp_path, modes=("positive",))
    leaks = [f for f in report.findings if "API key in the answer" in f.check]
    assert leaks and KEY not in leaks[0].message


def test_a_server_that_writes_outside_its_memory_folder_is_caught(tmp_path: Path) -> None:
    def litter(handler: BaseHTTPRequestHandler) -> tuple[int, dict]:
        (tmp_path / f"stray-{handler.path.strip('/').replace('/', '-')}").touch()
        return 200, {"status": "ok"}

    report = _run(litter, tmp_path, modes=("positive",))
    assert any("file outside the memory folder" in f.check for f in report.findings)


def test_files_inside_the_memory_folder_are_fine(tmp_path: Path) -> None:
    memory = tmp_path / "memory"
    memory.mkdir()
    watch = fuzzing.FileWatch(FuzzTarget("http://x", None, memory, tmp_path))
    (memory / "a.atlas").write_bytes(b"x")
    assert watch.changes() is None
    (tmp_path / "escape.atlas").write_bytes(b"x")
    assert "escape.atlas" in (watch.changes() or "")


@pytest.mark.parametrize(("given", "sent"), [
    (None, 4), (3, 3), (4096, 4), (-1, 4), (0, 4), (1e9, 4), ("many", "many"), (True, True)])
def test_completions_generate_at_most_the_budget(given: object, sent: object) -> None:
    body = {"prompt": "x"} if given is None else {"prompt": "x", "max_tokens": given}
    case = SimpleNamespace(body=body, operation=SimpleNamespace(path="/v1/completions"))
    fuzzing.bound_generation(case, 4)
    assert body["max_tokens"] == sent


def test_other_routes_keep_their_body() -> None:
    body = {"max_tokens": 9999}
    fuzzing.bound_generation(SimpleNamespace(body=body, operation=SimpleNamespace(
        path="/v1/atlas/config")), 4)
    assert body == {"max_tokens": 9999}


def test_the_budget_comes_from_userdata() -> None:
    assert fuzzing.budget_from_userdata({}) == FuzzBudget(
        examples=fuzzing.DEFAULT_EXAMPLES, seconds=fuzzing.DEFAULT_SECONDS, seed=0)
    budget = fuzzing.budget_from_userdata({"fuzz_examples": "50", "fuzz_seconds": "600",
                                           "fuzz_seed": "random"})
    assert (budget.examples, budget.seconds, budget.seed) == (50, 600.0, None)
    with pytest.raises(ValueError, match="fuzz_examples"):
        fuzzing.budget_from_userdata({"fuzz_examples": "0"})


def test_a_plain_server_is_not_asked_for_the_atlas_routes() -> None:
    paths = fuzzing.document_for(FuzzTarget("http://x", atlas=False))["paths"]
    assert "/v1/completions" in paths and not any(p.startswith("/v1/atlas/") for p in paths)


def test_routes_no_request_reached_are_named() -> None:
    report = FuzzReport()
    report.by_operation["GET /health (positive)"] = 1
    missing = fuzzing.untried_routes(report, FuzzTarget("http://x", atlas=False))
    assert "GET /health" not in missing and "POST /v1/completions" in missing
