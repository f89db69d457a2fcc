"""LangChain's ChatOpenAI (a chat model) and OpenAI (a text-completion LLM)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import openai

from atlas_suite.clients.calls import NO_KEY, ClientCall, ClientOutcome, package_version
from atlas_suite.clients.official import (
    atlas_block,
    client_failure,
    python_error,
    sync_client,
)


def _langchain_version() -> str:
    return f"langchain-openai {package_version('langchain-openai')}"


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
        return python_error(outcome, exc)
    except openai.APIError as exc:
        raise client_failure("the LangChain client", exc) from None
    return outcome


def langchain_chat(request: ClientCall) -> ClientOutcome:
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


def langchain_llm(request: ClientCall) -> ClientOutcome:
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
