"""Six OpenAI clients behind one dispatcher: what an application would use, driven the same way.

=================  ===========================================================================
client name        what drives the server
=================  ===========================================================================
``python``         ``openai.OpenAI`` (the official Python client)
``python-async``   ``openai.AsyncOpenAI``
``node``           the official npm ``openai`` package, through ``clients/node/probe.mjs``
``go``             ``github.com/openai/openai-go``, through ``clients/go/build/go-probe``
``langchain``      ``langchain_openai.ChatOpenAI`` (a chat model: ``invoke`` and ``stream``)
``langchain-llm``  ``langchain_openai.OpenAI`` (a text-completion LLM: ``invoke`` and ``stream``)
=================  ===========================================================================

:func:`call` sends one :class:`ClientCall` through the named client and answers a
:class:`ClientOutcome` of the same shape whichever client it was: the text, the ``atlas`` block
as the client exposes it, the number of stream chunks, or the error as the client raised it
(its own class name, the status, its message, the ``param`` and the server's error object as
the client kept them). An error answer of the server is an outcome, not an exception; a client
that cannot run here raises :class:`ClientUnavailable` (a :class:`~atlas_suite.targets.Unsupported`,
so the scenario skips with the reason), unless ``ATLAS_REQUIRE_ALL_CLIENTS=1`` (CI) turns that
into a failure.

How each client carries the ATLAS extension and reads the block back, its own way:

* Python: ``extra_body={"atlas": ...}``; the block from the response's ``model_extra``.
* Node: an extra key in the params object; the block from the plain response object.
* Go: ``option.WithJSONSet("atlas", ...)``; the block from ``JSON.ExtraFields["atlas"]``.
* LangChain chat model: ``ChatOpenAI(extra_body={"atlas": ...})``; the block in the message's
  ``response_metadata["atlas"]``, which a two-method subclass (:class:`AtlasChatOpenAI`, the
  pattern langchain-deepseek uses for its own extra fields) copies from the raw response.
* LangChain LLM: ``OpenAI(extra_body={"atlas": ...})``. Its interface answers plain strings and
  has no place for an extra response field, so the block is read from the OpenAI
  ``completions`` resource the application hands it (``OpenAI(client=...)``).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import openai

from atlas_suite import openai_types, probes
from atlas_suite.targets import Unsupported
from atlas_suite.verdicts import ConnectionClosed, ConnectionRefused, ServerDid, verdict_for

NO_KEY = "sk-no-key-required"  # the clients insist on some key; keyless servers ignore it
CLIENTS = ("python", "python-async", "node", "go", "langchain", "langchain-llm")
KINDS = ("chat", "text")
REQUIRE_ALL_ENV = "ATLAS_REQUIRE_ALL_CLIENTS"  # "1" in CI: a missing client fails, never skips
_TEXT_ONLY = {"langchain-llm": "langchain_openai.OpenAI is a text-completion LLM"}
_CHAT_ONLY = {"langchain": "langchain_openai.ChatOpenAI is a chat model"}


class ClientUnavailable(Unsupported):
    """The client cannot run on this machine (runtime or package missing): the row skips."""


class ClientFailure(AssertionError):
    """The client failed as a program (connection refused, probe crash), not as an API call."""


@dataclass(frozen=True)
class ClientCall:
    """One request, as any of the clients sends it."""

    base_url: str  # the server's root, without /v1
    model: str
    kind: str = "chat"  # "chat" (/v1/chat/completions) or "text" (/v1/completions)
    prompt: str = "Say hello to the test suite."
    max_tokens: int = 16
    stream: bool = False
    atlas: dict[str, Any] | None = None  # the ATLAS extension, sent the client's own way
    api_key: str | None = None
    timeout_s: float = 120.0
    stop: tuple[str, ...] = ()  # stop sequences
    include_usage: bool = False  # streams: stream_options.include_usage
    tools: tuple[dict[str, Any], ...] = ()  # OpenAI function tools (chat)
    tool_choice: str | None = None  # "auto", "required", "none"


@dataclass
class ClientOutcome:
    """What a client call produced, the same shape for every client."""

    client: str
    client_version: str = ""
    text: str = ""
    atlas: dict[str, Any] | None = None
    chunks: int = 0  # stream chunks the client yielded (0 when not streamed)
    error_type: str | None = None  # the client's own error class, e.g. BadRequestError
    status: int | None = None
    message: str = ""  # the error's text as the client shows it to the application
    param: str | None = None
    error_body: dict[str, Any] | None = None  # the server's error object, as the client kept it
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None  # the token usage (streamed: from the chunk carrying it)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # {"name", "arguments"}
    problems: list[str] = field(default_factory=list)  # what OpenAI's types refuse in the answer

    def check_types(self, kind: str, stream: bool, documents: list[Any]) -> None:
        """Validate the answer (or every chunk) as it arrived with the official SDK's types."""
        name = ("chat_completion" if kind == "chat" else "completion") + \
            ("_chunk" if stream else "")
        for number, document in enumerate(documents, start=1):
            where = f"chunk {number}" if stream else "the answer"
            self.problems += [f"{where}: {line}" for line in openai_types.errors(name, document)]

    @property
    def ok(self) -> bool:
        return self.error_type is None

    def describe(self) -> str:
        if self.ok:
            return f"{self.client} answered {self.text!r} (atlas: {self.atlas})"
        return (f"{self.client} raised {self.error_type} (status {self.status}): "
                f"{self.message[:400]}")


