"""llama.cpp called in-process answers as its private listener does: the tokenizer gives the
ids /tokenize gives, and a completion that is not streamed the same JSON and status."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from atlas_models.fetch import default_model_path
from atlas_reference.errors import ApiError

TEXTS = ["The capital of France is", "", " ", "héllo wörld 日本語 🙂",
         "<|im_start|>user\nhi<|im_end|>", "word " * 4000, "\n\n\t  x", "3.14159 1234567890"]


@pytest.fixture(scope="module")
def engine():
    model = default_model_path()
    if not model.is_file():
        pytest.skip(f"the reference model is not cached at {model} (make model)")
    from atlas_reference.engine import Engine

    started = Engine(model, ctx_size=256, parallel=1, threads=1, gpu_layers=0)
    yield started
    asyncio.run(started.aclose())
    started.stop()


def test_in_process_ids_are_the_tokenize_route_s(engine) -> None:
    assert engine.vocabulary is not None, "the installed llama.cpp's layout was not recognised"
    with httpx.Client(base_url=engine.base_url, timeout=120) as client:
        for text in TEXTS:
            expected = client.post("/tokenize", json={"content": text}).json()["tokens"]
            assert asyncio.run(engine.tokenize(text)) == expected, text[:40]


def test_a_text_that_cannot_be_encoded_is_a_400_on_the_prompt(engine) -> None:
    with pytest.raises(ApiError) as refused:
        asyncio.run(engine.tokenize("lone \ud800 surrogate"))
    assert refused.value.status == 400 and refused.value.param == "prompt"


VOLATILE = ("id", "created", "timings", "system_fingerprint")


def _stable(payload: dict) -> dict:
    usage = {k: v for k, v in (payload.get("usage") or {}).items() if k != "prompt_tokens_details"}
    return {**{k: v for k, v in payload.items() if k not in VOLATILE}, "usage": usage}


@pytest.mark.parametrize("path, body", [
    ("/v1/completions", {"prompt": "The capital of France is", "max_tokens": 3,
                         "temperature": 0}),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3,
                              "temperature": 0}),
    ("/v1/completions", {"prompt": "x", "max_tokens": "three"}),
])
def test_a_completion_in_process_is_the_listener_s_answer(engine, path: str, body: dict) -> None:
    with httpx.Client(base_url=engine.base_url, timeout=120) as client:
        expected = client.post(path, json=body)

    async def in_process() -> httpx.Response:
        return await engine.complete(path, dict(body))

    got = asyncio.run(in_process())
    assert got.status_code == expected.status_code
    if expected.status_code == 200:
        assert _stable(got.json()) == _stable(expected.json())
    else:
        assert got.json()["error"]["type"] == expected.json()["error"]["type"]


def test_integers_beyond_64_bits_reach_the_engine_as_its_json_parser_would_read_them() -> None:
    from atlas_reference.engine import as_parsed_json

    body = {"prompt": [5, 2**96, [True, -(2**70)]], "seed": 2**63, "n": {"k": 2**64}}
    assert as_parsed_json(body) == {"prompt": [5, float(2**96), [True, float(-(2**70))]],
                                    "seed": 2**63, "n": {"k": float(2**64)}}


def test_embeddings_in_process_are_the_listener_s_answer() -> None:
    model = default_model_path()
    if not model.is_file():
        pytest.skip(f"the reference model is not cached at {model} (make model)")
    from atlas_reference.engine import Engine

    engine = Engine(model, ctx_size=256, parallel=1, threads=1, gpu_layers=0, pooling="mean")
    try:
        body = {"input": ["red sky", "green grass"]}
        with httpx.Client(base_url=engine.base_url, timeout=120) as client:
            expected = client.post("/v1/embeddings", json=body)
        got = asyncio.run(engine.complete("/v1/embeddings", dict(body)))
        assert expected.status_code == got.status_code == 200
        vectors = [item["embedding"] for item in got.json()["data"]]
        assert len(vectors) == 2 and len(vectors[0]) == len(vectors[1]) > 0
        assert vectors == [item["embedding"] for item in expected.json()["data"]]
        refused = asyncio.run(engine.complete("/v1/embeddings", {"input": 5}))
        assert refused.status_code == 400  # llama.cpp's invalid argument, as its listener says
        assert refused.json()["error"]["type"] == "invalid_request_error"
        completion = asyncio.run(engine.complete("/v1/completions", {"prompt": "Hi",
                                                                     "max_tokens": 2}))
        assert completion.status_code == 200  # completions are still served beside them
    finally:
        asyncio.run(engine.aclose())
        engine.stop()
