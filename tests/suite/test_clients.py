"""The client dispatcher and the curl runner as library code: names, skips, plumbing.

No fake of the server contract here: the @clients scenarios check the contract against real
servers. The local HTTP server below only answers curl's mechanics (status, headers, body).
"""

from __future__ import annotations

import builtins
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from atlas_suite import clients, curl, probes
from atlas_suite.targets import Unsupported


# -- client names and availability -------------------------------------------------------------
def test_every_client_has_a_driver_and_a_version() -> None:
    assert set(clients.DRIVERS) == set(clients.CLIENTS)
    versions = clients.versions()
    assert set(versions) == set(clients.CLIENTS)
    assert versions["node"].startswith("npm openai ")
    assert versions["go"].startswith("github.com/openai/openai-go v")


def test_an_unknown_client_is_refused_with_the_known_names() -> None:
    with pytest.raises(ValueError, match="python-async"):
        clients.parse_name("ruby")


@pytest.mark.parametrize(("client", "kind", "why"), [
    ("langchain-llm", "chat", "text-completion LLM"),
    ("langchain", "text", "chat model"),
])
def test_a_kind_the_client_cannot_speak_is_refused(client: str, kind: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        clients.call(client, clients.ClientCall("http://127.0.0.1:9", "m", kind=kind))


def test_a_missing_probe_runtime_skips_with_the_probe_reason(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(clients.REQUIRE_ALL_ENV, raising=False)
    monkeypatch.setattr(probes, "available", lambda language: f"{language} is not installed")
    with pytest.raises(clients.ClientUnavailable, match="node is not installed") as caught:
        clients.call("node", clients.ClientCall("http://127.0.0.1:9", "m"))
    assert isinstance(caught.value, Unsupported)  # steps turn it into a skip with the reason


def test_a_missing_langchain_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_langchain(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("langchain_openai"):
            raise ImportError("No module named 'langchain_openai'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delenv(clients.REQUIRE_ALL_ENV, raising=False)
    monkeypatch.setattr(builtins, "__import__", no_langchain)
    assert "langchain-openai is not installed" in (clients.unavailable("langchain") or "")
    with pytest.raises(clients.ClientUnavailable, match="langchain-openai"):
        clients.require("langchain-llm")


def test_ci_turns_a_missing_client_into_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clients.REQUIRE_ALL_ENV, "1")
    monkeypatch.setattr(probes, "available", lambda language: "go is not installed")
    with pytest.raises(AssertionError, match="requires every client: go is not installed") as c:
        clients.require("go")
    assert not isinstance(c.value, Unsupported)


def test_python_clients_are_always_available() -> None:
    assert clients.unavailable("python") is None
    assert clients.unavailable("python-async") is None


# -- the LangChain LLM's recorder ---------------------------------------------------------------
class _Reply(SimpleNamespace):
    """Stands in for an openai response object: unknown fields in model_extra."""


def test_the_recorder_passes_calls_through_and_keeps_the_atlas_block() -> None:
    calls: list[dict[str, Any]] = []

    class Resource:
        def create(self, **params: Any) -> Any:
            calls.append(params)
            if params.get("stream"):
                return iter([_Reply(model_extra={}), _Reply(model_extra={"atlas": {"x": 1}})])
            return _Reply(model_extra={"atlas": {"y": 2}})

    recorder = clients.AtlasRecorder(Resource())
    reply = recorder.create(prompt="p", max_tokens=3)
    assert reply.model_extra == {"atlas": {"y": 2}} and recorder.atlas == {"y": 2}
    chunks = list(recorder.create(prompt="p", stream=True))
    assert len(chunks) == 2 and recorder.atlas == {"x": 1}
    assert calls == [{"prompt": "p", "max_tokens": 3}, {"prompt": "p", "stream": True}]


# -- curl ---------------------------------------------------------------------------------------
class _Echo(BaseHTTPRequestHandler):
    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("X-Seen-Authorization", self.headers.get("Authorization", "-"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/text":
            self._answer(200, b"plain words\nsecond line", "text/plain")
        else:
            self._answer(404, b'{"error": {"message": "no"}}', "application/json")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        echo = {"method": "POST", "path": self.path, "body": json.loads(body or b"null"),
                "content_type": self.headers.get("Content-Type")}
        self._answer(201, json.dumps(echo).encode(), "application/json")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo_url() -> Iterator[str]:
    if curl.missing():
        pytest.skip(curl.missing())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_curl_posts_json_and_reads_status_headers_and_body(echo_url: str) -> None:
    answer = curl.send(echo_url, "POST", "/v1/x", {"a": [1, "two"]},
                       headers={"Authorization": "Bearer secret-key"})
    assert answer.status == 201
    assert answer.json() == {"method": "POST", "path": "/v1/x", "body": {"a": [1, "two"]},
                             "content_type": "application/json"}
    assert answer.header("x-seen-authorization") == "Bearer secret-key"


def test_curl_keeps_a_text_body_and_error_statuses(echo_url: str) -> None:
    text, missing = curl.send_all(echo_url, [curl.Route("GET", "/text"),
                                             curl.Route("GET", "/nothing")])
    assert (text.status, text.text) == (200, "plain words\nsecond line")
    assert text.header("Content-Type") == "text/plain"
    assert missing.status == 404 and missing.json()["error"]["message"] == "no"
    with pytest.raises(AssertionError, match="expected a JSON body"):
        text.json()


def test_curl_failing_to_connect_is_a_failure_not_a_status() -> None:
    if curl.missing():
        pytest.skip(curl.missing())
    with pytest.raises(curl.CurlFailed, match="exited 7"):
        curl.send("http://127.0.0.1:9", "GET", "/health", timeout_s=5)


def test_without_curl_the_row_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    assert curl.missing() == "the curl binary is not installed (not on PATH)"
    with pytest.raises(curl.CurlUnavailable) as caught:
        curl.send("http://127.0.0.1:9", "GET", "/health")
    assert isinstance(caught.value, Unsupported)


def test_only_the_final_header_block_counts() -> None:
    dump = ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: a/b\r\n"
            "X-Two: c: d\r\n\r\n")
    assert curl._final_headers(dump) == {"Content-Type": "a/b", "X-Two": "c: d"}