def parse_name(text: str) -> str:
    if text not in CLIENTS:
        raise ValueError(f"unknown client {text!r}; known: {', '.join(CLIENTS)}")
    return text


# -- availability ---------------------------------------------------------------------------
def _langchain_missing() -> str | None:
    try:
        import langchain_openai  # noqa: F401
    except ImportError as exc:
        return f"langchain-openai is not installed ({exc}): run make setup"
    return None


def unavailable(client: str) -> str | None:
    """None when ``client`` can run here, else why not (a skip reason)."""
    parse_name(client)
    if client in ("node", "go"):
        return probes.available(client)
    if client.startswith("langchain"):
        return _langchain_missing()
    return None


def require(client: str) -> None:
    """Raise :class:`ClientUnavailable` (or, in CI, a failure) when ``client`` cannot run."""
    reason = unavailable(client)
    if reason is None:
        return
    if os.environ.get(REQUIRE_ALL_ENV) == "1":
        raise AssertionError(f"the {client} client cannot run, and {REQUIRE_ALL_ENV}=1 requires "
                             f"every client: {reason}")
    raise ClientUnavailable(f"the {client} client cannot run here: {reason}")


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    """The client library behind each client name, with the version this machine has."""
    node_pkg = probes.NODE_DIR / "node_modules" / "openai" / "package.json"
    node = (json.loads(node_pkg.read_text())["version"] if node_pkg.is_file()
            else "not installed")
    go_mod = (probes.GO_DIR / "go.mod").read_text()
    go = next((line.split()[-1] for line in go_mod.splitlines()
               if "github.com/openai/openai-go" in line), "unknown")
    python = f"openai {openai.__version__}"
    langchain = (f"langchain-openai {_package_version('langchain-openai')}, langchain-core "
                 f"{_package_version('langchain-core')}, on {python}")
    return {"python": python, "python-async": python, "node": f"npm openai {node}",
            "go": f"github.com/openai/openai-go {go}", "langchain": langchain,
            "langchain-llm": langchain}


# -- the official Python client --------------------------------------------------------------
def sync_client(base_url: str, api_key: str | None = None, timeout_s: float = 120
                ) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=api_key or NO_KEY,
                         max_retries=0, timeout=timeout_s)


def async_client(base_url: str, api_key: str | None = None, timeout_s: float = 120
                 ) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key=api_key or NO_KEY,
                              max_retries=0, timeout=timeout_s)


def atlas_block(obj: Any) -> dict[str, Any] | None:
    """The response extension as the Python client exposes unknown fields (``model_extra``)."""
    extra = getattr(obj, "model_extra", None) or {}
    block = extra.get("atlas")
    if block is None and hasattr(obj, "to_dict"):
        block = obj.to_dict().get("atlas")
    return block


def _python_params(request: ClientCall) -> dict[str, Any]:
    params: dict[str, Any] = {"model": request.model, "max_tokens": request.max_tokens,
                              "temperature": 0}
    if request.kind == "chat":
        params["messages"] = [{"role": "user", "content": request.prompt}]
    else:
        params["prompt"] = request.prompt
    if request.atlas is not None:
        params["extra_body"] = {"atlas": request.atlas}
    if request.stop:
        params["stop"] = list(request.stop)
    if request.tools:
        params["tools"] = list(request.tools)
    if request.tool_choice:
        params["tool_choice"] = request.tool_choice
    if request.stream and request.include_usage:
        params["stream_options"] = {"include_usage": True}
    return params


