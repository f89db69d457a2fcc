"""/v1/embeddings: served only when started with --embeddings, and bad input is a 400."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest
from starlette.testclient import TestClient

from atlas_reference.app import build_app
from atlas_reference.completions import handle_embeddings
from atlas_reference.errors import ApiError
from atlas_reference.settings import ServerSettings
from atlas_reference.state import ServerState


def test_a_server_started_without_embeddings_answers_404_naming_the_flag(tmp_path: Path) -> None:
    state = ServerState(ServerSettings(model=tmp_path / "none.gguf", memory_dir=tmp_path))
    state.ready = True  # the refusal comes before the engine is needed
    reply = TestClient(build_app(state)).post("/v1/embeddings", json={"input": "x"})
    assert reply.status_code == 404
    assert reply.json()["error"] == {"message": "this server does not serve embeddings: start "
                                                "it with --embeddings",
                                     "type": "invalid_request_error", "code": 404, "param": None}


class _Engine:
    """Four tokens at most per input; one token per word."""

    embedding_tokens = 4

    def __init__(self) -> None:
        self.asked: list[dict] = []

    async def tokenize(self, text: str) -> list[int]:
        return list(range(len(text.split())))

    async def complete(self, path: str, body: dict):
        self.asked.append(body)
        raise AssertionError("an input over the limit reached the engine")


@pytest.mark.parametrize("inputs", ["one two three four five", ["fine", "a b c d e f"]])
def test_an_input_longer_than_one_batch_is_a_400_on_input(tmp_path: Path, inputs) -> None:
    engine = _Engine()
    state = SimpleNamespace(settings=ServerSettings(model=tmp_path / "m.gguf", embeddings=True),
                            engine=engine)
    with pytest.raises(ApiError) as refused:
        asyncio.run(handle_embeddings(state, {"input": inputs}))
    assert refused.value.status == 400 and refused.value.param == "input"
    assert "more than the 4 one embedding takes" in str(refused.value) and not engine.asked
