"""What the server did, in product words: start refusals, refused ports, cut streams, timeouts.

Each case runs against something real and local: a tiny Python program that refuses a flag the
way llama-server does, an HTTP server that cuts its event stream, a port nobody listens on.
"""

from __future__ import annotations

import json
import socket
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from atlas_suite import traceability, verdicts
from atlas_suite.http import ApiClient, Exchange
from atlas_suite.server import ServerProcess, free_port
from atlas_suite.steplib import verdicts as step_verdicts
from atlas_suite.targets import Unsupported

FAKE_SERVER = textwrap.dedent('''
    import sys
    from http.server import BaseHTTPRequestHandler, HTTPServer
    args = sys.argv[1:]
    if "--rate-limit" in args:
        print("build: 1 (fake)")
        print("error: invalid argument: --rate-limit", file=sys.stderr)
        sys.exit(1)
    if "--crash" in args:
        print("loading model ...")
        print("GGML_ASSERT failed: out of memory", file=sys.stderr)
        sys.exit(134)
    port = int(args[args.index("--port") + 1])

    class Health(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(503)
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "Loading model"}}')

        def log_message(self, *a):
            pass

    HTTPServer(("127.0.0.1", port), Health).serve_forever()
''')


@pytest.fixture()
def fake_server(tmp_path: Path) -> Path:
    script = tmp_path / "fake_server.py"
    script.write_text(FAKE_SERVER)
    return script


def _start(script: Path, tmp_path: Path, *flags: str, timeout_s: float = 20) -> ServerProcess:
    port = free_port()
    process = ServerProcess([sys.executable, str(script), "--port", str(port), *flags],
                            f"http://127.0.0.1:{port}", tmp_path / "server.log")
    process.start()
    try:
        process.wait_ready(timeout_s)
    finally:
        process.stop(grace_s=5)
    return process


# -- start-up ---------------------------------------------------------------------------------
def test_a_refused_flag_names_the_flag_the_exit_code_and_what_the_server_said(
        fake_server: Path, tmp_path: Path) -> None:
    with pytest.raises(verdicts.StartRefusedFlag) as caught:
        _start(fake_server, tmp_path, "-c", "4096", "--rate-limit", "3")
    refused = caught.value
    assert refused.verdict == ("the server did not start with `--rate-limit 3`: it exited with "
                               "code 1 and said: error: invalid argument: --rate-limit")
    assert (refused.flag, refused.value, refused.exit_code) == ("--rate-limit", "3", 1)
    assert "build: 1 (fake)" in refused.details  # the log's last lines, for the engineer
    assert isinstance(refused, AssertionError)  # behave shows a failure, not an error


def test_an_exit_at_start_for_another_reason_quotes_its_last_words(
        fake_server: Path, tmp_path: Path) -> None:
    with pytest.raises(verdicts.StartExited) as caught:
        _start(fake_server, tmp_path, "--crash")
    assert caught.value.verdict == ("the server exited with code 134 while starting, before "
                                    "/health answered 200; its last words: GGML_ASSERT failed: "
                                    "out of memory")


def test_a_server_that_never_becomes_healthy_shows_its_last_health_answer(
        fake_server: Path, tmp_path: Path) -> None:
    with pytest.raises(verdicts.NeverHealthy) as caught:
        _start(fake_server, tmp_path, timeout_s=1.5)
    assert caught.value.verdict.startswith("the server was not healthy after 2 s; the last "
                                           "/health answer was: HTTP 503 ")
    assert "Loading model" in caught.value.verdict


@pytest.mark.parametrize(("line", "flag"), [
    ("error: invalid argument: --rate-limit", "--rate-limit"),
    ("atlas_reference: error: unrecognized arguments: --atlas-window-size 4",
     "--atlas-window-size"),
    ("unknown option --api-key-file=/tmp/k", "--api-key-file"),
])
def test_refusals_are_recognised_in_the_usual_wordings(line: str, flag: str) -> None:
    argv = ["srv", "--atlas-window-size", "4", "--rate-limit", "3", "--api-key-file", "/tmp/k"]
    found = verdicts.refused_flag(argv, f"starting\n{line}\n")
    assert found is not None and found[0] == flag


def test_a_refusal_of_a_flag_the_suite_did_not_pass_is_not_a_flag_verdict() -> None:
    assert verdicts.refused_flag(["srv", "-c", "4096"], "error: invalid argument: --foo") is None


# -- talking to it ----------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/cut":  # three events, then the connection drops mid-chunked-body
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for n in range(3):
                event = f"data: {json.dumps({'n': n})}\n\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.write(b"40\r\ndata: {\"n\": ")  # a chunk that never ends
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        elif self.path == "/slow":
            time.sleep(3)
        elif self.path == "/html":
            body = b"<html>Bad gateway</html>"
            self.send_response(502)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/hangup":
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def local_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_stream_cut_short_says_after_how_many_chunks(local_server: str) -> None:
    with pytest.raises(verdicts.StreamCut) as caught:
        ApiClient(local_server).stream("/cut", {"stream": True})
    assert caught.value.verdict == ("the stream was cut after 3 chunks without `data: [DONE]` "
                                    "(POST /cut)")
    assert caught.value.chunks == 3


def test_a_cut_the_scenario_judges_itself_is_kept_in_words(local_server: str) -> None:
    result = ApiClient(local_server).stream("/cut", {"stream": True}, keep_cut=True)
    assert [chunk["n"] for chunk in result.chunks] == [0, 1, 2] and not result.done
    assert result.ending() == ("the stream was cut after 3 chunks without `data: [DONE]` "
                               "(POST /cut)")


