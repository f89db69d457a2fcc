"""GET /openapi.yaml serves the contract's document, without a key and before the model loads."""

from __future__ import annotations

from pathlib import Path

import yaml
from starlette.testclient import TestClient

from atlas_reference.app import build_app
from atlas_reference.settings import ServerSettings
from atlas_reference.state import ServerState

ROOT = Path(__file__).resolve().parents[2]


def test_the_document_is_served_as_the_repository_holds_it(tmp_path: Path) -> None:
    settings = ServerSettings(model=tmp_path / "none.gguf", atlas=True, api_keys=("k-123",),
                              memory_dir=tmp_path)
    client = TestClient(build_app(ServerState(settings)))  # no lifespan: the model never loads
    reply = client.get("/openapi.yaml")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/yaml")
    assert reply.content == (ROOT / "schemas" / "openapi.yaml").read_bytes()
    assert yaml.safe_load(reply.text)["openapi"].startswith("3.1")

