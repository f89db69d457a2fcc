"""Tests for the tiny random GGUF model used as "another model" in tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import gguf
import pytest

from atlas_models.tiny import main, write_tiny_model


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _field_value(reader: gguf.GGUFReader, key: str) -> object:
    field = reader.get_field(key)
    assert field is not None, f"missing GGUF key {key}"
    return field.contents()


def test_same_seed_writes_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    first = write_tiny_model(tmp_path / "a.gguf", seed=0)
    again = write_tiny_model(tmp_path / "b.gguf", seed=0)
    other = write_tiny_model(tmp_path / "c.gguf", seed=1)
    assert _digest(first) == _digest(again)
    assert _digest(first) != _digest(other)
    assert first.stat().st_size < 4 * 1024 * 1024


def test_reader_sees_llama_with_expected_embedding(tmp_path: Path) -> None:
    path = write_tiny_model(tmp_path / "tiny.gguf", embedding_length=32, n_heads=2, vocab_size=300)
    reader = gguf.GGUFReader(path)
    assert _field_value(reader, "general.architecture") == "llama"
    assert _field_value(reader, "llama.embedding_length") == 32
    assert _field_value(reader, "llama.block_count") == 2
    embd = next(t for t in reader.tensors if t.name == "token_embd.weight")
    matrix = gguf.quants.dequantize(embd.data, embd.tensor_type)
    assert matrix.shape == (300, 32)


def test_rejects_bad_shapes(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_tiny_model(tmp_path / "x.gguf", embedding_length=30, n_heads=4)
    with pytest.raises(ValueError):
        write_tiny_model(tmp_path / "x.gguf", vocab_size=10)


def test_command_line_prints_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.gguf"
    assert main([str(out), "--seed", "3"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert _digest(out) == _digest(write_tiny_model(tmp_path / "api.gguf", seed=3))


def test_llama_cpp_loads_and_generates(tmp_path: Path) -> None:
    xlc = pytest.importorskip("xllamacpp")
    httpx = pytest.importorskip("httpx")
    path = write_tiny_model(tmp_path / "tiny.gguf", seed=7)
    params = xlc.CommonParams()
    params.model.path = str(path)
    params.n_ctx = 512
    params.n_parallel = 1
    server = xlc.Server(params)
    try:
        base = server.listening_address
        with httpx.Client(base_url=base, timeout=60) as client:
            completion = client.post("/v1/completions", json={"prompt": "hello", "max_tokens": 4})
            assert completion.status_code == 200, completion.text
            body = completion.json()
            assert body["usage"]["completion_tokens"] > 0
            assert body["choices"][0]["text"].isascii()

            chat = client.post(
                "/v1/chat/completions",
                json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4},
            )
            assert chat.status_code == 200, chat.text
            assert chat.json()["usage"]["completion_tokens"] > 0

            tokens = client.post("/tokenize", json={"content": "hello world"})
            assert tokens.status_code == 200, tokens.text
            assert len(tokens.json()["tokens"]) > 0
    finally:
        del server