def test_a_refused_port_says_nothing_is_listening() -> None:
    with pytest.raises(verdicts.ConnectionRefused, match="connection refused"):
        ApiClient(f"http://127.0.0.1:{free_port()}").get("/health")


def test_a_hang_up_without_an_answer_is_a_closed_connection(local_server: str) -> None:
    with pytest.raises(verdicts.ConnectionClosed, match="POST /hangup"):
        ApiClient(local_server).post("/hangup", {})


def test_a_read_timeout_says_the_server_did_not_answer_in_time(local_server: str) -> None:
    with pytest.raises(verdicts.NoAnswerInTime, match="did not answer in time"):
        ApiClient(local_server, timeout_s=0.5).post("/slow", {})


def test_a_body_that_is_not_json_is_quoted(local_server: str) -> None:
    exchange = ApiClient(local_server).post("/html", {})
    with pytest.raises(verdicts.BodyNotJson, match="HTTP 502 <html>Bad gateway"):
        exchange.json()


def test_foreign_exceptions_are_translated_and_suite_bugs_are_not() -> None:
    try:
        json.loads("<html>")
    except ValueError as exc:
        verdict = verdicts.verdict_for(exc, "GET /v1/models")
    assert isinstance(verdict, verdicts.BodyNotJson)
    assert verdict.verdict == "the server's answer was not JSON (GET /v1/models): '<html>'"
    wrapped = requests.ConnectionError(ConnectionResetError(104, "Connection reset by peer"))
    assert isinstance(verdicts.verdict_for(wrapped), verdicts.ConnectionClosed)
    assert verdicts.verdict_for(KeyError("choices")) is None


# -- the step wrapper -------------------------------------------------------------------------
class _Scenario:
    def __init__(self, tags: list[str]) -> None:
        self.effective_tags = tags
        self.skip_reason: str | None = None

    def skip(self, reason: str) -> None:
        self.skip_reason = reason


def _context(profile: str, tags: list[str], server: Any = None) -> SimpleNamespace:
    catalog = traceability.load_catalog()
    return SimpleNamespace(
        scenario=_Scenario(tags), pool=SimpleNamespace(settings=SimpleNamespace(profile=profile)),
        traceability=SimpleNamespace(catalog=catalog), server=server, _runner=None)


def _refusing(context: Any) -> None:
    raise verdicts.StartRefusedFlag("--rate-limit", "3", 1,
                                    "error: invalid argument: --rate-limit", "log lines")


def test_a_refused_flag_the_profile_claims_fails_in_words() -> None:
    step = step_verdicts.translating(_refusing)
    context = _context("openai", ["req.SEC-RATE-LIMIT"])  # scope openai: claimed
    with pytest.raises(AssertionError) as caught:
        step(context)
    assert str(caught.value).startswith("the server did not start with `--rate-limit 3`")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert context.scenario.skip_reason is None


def test_a_refused_flag_the_profile_does_not_claim_skips_as_not_claimed() -> None:
    step = step_verdicts.translating(_refusing)
    context = _context("openai", ["req.MEM-FORMAT"])  # scope atlas: not claimed by openai
    step(context)
    assert traceability.is_not_claimed(context.scenario.skip_reason)
    assert "did not start with `--rate-limit 3`" in str(context.scenario.skip_reason)


def test_unsupported_skips_with_its_reason_and_suite_bugs_stay_errors() -> None:
    def unsupported(context: Any) -> None:
        raise Unsupported("the suite did not start this server (target=url)")

    def buggy(context: Any) -> None:
        raise KeyError("choices")

    context = _context("atlas", [])
    step_verdicts.translating(unsupported)(context)
    assert context.scenario.skip_reason == "the suite did not start this server (target=url)"
    with pytest.raises(KeyError):
        step_verdicts.translating(buggy)(context)


def test_a_connection_lost_to_a_dead_server_says_the_process_exited() -> None:
    process = SimpleNamespace(alive=lambda: False, exit_code=-9,
                              log_tail=lambda n: "slot 0: generating\nKilled")
    context = _context("atlas", [], server=SimpleNamespace(process=process))

    def talks(context: Any) -> None:
        raise requests.ConnectionError(ConnectionRefusedError(111, "Connection refused"))

    with pytest.raises(AssertionError) as caught:
        step_verdicts.translating(talks)(context)
    assert str(caught.value).startswith("the server process exited with code -9 during the "
                                        "scenario (nothing accepted the connection")
    assert str(caught.value).endswith("its last words: Killed")


def test_wrapping_is_done_once_and_keeps_the_step_s_name_and_doc() -> None:
    def my_step(context: Any) -> None:
        """Doc."""

    once = step_verdicts.translating(my_step)
    assert step_verdicts.translating(once) is once
    assert (once.__name__, once.__doc__) == ("my_step", "Doc.")


def test_a_not_claimed_reason_is_recognised() -> None:
    reason = traceability.not_claimed_reason("openai", "the ATLAS extension")
    assert traceability.is_not_claimed(reason)
    assert not traceability.is_not_claimed("no NVIDIA GPU: NVML is not available")
    assert not traceability.is_not_claimed(None)
    assert isinstance(Exchange("GET", "/", 200, {}, "x"), Exchange)
