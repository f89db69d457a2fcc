"""The official OpenAI Python SDK's response types, as a second judge of every OpenAI answer.

``schemas/openapi.yaml`` says what this suite requires; the SDK's pydantic models say what
OpenAI's own client accepts. :func:`errors` validates a decoded JSON document with
``Type.model_validate`` (pydantic: every field the SDK declares required must be there, with a
value of its type; extra fields such as ``atlas`` or llama.cpp's ``timings`` are allowed, as the
SDK allows them) and answers one readable line per problem, naming the field.

The SDK types one thing more loosely than the wire carries it: a text-completion stream chunk
is a ``Completion`` whose choices, mid-stream, have ``finish_reason: null`` (OpenAI's own API
sends them so). :class:`CompletionChunk` is ``Completion`` with exactly that field optional, so
a right server never fails on it; everything else is the SDK's own model.
"""

from __future__ import annotations

from typing import Any, Literal

import pydantic
from openai.types import Completion, CompletionChoice, CreateEmbeddingResponse, Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk


class CompletionChunkChoice(CompletionChoice):
    """A streamed text-completion choice: ``finish_reason`` is null until the last piece."""

    finish_reason: Literal["stop", "length", "content_filter"] | None = None  # type: ignore[assignment]


class CompletionChunk(Completion):
    """One chunk of a streamed ``/v1/completions`` answer, as the SDK reads it."""

    choices: list[CompletionChunkChoice]  # type: ignore[assignment]


class ModelsList(pydantic.BaseModel):
    """``GET /v1/models``: the SDK pages ``data`` and reads each entry as a ``Model``."""

    object: Literal["list"]
    data: list[Model]


# The suite's schema names (components of schemas/openapi.yaml) and the SDK type each one is.
SDK_TYPES: dict[str, type[pydantic.BaseModel]] = {
    "completion": Completion,
    "completion_chunk": CompletionChunk,
    "chat_completion": ChatCompletion,
    "chat_completion_chunk": ChatCompletionChunk,
    "models_list": ModelsList,
    "embeddings": CreateEmbeddingResponse,
}

LABELS = {
    "completion": "openai.types.Completion",
    "completion_chunk": "openai.types.Completion, as a stream chunk",
    "chat_completion": "openai.types.chat.ChatCompletion",
    "chat_completion_chunk": "openai.types.chat.ChatCompletionChunk",
    "models_list": "a list of openai.types.Model",
    "embeddings": "openai.types.CreateEmbeddingResponse",
}


def sdk_type(name: str) -> type[pydantic.BaseModel] | None:
    """The SDK type that a schema name stands for, or None where the SDK has none (ATLAS)."""
    return SDK_TYPES.get(name)


def _where(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "(top)"


def errors(name: str, document: Any) -> list[str]:
    """Problems of ``document`` as the SDK type for ``name`` (none when ``name`` has no type).

    One line per problem, in the shape of :meth:`SchemaRegistry.errors`:
    ``"at choices.0.finish_reason: Field required (openai.types.Completion)"``.
    """
    model = sdk_type(name)
    if model is None:
        return []
    try:
        model.model_validate(document)
    except pydantic.ValidationError as exc:
        return [f"at {_where(err['loc'])}: {err['msg']} ({LABELS[name]})" for err in exc.errors()]
    return []


class RefusedByOpenAITypes(AssertionError):
    """A 200 answer of an OpenAI route that the official SDK's types refuse."""


def require_answer(chat: bool, document: Any, *, chunk: int | None = None) -> None:
    """Raise :class:`RefusedByOpenAITypes`, naming the fields, when a completion answer (or
    stream chunk number ``chunk``) is not what OpenAI's own Python client accepts."""
    name = ("chat_completion" if chat else "completion") + ("_chunk" if chunk else "")
    problems = errors(name, document)
    if problems:
        where = f"chunk {chunk} of the stream" if chunk else "the answer"
        raise RefusedByOpenAITypes(
            f"{where} is not what OpenAI's own client accepts: " + "; ".join(problems[:5])
            + f"\n{str(document)[:600]}")
