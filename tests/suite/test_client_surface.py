"""The wider OpenAI surface through every official client, against a stand-in server: the
request fields each client sends, what it reads back, and OpenAI's types judging the answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from atlas_suite import clients
from atlas_suite.clients import ClientCall

TOOL = {"type": "function", "function": {"name": "get_weather", "description": "weather",
                                         "parameters": {"type": "object", "properties": {
                                             "city": {"type": "string"}}}}}
USAGE = {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}


def _chat(created: bool) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "id": "c1", "object": "chat.completion", "model": "m", "usage": USAGE,
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None, "tool_calls": [{
                "id": "t1", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]}}]}
    if created:
        answer["created"] = 1
    return answer


def _chunks() -> list[dict[str, Any]]:
    head = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    return [{**head, "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]},
            {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
            {**head, "choices": [], "usage": USAGE}]


class _Stand(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]] = []
    created = True

    def do_POST(self) -> None:  # noqa: N802 - the http.server name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Stand.bodies.append(body)
        if body.get("stream"):
            payload = "".join(f"data: {json.dumps(c)}\n\n" for c in _chunks()) + "data: [DONE]\n\n"
            self._send(payload.encode(), "text/event-stream")
        else:
            self._send(json.dumps(_chat(_Stand.created)).encode(), "application/json")

    def _send(self, data: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def stand_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stand)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _runnable(client: str) -> None:
    reason = clients.unavailable(client)
    if reason:
        pytest.skip(reason)


@pytest.mark.parametrize("client", ["python", "node", "go"])
def test_a_tool_call_and_stop_travel_and_come_back(stand_url: str, client: str) -> None:
    _runnable(client)
    _Stand.created, _Stand.bodies = True, []
    outcome = clients.call(client, ClientCall(stand_url, "m", stop=("five",), tools=(TOOL,),
                                              tool_choice="required", timeout_s=20))
    sent = _Stand.bodies[-1]
    assert (sent["stop"], sent["tool_choice"], sent["tools"][0]["function"]["name"]) == \
        (["five"], "required", "get_weather")
    assert outcome.tool_calls == [{"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}]
    assert (outcome.finish_reason, outcome.usage, outcome.problems) == ("tool_calls", USAGE, [])


@pytest.mark.parametrize("client", ["python", "node", "go"])
def test_an_answer_the_sdk_types_refuse_is_named(stand_url: str, client: str) -> None:
    _runnable(client)
    _Stand.created = False
    try:
        outcome = clients.call(client, ClientCall(stand_url, "m", timeout_s=20))
    finally:
        _Stand.created = True
    assert outcome.ok
    assert any(p.startswith("the answer: at created: Field required") for p in outcome.problems), \
        outcome.problems


@pytest.mark.parametrize("client", ["python", "node", "go"])
def test_usage_asked_for_comes_from_the_stream(stand_url: str, client: str) -> None:
    _runnable(client)
    _Stand.bodies = []
    outcome = clients.call(client, ClientCall(stand_url, "m", stream=True, include_usage=True,
                                              timeout_s=20))
    assert _Stand.bodies[-1]["stream_options"] == {"include_usage": True}
    assert (outcome.text, outcome.usage, outcome.problems) == ("Hi", USAGE, [])
