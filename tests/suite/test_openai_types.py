"""The official SDK's types judge OpenAI answers alongside the suite's own schemas."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from atlas_suite import openai_types
from atlas_suite.schemas import registry

USAGE = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
COMPLETION = {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m",
              "choices": [{"index": 0, "text": " Paris", "logprobs": None,
                           "finish_reason": "length"}],
              "usage": USAGE, "timings": {"predicted_n": 3}}  # llama.cpp's extra field is fine
CHAT = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "Hi."}}],
        "usage": USAGE, "atlas": {"enabled": True}}
CHAT_CHUNK = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
              "choices": [{"index": 0, "finish_reason": None, "delta": {"content": "Hi"}}]}
TEXT_CHUNK = {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m",
              "choices": [{"index": 0, "text": "Hi", "finish_reason": None}]}
MODELS = {"object": "list", "data": [{"id": "m", "object": "model", "created": 1,
                                      "owned_by": "llamacpp"}]}
EMBEDDINGS = {"object": "list", "model": "m", "usage": {"prompt_tokens": 1, "total_tokens": 1},
              "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}]}
GOOD = {"completion": COMPLETION, "chat_completion": CHAT, "chat_completion_chunk": CHAT_CHUNK,
        "completion_chunk": TEXT_CHUNK, "models_list": MODELS, "embeddings": EMBEDDINGS}


def _without(document: dict[str, Any], *path: str | int) -> dict[str, Any]:
    broken = copy.deepcopy(document)
    holder: Any = broken
    for part in path[:-1]:
        holder = holder[part]
    del holder[path[-1]]
    return broken


@pytest.mark.parametrize("name", sorted(GOOD))
def test_a_good_answer_passes_the_sdk_type(name: str) -> None:
    assert openai_types.errors(name, GOOD[name]) == []


@pytest.mark.parametrize(("name", "path", "named"), [
    ("completion", ("created",), "at created: Field required (openai.types.Completion)"),
    ("completion", ("choices", 0, "finish_reason"), "at choices.0.finish_reason: Field required"),
    ("chat_completion", ("choices", 0, "message", "role"), "at choices.0.message.role"),
    ("chat_completion", ("model",), "at model: Field required"),
    ("chat_completion_chunk", ("id",), "at id: Field required"),
    ("completion_chunk", ("choices", 0, "index"), "at choices.0.index: Field required"),
    ("models_list", ("data", 0, "owned_by"), "at data.0.owned_by: Field required"),
    ("embeddings", ("usage",), "at usage: Field required"),
])
def test_a_missing_required_field_is_named(name: str, path: tuple[Any, ...],
                                            named: str) -> None:
    problems = openai_types.errors(name, _without(GOOD[name], *path))
    assert any(line.startswith(named) for line in problems), problems


def test_a_wrong_finish_reason_is_refused() -> None:
    broken = copy.deepcopy(CHAT)
    broken["choices"][0]["finish_reason"] = "eos"
    problems = openai_types.errors("chat_completion", broken)
    assert problems and problems[0].startswith("at choices.0.finish_reason"), problems


def test_the_finished_text_chunk_still_needs_a_known_finish_reason() -> None:
    broken = copy.deepcopy(TEXT_CHUNK)
    broken["choices"][0]["finish_reason"] = "done"
    assert openai_types.errors("completion_chunk", broken)


def test_an_atlas_shape_has_no_sdk_type() -> None:
    assert openai_types.sdk_type("atlas_block") is None
    assert openai_types.errors("atlas_block", {"anything": 1}) == []


def test_the_schema_registry_asks_the_sdk_too() -> None:
    """A field the suite's schema leaves optional but the SDK requires still fails."""
    broken = _without(COMPLETION, "created")
    assert any("(openai.types.Completion)" in line
               for line in registry().errors("completion", broken))
    assert registry().errors("completion", COMPLETION) == []


def test_an_answer_the_sdk_refuses_raises_naming_the_field() -> None:
    openai_types.require_answer(True, CHAT)
    openai_types.require_answer(False, TEXT_CHUNK, chunk=3)
    with pytest.raises(openai_types.RefusedByOpenAITypes, match="chunk 2 of the stream .* at id"):
        openai_types.require_answer(True, _without(CHAT_CHUNK, "id"), chunk=2)
