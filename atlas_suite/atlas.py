"""The server's API in domain words, for declarative steps: completions, memory, status."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas_suite import openai_types, routes
from atlas_suite.http import ApiClient, Exchange, StreamResult
from atlas_suite.routes import atlas_extension  # noqa: F401 - the steps' name for it
from atlas_suite.schemas import registry
from atlas_suite.server_protocol import Server

SMALL_MAX_TOKENS = 8  # 2 CPU cores: keep generations short so the whole run stays fast


class ApiError(AssertionError):
    """The server answered an error where the scenario expected success."""


def expect_ok(exchange: Exchange, doing: str) -> Any:
    """The JSON body of a 2xx answer, or a failure that says what the server answered."""
    if not 200 <= exchange.status < 300:
        raise ApiError(f"expected the server to {doing}, but it answered HTTP {exchange.status}: "
                       f"{exchange.text[:600]}")
    return exchange.json()


def expect_refusal(exchange: Exchange, status: int, doing: str) -> dict[str, Any]:
    """The ``error`` object of an answer refused with ``status`` in the error envelope, or a
    failure that says what the server answered instead."""
    if exchange.status != status:
        raise ApiError(f"{doing} should be refused with HTTP {status}, but the server answered "
                       f"HTTP {exchange.status}: {exchange.text[:300]}")
    body = exchange.json()
    problems = registry().errors("error", body)
    if problems:
        raise ApiError(f"the refusal is not in the error envelope: {problems}: "
                       f"{exchange.text[:300]}")
    return body["error"]


class AtlasApi:
    """Domain calls on the scenario's client; every call is recorded as the last response."""

    def __init__(self, http: ApiClient, server: Server) -> None:
        self.http = http
        self.server = server

    # -- OpenAI ---------------------------------------------------------------------------
    def model_id(self) -> str:
        if "model_id" not in self.server.cache:
            models = expect_ok(self.http.get(routes.MODELS), "list its models")
            self.server.cache["model_id"] = models["data"][0]["id"]
        return str(self.server.cache["model_id"])

    def completion_body(self, prompt: str, *, chat: bool = False,
                        max_tokens: int = SMALL_MAX_TOKENS, atlas: dict[str, Any] | None = None,
                        stream: bool = False, **extra: Any) -> dict[str, Any]:
        """A deterministic request for the server's model (``routes.completion_body``)."""
        return routes.completion_body(self.model_id(), prompt, max_tokens=max_tokens,
                                      chat=chat, stream=stream, atlas=atlas, **extra)

    @staticmethod
    def completion_path(chat: bool) -> str:
        return routes.completion_path(chat)

    def complete(self, prompt: str, *, chat: bool = False, **options: Any) -> Exchange:
        """A completion; a 200 answer must be what OpenAI's own client accepts."""
        reply = self.http.post(self.completion_path(chat),
                               self.completion_body(prompt, chat=chat, **options))
        if reply.status == 200:
            openai_types.require_answer(chat, reply.json())
        return reply

    def complete_streaming(self, prompt: str, *, chat: bool = False, **options: Any
                           ) -> StreamResult:
        """A streamed completion; every chunk must be what OpenAI's own client accepts."""
        body = self.completion_body(prompt, chat=chat, stream=True, **options)
        stream = self.http.stream(self.completion_path(chat), body)
        for number, chunk in enumerate(stream.chunks, start=1):
            openai_types.require_answer(chat, chunk, chunk=number)
        return stream

    def read_text(self, text: str, memory: str | None = None, **atlas: Any) -> dict[str, Any]:
        """Send ``text`` through an ATLAS completion; answers the response's atlas block."""
        extension = atlas_extension(memory_file=memory, **atlas)
        body = expect_ok(self.complete(text, atlas=extension),
                         "answer a completion with ATLAS enabled")
        if "atlas" not in body:
            raise ApiError(f"expected an atlas block in the completion, got {body}")
        return body["atlas"]

    # -- ATLAS status and configuration ---------------------------------------------------
    def status(self) -> dict[str, Any]:
        return expect_ok(self.http.get(routes.ATLAS_STATUS), "report its status")

    def fingerprint(self) -> str:
        return str(self.status()["memory"]["fingerprint"])

    def config(self) -> dict[str, Any]:
        return expect_ok(self.http.get(routes.ATLAS_CONFIG), "report its configuration")

    def set_config(self, changes: dict[str, Any]) -> Exchange:
        return self.http.post(routes.ATLAS_CONFIG, changes)

    def metrics(self) -> dict[str, Any]:
        return expect_ok(self.http.get(routes.ATLAS_METRICS), "report its metrics")

    # -- memory files ---------------------------------------------------------------------
    def save(self, filename: str, memory: str | None = None) -> Exchange:
        return self.http.post(routes.MEMORY_SAVE, _memory_body(filename, memory))

    def load(self, filename: str, memory: str | None = None) -> Exchange:
        return self.http.post(routes.MEMORY_LOAD, _memory_body(filename, memory))

    def delete(self, filename: str) -> Exchange:
        return self.http.post(routes.MEMORY_DELETE, {"filename": filename})

    def reset(self, memory: str | None = None) -> Exchange:
        return self.http.post(routes.MEMORY_RESET, {"memory": memory} if memory else {})

    def list_files(self) -> dict[str, str | int | float]:
        """name -> bytes for every memory file the server lists."""
        return {name: entry["bytes"] for name, entry in self.list_entries().items()}

    def list_entries(self) -> dict[str, dict[str, Any]]:
        """name -> the whole list entry (name, bytes, modified) for every memory file."""
        listing = expect_ok(self.http.get(routes.MEMORY_LIST), "list its memory files")
        return {entry["name"]: entry for entry in listing["data"]}

    def memory_in_use(self) -> MemoryInUse:
        """What identifies the default memory's state: fingerprint, counters and source."""
        memory = self.status()["memory"]
        return MemoryInUse(str(memory["fingerprint"]), memory["tokens_memorized"],
                           memory["updates"], memory["omega_loss"], memory["source"])

    def load_each(self, folder: Path, filename: str, copies: Iterable[Any]) -> list[LoadAttempt]:
        """Write each copy (``.what``, ``.data``) to ``filename`` in the memory folder and load
        it; what the server answered to each, in order."""
        attempts = []
        for copy in copies:
            (folder / filename).write_bytes(copy.data)
            reply = self.load(filename)
            attempts.append(LoadAttempt(copy.what, reply.status, _message(reply)))
        return attempts

    def memory_fingerprint(self, memory: str) -> str:
        """The fingerprint of a named memory, read by saving it to a scratch file."""
        scratch = f"probe-{memory}" if memory.endswith(".atlas") else f"probe-{memory}.atlas"
        saved = expect_ok(self.save(scratch, memory), f'save the memory "{memory}"')
        self.delete(scratch)
        return str(saved["fingerprint"])


@dataclass(frozen=True)
class MemoryInUse:
    """The default memory as the status shows it; equal values mean the same memory."""

    fingerprint: str
    tokens_memorized: int
    updates: int
    omega_loss: float | None
    source: str | None

    def differences(self, other: MemoryInUse) -> list[str]:
        """What changed from ``self`` to ``other``, in words ("updates 3 -> 0")."""
        return [f"{field} {getattr(self, field)!r} -> {getattr(other, field)!r}"
                for field in self.__dataclass_fields__
                if getattr(self, field) != getattr(other, field)]


@dataclass(frozen=True)
class LoadAttempt:
    """One load of a damaged copy and the server's answer."""

    what: str
    status: int
    message: str

    @property
    def refused_as_corruption(self) -> bool:
        return self.status == 400 and "corruption" in self.message.lower()

    def describe(self) -> str:
        return f"{self.what}: HTTP {self.status} {self.message[:120]!r}"


def _message(reply: Exchange) -> str:
    """The error message of an answer, or its start when it has none."""
    try:
        return str(json.loads(reply.text)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return reply.text[:200]


def _memory_body(filename: str, memory: str | None) -> dict[str, Any]:
    return {"filename": filename, **({"memory": memory} if memory else {})}