def _read_reply(outcome: ClientOutcome, kind: str, reply: Any) -> None:
    """Text, atlas block, finish reason, usage and tool calls as the Python client types them;
    the answer as it arrived (``to_dict``) is checked with the SDK's types too."""
    outcome.text, outcome.atlas = _answer(kind, reply), atlas_block(reply)
    outcome.usage = reply.usage.to_dict() if reply.usage is not None else None
    if reply.choices:
        choice = reply.choices[0]
        outcome.finish_reason = choice.finish_reason
        calls = (choice.message.tool_calls or []) if kind == "chat" else []
        outcome.tool_calls = [{"name": c.function.name, "arguments": c.function.arguments}
                              for c in calls if getattr(c, "function", None) is not None]
    outcome.check_types(kind, False, [reply.to_dict()])


def _read_chunk(outcome: ClientOutcome, kind: str, chunk: Any, raw: list[Any]) -> None:
    outcome.chunks += 1
    outcome.text += _piece(kind, chunk)
    outcome.atlas = atlas_block(chunk) or outcome.atlas
    if getattr(chunk, "usage", None) is not None:
        outcome.usage = chunk.usage.to_dict()
    if chunk.choices and chunk.choices[0].finish_reason:
        outcome.finish_reason = chunk.choices[0].finish_reason
    raw.append(chunk.to_dict())


def _piece(kind: str, chunk: Any) -> str:
    if not chunk.choices:
        return ""  # the last chunk may carry only the atlas block
    choice = chunk.choices[0]
    return (choice.delta.content or "") if kind == "chat" else (choice.text or "")


def _answer(kind: str, reply: Any) -> str:
    choice = reply.choices[0]
    return (choice.message.content or "") if kind == "chat" else (choice.text or "")


def _python_error(outcome: ClientOutcome, exc: openai.APIStatusError) -> ClientOutcome:
    body = exc.body if isinstance(exc.body, dict) else {}
    body = body.get("error", body) if isinstance(body.get("error"), dict) else body
    outcome.error_type = type(exc).__name__
    outcome.status = exc.status_code
    outcome.message = str(exc)
    outcome.param = body.get("param")
    outcome.error_body = body or None
    return outcome


def _failure(who: str, exc: openai.APIError) -> AssertionError:
    """What the server did, when the client saw no HTTP answer; else the client's failure."""
    if isinstance(exc, openai.APIStatusError):
        return ClientFailure(f"{who} got HTTP {exc.status_code}: {exc}")
    verdict = verdict_for(exc, f"through {who}")
    return verdict if verdict is not None else \
        ClientFailure(f"{who} failed: {type(exc).__name__}: {exc}")


_PROBE_REFUSED = ("ECONNREFUSED", "connection refused")
_PROBE_CLOSED = ("ECONNRESET", "socket hang up", "connection reset", "unexpected EOF",
                 "premature close", "terminated")


def _probe_failure(language: str, exc: probes.ProbeError) -> ServerDid | ClientFailure:
    """A probe that exited on a transport problem says what the server did; else the probe."""
    said = f"{exc.stderr}\n{json.dumps(exc.result) if exc.result else ''}"
    if any(mark.lower() in said.lower() for mark in _PROBE_REFUSED):
        return ConnectionRefused(f"nothing accepted the connection (through the {language} "
                                 "client): the server is not listening (connection refused)")
    if any(mark.lower() in said.lower() for mark in _PROBE_CLOSED):
        return ConnectionClosed(f"the server closed the connection without a complete answer "
                                f"(through the {language} client)")
    return ClientFailure(f"the {language} client failed as a program: {exc}")


def _python(request: ClientCall) -> ClientOutcome:
    outcome = ClientOutcome("python", f"openai {openai.__version__}")
    client = sync_client(request.base_url, request.api_key, request.timeout_s)
    api = client.chat.completions if request.kind == "chat" else client.completions
    try:
        with client:
            if not request.stream:
                _read_reply(outcome, request.kind, api.create(**_python_params(request)))
                return outcome
            raw: list[Any] = []
            for chunk in api.create(stream=True, **_python_params(request)):
                _read_chunk(outcome, request.kind, chunk, raw)
            outcome.check_types(request.kind, True, raw)
    except openai.APIStatusError as exc:
        return _python_error(outcome, exc)
    except openai.APIError as exc:
        raise _failure("the Python client", exc) from None
    return outcome


