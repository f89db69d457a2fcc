"""Which /v1/models id names the loaded file: servers give its path, its name or its stem."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_suite.targets import ModelPaths, TargetSettings, Unsupported, listed_model

MODEL = Path("/models/SmolLM2-135M-Instruct.Q4_1.gguf")


@pytest.mark.parametrize("ident", [
    "/models/SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct.Q4_1.gguf",
    "SmolLM2-135M-Instruct.Q4_1",
])
def test_path_name_or_stem_names_the_model(ident: str) -> None:
    listing = {"object": "list", "data": [{"id": "other"}, {"id": ident}]}
    assert listed_model(listing, MODEL) == ident


@pytest.mark.parametrize("listing", [
    {"object": "list", "data": [{"id": "gpt-3.5-turbo"}]}, {"object": "list", "data": []},
    {"data": "SmolLM2-135M-Instruct.Q4_1"}, ["SmolLM2-135M-Instruct.Q4_1"],
])
def test_another_model_or_no_list_names_nothing(listing: object) -> None:
    assert listed_model(listing, MODEL) is None


def test_a_url_target_without_a_model_path_cannot_say() -> None:
    settings = TargetSettings(target="url", base_url="http://127.0.0.1:8080")
    with pytest.raises(Unsupported, match="-D model=PATH"):
        ModelPaths(settings).loaded("default")
    known = TargetSettings(target="url", base_url="http://127.0.0.1:8080", model=str(MODEL))
    assert ModelPaths(known).loaded("default") == MODEL
