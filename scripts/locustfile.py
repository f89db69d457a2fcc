"""Locust: the suite's load scenarios from many machines (Locust's master and workers).

Locust comes with the suite (``make setup``); then:

    # one machine, no web UI
    locust -f scripts/locustfile.py --headless -u 50 -r 10 -t 5m --host http://127.0.0.1:8080
    # distributed: one master, any number of workers (each on its own machine)
    locust -f scripts/locustfile.py --master --headless -u 500 -r 50 -t 30m --expect-workers 4 \
        --host http://SERVER:8080
    locust -f scripts/locustfile.py --worker --master-host MASTER

The users send what the behave load scenarios send, built by the same functions
(``atlas_suite.routes.completion_body``, ``atlas_suite.workloads.varied_prompt``): ATLAS
completions, streamed ATLAS completions (their time to first token, time per output token and
every inter-token gap are reported as entries of their own, ``TTFT``, ``TPOT`` and ``ITL``, as
the suite's engine defines them), plain completions, and, in a smaller share, save/load cycles
of a memory file that must give back the fingerprint just saved. Environment:
``ATLAS_MAX_TOKENS`` (16), ``ATLAS_PROMPT_TOKENS`` (24), ``ATLAS_API_KEY``,
``ATLAS_SAVE_LOAD_WEIGHT`` (1; 0 leaves save/load users out).
A 503 from admission control is counted as a failure by Locust, with its message.
"""

# ruff: noqa: E402 - the repository root goes on sys.path first
from __future__ import annotations

import itertools
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from locust import HttpUser, between, events, task

from atlas_suite import routes, sse
from atlas_suite.routes import atlas_extension, completion_body
from atlas_suite.workloads import varied_prompt

MAX_TOKENS = int(os.environ.get("ATLAS_MAX_TOKENS", "16"))
PROMPT_TOKENS = int(os.environ.get("ATLAS_PROMPT_TOKENS", "24"))
API_KEY = os.environ.get("ATLAS_API_KEY", "")
SAVE_LOAD_WEIGHT = int(os.environ.get("ATLAS_SAVE_LOAD_WEIGHT", "1"))
_numbers = itertools.count()


class _AtlasUser(HttpUser):
    abstract = True
    host = "http://127.0.0.1:8080"

    def on_start(self) -> None:
        if API_KEY:
            self.client.headers["Authorization"] = f"Bearer {API_KEY}"
        with self.client.get(routes.MODELS, name=routes.MODELS, catch_response=True) as reply:
            try:
                self.model = reply.json()["data"][0]["id"]
            except (ValueError, KeyError, IndexError):
                reply.failure(f"no model list: HTTP {reply.status_code} {reply.text[:200]}")
                self.model = "default"


class CompletionUser(_AtlasUser):
    """ATLAS, streamed ATLAS and plain completions, 3 : 2 : 1, back to back."""

    wait_time = between(0, 0.1)

    def _body(self, atlas: bool, stream: bool = False) -> dict:
        return completion_body(self.model, varied_prompt(PROMPT_TOKENS, next(_numbers)),
                               max_tokens=MAX_TOKENS, stream=stream,
                               atlas=atlas_extension() if atlas else None)

    @task(3)
    def atlas_completion(self) -> None:
        with self.client.post(routes.COMPLETIONS, json=self._body(True), name="ATLAS completion",
                              catch_response=True) as reply:
            if reply.status_code == 200 and "atlas" not in reply.json():
                reply.failure("an ATLAS completion without its atlas block")

    @task(1)
    def plain_completion(self) -> None:
        self.client.post(routes.COMPLETIONS, json=self._body(False), name="plain completion")

    @task(2)
    def streamed_atlas_completion(self) -> None:
        started = time.perf_counter()
        token_times: list[float] = []
        usage_tokens = 0
        done = False
        with self.client.post(routes.COMPLETIONS, json=self._body(True, stream=True),
                              name="streamed ATLAS completion", stream=True,
                              catch_response=True) as reply:
            if reply.status_code != 200:
                reply.failure(f"HTTP {reply.status_code}: {reply.text[:200]}")
                return
            for data in sse.events_from_lines(reply.iter_lines()):
                if sse.is_done(data):
                    done = True
                    continue
                event = sse.chunk(data)
                if sse.has_token(event):
                    token_times.append(time.perf_counter())
                if isinstance(event, dict) and (event.get("usage") or {}).get("completion_tokens"):
                    usage_tokens = int(event["usage"]["completion_tokens"])
            ended = time.perf_counter()
            if not done:
                reply.failure("the stream ended without [DONE]")
                return
        _report_stream(started, token_times, ended, usage_tokens or len(token_times))


def _figure(name: str, ms: float, tokens: int = 0) -> None:
    """A stream figure as its own Locust entry (the suite's names: docs/load.md)."""
    events.request.fire(request_type="SSE", name=name, response_length=tokens,
                        response_time=ms, exception=None, context={})


def _report_stream(started: float, token_times: list[float], ended: float, tokens: int) -> None:
    """TTFT, TPOT = (end-to-end - TTFT) / (tokens - 1), and every inter-token gap (ITL), as
    the suite's engine defines them."""
    if not token_times:
        return
    ttft = (token_times[0] - started) * 1000.0
    _figure("TTFT", ttft)
    if tokens >= 2:
        _figure("TPOT", ((ended - started) * 1000.0 - ttft) / (tokens - 1), tokens)
    for before, after in zip(token_times[:-1], token_times[1:], strict=True):
        _figure("ITL", (after - before) * 1000.0)


class SaveLoadUser(_AtlasUser):
    """Save the default memory and load it back; the load must give the saved fingerprint."""

    wait_time = between(0.5, 1.5)
    weight = max(SAVE_LOAD_WEIGHT, 1)
    abstract = SAVE_LOAD_WEIGHT == 0  # ATLAS_SAVE_LOAD_WEIGHT=0: no save/load users

    @task
    def save_and_load(self) -> None:
        name = f"locust-{os.getpid()}-{id(self) % 10_000}.atlas"
        saved = self.client.post(routes.MEMORY_SAVE, json={"filename": name},
                                 name="memory save")
        if saved.status_code != 200:
            return
        with self.client.post(routes.MEMORY_LOAD, json={"filename": name},
                              name="memory load", catch_response=True) as loaded:
            if loaded.status_code == 200 and \
                    loaded.json().get("fingerprint") != saved.json().get("fingerprint"):
                loaded.failure("the load did not give back the fingerprint just saved")

    def on_stop(self) -> None:
        name = f"locust-{os.getpid()}-{id(self) % 10_000}.atlas"
        self.client.post(routes.MEMORY_DELETE, json={"filename": name},
                         name="memory delete")