def _python_async(request: ClientCall) -> ClientOutcome:
    outcome = ClientOutcome("python-async", f"openai {openai.__version__}")

    async def run() -> None:
        client = async_client(request.base_url, request.api_key, request.timeout_s)
        async with client:
            api = client.chat.completions if request.kind == "chat" else client.completions
            if not request.stream:
                _read_reply(outcome, request.kind, await api.create(**_python_params(request)))
                return
            raw: list[Any] = []
            async for chunk in await api.create(stream=True, **_python_params(request)):
                _read_chunk(outcome, request.kind, chunk, raw)
            outcome.check_types(request.kind, True, raw)

    try:
        asyncio.run(run())
    except openai.APIStatusError as exc:
        return _python_error(outcome, exc)
    except openai.APIError as exc:
        raise _failure("the async Python client", exc) from None
    return outcome


def chat_async(base_url: str, api_key: str | None, prompt: str, *, max_tokens: int,
               concurrent: int = 1, model: str | None = None) -> list[ClientOutcome]:
    """``concurrent`` chat calls at once through one ``AsyncOpenAI``."""

    async def run() -> list[ClientOutcome]:
        client = async_client(base_url, api_key)
        async with client:
            name = model or (await client.models.list()).data[0].id

            async def one() -> ClientOutcome:
                reply = await client.chat.completions.create(
                    model=name, messages=[{"role": "user", "content": prompt}],
                    max_tokens=max_tokens, temperature=0)
                return ClientOutcome("python-async", f"openai {openai.__version__}",
                                     reply.choices[0].message.content or "", atlas_block(reply))

            return list(await asyncio.gather(*(one() for _ in range(concurrent))))

    try:
        return asyncio.run(run())
    except openai.APIError as exc:  # an error answer here is a failure: callers expect text
        raise _failure("the async Python client", exc) from None


# -- Node.js and Go, through the probes --------------------------------------------------------
def _probe(language: str, request: ClientCall) -> ClientOutcome:
    operation = ("chat" if request.kind == "chat" else "completion") + \
        ("_stream" if request.stream else "")
    try:
        result = probes.run_probe(language, {
            "base_url": f"{request.base_url}/v1", "api_key": request.api_key,
            "operation": operation, "model": request.model, "prompt": request.prompt,
            "max_tokens": request.max_tokens, "temperature": 0, "atlas": request.atlas,
            "stop": list(request.stop), "include_usage": request.include_usage,
            "tools": list(request.tools), "tool_choice": request.tool_choice,
        }, timeout_s=request.timeout_s + 10)
    except probes.ProbeError as exc:
        raise _probe_failure(language, exc) from None
    version = f"{result.get('client', language)} {result.get('client_version', '?')}"
    outcome = ClientOutcome(language, version)
    if result.get("ok"):
        outcome.text = result.get("text") or ""
        outcome.atlas = result.get("atlas")
        outcome.chunks = int(result.get("chunks") or 0)
        outcome.finish_reason = result.get("finish_reason") or None
        outcome.usage = result.get("usage")
        outcome.tool_calls = list(result.get("tool_calls") or [])
        outcome.check_types(request.kind, request.stream, list(result.get("raw") or []))
        return outcome
    if result.get("error_type") == "ProbeRequestError":
        raise ClientFailure(f"the {language} probe refused the request: {result.get('message')}")
    body = result.get("error_body")
    outcome.error_type = result.get("error_type")
    outcome.status = result.get("status")
    outcome.message = result.get("message") or ""
    outcome.param = result.get("param")
    outcome.error_body = body if isinstance(body, dict) else None
    return outcome


# -- LangChain --------------------------------------------------------------------------------
def _langchain_version() -> str:
    return f"langchain-openai {_package_version('langchain-openai')}"


def _atlas_chat_class() -> type:
    """``ChatOpenAI`` that keeps the response's ``atlas`` field in ``response_metadata``."""
    from langchain_openai import ChatOpenAI

    class AtlasChatOpenAI(ChatOpenAI):
        def _create_chat_result(self, response: Any, generation_info: Any = None) -> Any:
            result = super()._create_chat_result(response, generation_info)
            raw = response if isinstance(response, dict) else response.model_dump()
            if raw.get("atlas") is not None and result.generations:
                result.generations[0].message.response_metadata["atlas"] = raw["atlas"]
            return result

        def _convert_chunk_to_generation_chunk(self, chunk: dict, default_chunk_class: type,
                                               base_generation_info: dict | None) -> Any:
            generation = super()._convert_chunk_to_generation_chunk(
                chunk, default_chunk_class, base_generation_info)
            if generation is not None and chunk.get("atlas") is not None:
                generation.message.response_metadata["atlas"] = chunk["atlas"]
            return generation

    return AtlasChatOpenAI


