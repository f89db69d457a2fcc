"""The official Python client, sync and async: ``openai.OpenAI`` and ``openai.AsyncOpenAI``."""

from __future__ import annotations

import asyncio
from typing import Any

import openai

from atlas_suite.clients.calls import NO_KEY, ClientCall, ClientFailure, ClientOutcome
from atlas_suite.verdicts import verdict_for


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


def python_error(outcome: ClientOutcome, exc: openai.APIStatusError) -> ClientOutcome:
    body = exc.body if isinstance(exc.body, dict) else {}
    body = body.get("error", body) if isinstance(body.get("error"), dict) else body
    outcome.error_type = type(exc).__name__
    outcome.status = exc.status_code
    outcome.message = str(exc)
    outcome.param = body.get("param")
    outcome.error_body = body or None
    return outcome


def client_failure(who: str, exc: openai.APIError) -> AssertionError:
    """What the server did, when the client saw no HTTP answer; else the client's failure."""
    if isinstance(exc, openai.APIStatusError):
        return ClientFailure(f"{who} got HTTP {exc.status_code}: {exc}")
    verdict = verdict_for(exc, f"through {who}")
    return verdict if verdict is not None else \
        ClientFailure(f"{who} failed: {type(exc).__name__}: {exc}")


def python_sync(request: ClientCall) -> ClientOutcome:
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
        return python_error(outcome, exc)
    except openai.APIError as exc:
        raise client_failure("the Python client", exc) from None
    return outcome


def python_async(request: ClientCall) -> ClientOutcome:
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
        return python_error(outcome, exc)
    except openai.APIError as exc:
        raise client_failure("the async Python client", exc) from None
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
        raise client_failure("the async Python client", exc) from None
