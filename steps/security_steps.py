"""API keys and what must never leak."""

from __future__ import annotations

from typing import Any

from behave import when

from atlas_suite.steplib.support import http


@when('I send a request with the wrong key "{key}"')
def step_wrong_key(context: Any, key: str) -> None:
    """GET /v1/models once with ``key`` as the Bearer token; the scenario's own key stays."""
    http(context).get("/v1/models", headers={"Authorization": f"Bearer {key}"})