class AtlasRecorder:
    """The OpenAI ``completions`` resource handed to ``langchain_openai.OpenAI(client=...)``:
    every call passes through unchanged, and the ``atlas`` block is kept as it goes by."""

    def __init__(self, resource: Any) -> None:
        self._resource = resource
        self.atlas: dict[str, Any] | None = None

    def create(self, **params: Any) -> Any:
        reply = self._resource.create(**params)
        if params.get("stream"):
            return self._watch(reply)
        self.atlas = atlas_block(reply) or self.atlas
        return reply

    def _watch(self, stream: Any) -> Iterator[Any]:
        for chunk in stream:
            self.atlas = atlas_block(chunk) or self.atlas
            yield chunk


def _langchain_common(request: ClientCall) -> dict[str, Any]:
    options: dict[str, Any] = {
        "model": request.model, "base_url": f"{request.base_url}/v1",
        "api_key": request.api_key or NO_KEY, "temperature": 0,
        "max_tokens": request.max_tokens, "max_retries": 0, "timeout": request.timeout_s}
    if request.atlas is not None:
        options["extra_body"] = {"atlas": request.atlas}
    return options


def _langchain_run(outcome: ClientOutcome, action: Callable[[], None]) -> ClientOutcome:
    try:
        action()
    except openai.APIStatusError as exc:  # langchain-openai re-raises the client's own errors
        return _python_error(outcome, exc)
    except openai.APIError as exc:
        raise _failure("the LangChain client", exc) from None
    return outcome


def _langchain_chat(request: ClientCall) -> ClientOutcome:
    outcome = ClientOutcome("langchain", _langchain_version())
    model = _atlas_chat_class()(**_langchain_common(request))

    def run() -> None:
        if not request.stream:
            message = model.invoke(request.prompt)
            outcome.text = str(message.content)
            outcome.atlas = message.response_metadata.get("atlas")
            return
        for chunk in model.stream(request.prompt):
            outcome.chunks += 1
            outcome.text += str(chunk.content)
            outcome.atlas = chunk.response_metadata.get("atlas") or outcome.atlas

    return _langchain_run(outcome, run)


def _langchain_llm(request: ClientCall) -> ClientOutcome:
    from langchain_openai import OpenAI

    outcome = ClientOutcome("langchain-llm", _langchain_version())
    recorder = AtlasRecorder(sync_client(request.base_url, request.api_key,
                                         request.timeout_s).completions)
    llm = OpenAI(client=recorder, **_langchain_common(request))

    def run() -> None:
        if not request.stream:
            outcome.text = llm.invoke(request.prompt)
        else:
            for piece in llm.stream(request.prompt):
                outcome.chunks += 1
                outcome.text += piece
        outcome.atlas = recorder.atlas

    return _langchain_run(outcome, run)


# -- the dispatcher ---------------------------------------------------------------------------
DRIVERS: dict[str, Callable[[ClientCall], ClientOutcome]] = {
    "python": _python,
    "python-async": _python_async,
    "node": lambda request: _probe("node", request),
    "go": lambda request: _probe("go", request),
    "langchain": _langchain_chat,
    "langchain-llm": _langchain_llm,
}


def call(client: str, request: ClientCall) -> ClientOutcome:
    """Send ``request`` through ``client`` (one of :data:`CLIENTS`)."""
    parse_name(client)
    if request.kind not in KINDS:
        raise ValueError(f"unknown completion kind {request.kind!r}; known: {', '.join(KINDS)}")
    if request.kind == "chat" and client in _TEXT_ONLY:
        raise ValueError(f"{client} cannot ask for a chat completion: {_TEXT_ONLY[client]}")
    if request.kind == "text" and client in _CHAT_ONLY:
        raise ValueError(f"{client} cannot ask for a text completion: {_CHAT_ONLY[client]}; "
                         f"use langchain-llm")
    require(client)
    return DRIVERS[client](request)


if __name__ == "__main__":  # python -m atlas_suite.clients: the client versions on this machine
    for name, version in versions().items():
        reason = unavailable(name)
        print(f"{name:14s} {version}" + (f"  (skips: {reason})" if reason else ""))
