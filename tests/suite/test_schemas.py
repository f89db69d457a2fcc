"""Every schema of the OpenAPI document is valid draft 2020-12, accepts a good example and rejects
a bad one."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from atlas_suite.schemas import registry

FP = "ab" * 32
CONFIG = {"window_size": 256, "blend_ratio": 0.5, "blend_supported": False,
          "learning_rate": 0.02, "momentum": 0.9, "weight_decay": 0.001,
          "newton_schulz_steps": 5, "feature_degree": 2, "chunk_size": 16, "layers": 2,
          "key_dim": 64, "hidden_dim": 256, "seed": 0}
BLOCK = {"enabled": True, "memory": "default", "window_size": 256, "blend_ratio": 0.5,
         "tokens_memorized": 41, "omega_loss": 0.183, "memory_update_ms": 3.2}
USAGE = {"prompt_tokens": 5, "completion_tokens": 8, "total_tokens": 13}

VALID: dict[str, Any] = {
    "error": {"error": {"message": "bad window", "type": "invalid_request_error", "code": 400,
                        "param": "atlas.window_size"}},
    "atlas_config": CONFIG,
    "atlas_block": BLOCK,
    "atlas_status": {
        "status": "ok", "uptime_seconds": 12.5, "atlas": {"enabled": True, "version": "0.1"},
        "model": {"name": "m", "embedding_length": 576, "context_length": 8192},
        "memory": {"name": "default", "layers": 2, "key_dim": 64, "hidden_dim": 256,
                   "parameters": 49152, "bytes": 196608, "tokens_memorized": 0, "updates": 0,
                   "omega_loss": None, "fingerprint": FP, "source": None},
        "config": CONFIG,
        "performance": {"tokens_per_second": 130.2, "requests_total": 0, "requests_active": 0,
                        "requests_rejected": 0, "latency_ms": {"p50": 0, "p95": 0, "p99": 0}},
        "limits": {"parallel": 4, "memory_budget_mb": 512, "rate_limit_rpm": None}},
    "atlas_metrics": {
        "uptime_seconds": 12.5,
        "requests": {"total": 10, "active": 0, "rejected": 0, "atlas": 6,
                     "by_status": {"200": 9, "400": 1}},
        "latency_ms": {"p50": 80.1, "p95": 120.4, "p99": 130.0, "count": 10},
        "throughput": {"tokens_per_second": 130.2, "requests_per_second": 0.8,
                       "tokens_generated": 420},
        "memory": {"memories": 2, "tokens_memorized": 900, "updates": 60, "update_ms_p50": 2.1,
                   "saves": 1, "loads": 1},
        "errors": {"total": 1, "by_type": {"invalid_request_error": 1}}},
    "memory_save": {"filename": "a.atlas", "memory": "default", "bytes": 1000,
                    "fingerprint": FP, "elapsed_ms": 3.1},
    "memory_load": {"filename": "a.atlas", "memory": "default", "bytes": 1000,
                    "fingerprint": FP, "tokens_memorized": 12, "elapsed_ms": 2.0},
    "memory_list": {"object": "list", "data": [{"name": "a.atlas", "bytes": 1000,
                                                "modified": 1700000000.5}]},
    "memory_delete": {"filename": "a.atlas", "deleted": True},
    "memory_reset": {"memory": "default", "fingerprint": FP, "reset": True},
    "completion": {"id": "cmpl-1", "object": "text_completion", "created": 1700000000,
                   "model": "m", "choices": [{"index": 0, "text": " Paris",
                                              "finish_reason": "length", "logprobs": None}],
                   "usage": USAGE, "atlas": BLOCK},
    "chat_completion": {"id": "chat-1", "object": "chat.completion", "created": 1700000000,
                        "model": "m", "choices": [{"index": 0, "finish_reason": "stop",
                                                   "message": {"role": "assistant",
                                                               "content": "Hi"}}],
                        "usage": USAGE},
    "completion_chunk": {"id": "c", "object": "text_completion", "created": 1, "model": "m",
                         "choices": [], "atlas": BLOCK},
    "chat_completion_chunk": {"id": "c", "object": "chat.completion.chunk", "created": 1,
                              "model": "m", "choices": [{"index": 0, "delta": {"content": "H"},
                                                         "finish_reason": None}]},
    "models_list": {"object": "list", "data": [{"id": "m", "object": "model", "created": 1,
                                                "owned_by": "llamacpp"}]},
    "health": {"status": "ok"},
    # request bodies
    "memory_name": "notes-1.v2.atlas",
    "memory_ref": "default",
    "atlas_extension": {"enabled": True, "window_size": 64, "blend_ratio": 0.7,
                        "memory_file": "session.atlas"},
    "completion_request": {"model": "m", "prompt": [1, 2, 3], "max_tokens": 4, "stream": True,
                           "atlas": {"enabled": True}, "logit_bias": {}},
    "chat_message": {"role": "user", "content": "hi"},
    "chat_completion_request": {"messages": [{"role": "user", "content": "hi"}],
                                "stop": ["\n"], "atlas": {"enabled": False}},
    "config_change": {"window_size": 32, "momentum": 0.5},
    "memory_file_request": {"filename": "a.atlas", "memory": "b.atlas"},
    "memory_delete_request": {"filename": "a.atlas"},
    "memory_reset_request": {},
    "embeddings": {"object": "list", "model": "m", "usage": {"prompt_tokens": 4,
                                                             "total_tokens": 4},
                   "data": [{"object": "embedding", "index": 0, "embedding": [0.1, -0.2]}]},
    "embeddings_request": {"model": "m", "input": ["red sky", "green grass"]},
    "stream_options": {"include_usage": True},
    "json_schema_object": {"type": "object", "properties": {"city": {"type": "string"}},
                           "required": ["city"]},
    "response_format": {"type": "json_schema",
                        "json_schema": {"name": "place", "strict": True,
                                        "schema": {"type": "object",
                                                   "properties": {"n": {"type": "integer"}}}}},
    "tool": {"type": "function",
             "function": {"name": "get_weather", "description": "the weather in a city",
                          "parameters": {"type": "object",
                                         "properties": {"city": {"type": "string"}}}}},
}


def _broken(name: str) -> Any:
    """A copy of the valid example with one contract violation."""
    doc = copy.deepcopy(VALID[name])
    breakers = {
        "error": lambda d: d["error"].update(code="400"),
        "atlas_config": lambda d: d.update(blend_ratio=1.5),
        "atlas_block": lambda d: d.update(surprise=1),
        "atlas_status": lambda d: d["memory"].update(fingerprint="not-hex"),
        "atlas_metrics": lambda d: d["requests"]["by_status"].update(ok=1),
        "memory_save": lambda d: d.pop("fingerprint"),
        "memory_load": lambda d: d.update(bytes=-1),
        "memory_list": lambda d: d["data"][0].update(name="../x.atlas"),
        "memory_delete": lambda d: d.update(deleted=False),
        "memory_reset": lambda d: d.update(reset="yes"),
        "completion": lambda d: d.update(object="chat.completion"),
        "chat_completion": lambda d: d["choices"][0]["message"].update(role="user"),
        "completion_chunk": lambda d: d["atlas"].update(window_size=0),
        "chat_completion_chunk": lambda d: d.pop("choices"),
        "models_list": lambda d: d.update(data=[]),
        "health": lambda d: d.update(status="loading"),
        "atlas_extension": lambda d: d.update(window=3),
        "completion_request": lambda d: d["atlas"].update(blend_ratio=2),
        "chat_message": lambda d: d.pop("content"),
        "chat_completion_request": lambda d: d.update(messages=[]),
        "config_change": lambda d: d.update(layers=3),
        "memory_file_request": lambda d: d.update(filename="../a.atlas"),
        "memory_delete_request": lambda d: d.pop("filename"),
        "memory_reset_request": lambda d: d.update(memory="a..atlas"),
        "embeddings": lambda d: d["data"][0].update(embedding=[]),
        "embeddings_request": lambda d: d.update(input=[]),
        "stream_options": lambda d: d.update(include_usage="yes"),
        "json_schema_object": lambda d: d["properties"].update(city={"type": "date"}),
        "response_format": lambda d: d["json_schema"].pop("schema"),
        "tool": lambda d: d["function"].update(name="no spaces allowed"),
    }
    scalars = {"memory_name": "a..atlas", "memory_ref": "/etc/passwd"}
    if name in scalars:
        return scalars[name]
    breakers[name](doc)
    return doc


def test_every_schema_has_examples() -> None:
    assert sorted(VALID) == registry().names()


@pytest.mark.parametrize("name", registry().names())
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    Draft202012Validator.check_schema(registry().schemas[name])


@pytest.mark.parametrize("name", registry().names())
def test_schema_accepts_its_example(name: str) -> None:
    assert registry().errors(name, VALID[name]) == []


@pytest.mark.parametrize("name", registry().names())
def test_schema_rejects_a_broken_example(name: str) -> None:
    assert registry().errors(name, _broken(name)) != []


def test_status_config_refers_to_the_config_schema() -> None:
    doc = copy.deepcopy(VALID["atlas_status"])
    doc["config"]["window_size"] = 0
    assert any("config" in line for line in registry().errors("atlas_status", doc))


def test_unknown_schema_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="atlas_status"):
        registry().errors("nope", {})


@pytest.mark.parametrize("name", ["sub/a.atlas", "..", ".hidden.atlas", "noext", "", "a.atlas.tmp",
                                  "a" * 123 + ".atlas", "a..b.atlas", "/tmp/a.atlas"])
def test_the_memory_name_refuses_what_the_contract_refuses(name: str) -> None:
    assert registry().errors("memory_name", name) != []


@pytest.mark.parametrize("name", ["a.atlas", "A_b-1.x.atlas", "a" * 122 + ".atlas"])
def test_the_memory_name_accepts_what_the_contract_accepts(name: str) -> None:
    assert registry().errors("memory_name", name) == []
