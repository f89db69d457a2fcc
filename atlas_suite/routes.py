"""The contract's routes and request bodies, written once for the whole suite.

Steps (through ``AtlasApi``), the load engine, the Locust file, the fault probes and the
OpenAPI coverage check all take the paths and the completion body from here, so a route that
moves or a body field that changes is edited in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# -- OpenAI routes ---------------------------------------------------------------------------
MODELS = "/v1/models"
COMPLETIONS = "/v1/completions"
CHAT_COMPLETIONS = "/v1/chat/completions"
EMBEDDINGS = "/v1/embeddings"

# -- ATLAS routes ----------------------------------------------------------------------------
ATLAS_PREFIX = "/v1/atlas/"  # every route of the extension, and nothing else, is under it
ATLAS_STATUS = "/v1/atlas/status"
ATLAS_CONFIG = "/v1/atlas/config"
ATLAS_METRICS = "/v1/atlas/metrics"
MEMORY_SAVE = "/v1/atlas/memory/save"
MEMORY_LOAD = "/v1/atlas/memory/load"
MEMORY_LIST = "/v1/atlas/memory/list"
MEMORY_DELETE = "/v1/atlas/memory/delete"
MEMORY_RESET = "/v1/atlas/memory/reset"

# -- operations ------------------------------------------------------------------------------
HEALTH = "/health"
PROMETHEUS = "/metrics"
UNKNOWN = "/v1/no-such-route"  # a route no server has: its answer shows the 404 envelope

DEFAULT_SEED = 42  # with temperature 0: the same prompt gives the same text on every run


@dataclass(frozen=True)
class Route:
    """One method and path of the contract; ``atlas`` marks the ATLAS extension's routes."""

    method: str
    path: str
    atlas: bool

    def describe(self) -> str:
        return f"{self.method} {self.path}"


ROUTES: tuple[Route, ...] = (
    Route("GET", MODELS, False),
    Route("POST", COMPLETIONS, False),
    Route("POST", CHAT_COMPLETIONS, False),
    Route("POST", EMBEDDINGS, False),
    Route("GET", ATLAS_STATUS, True),
    Route("GET", ATLAS_CONFIG, True),
    Route("POST", ATLAS_CONFIG, True),
    Route("GET", ATLAS_METRICS, True),
    Route("POST", MEMORY_SAVE, True),
    Route("POST", MEMORY_LOAD, True),
    Route("GET", MEMORY_LIST, True),
    Route("POST", MEMORY_DELETE, True),
    Route("POST", MEMORY_RESET, True),
)
OPERATIONS: tuple[Route, ...] = (Route("GET", HEALTH, False), Route("GET", PROMETHEUS, False))


def completion_path(chat: bool = False) -> str:
    """The completions route: chat or text."""
    return CHAT_COMPLETIONS if chat else COMPLETIONS


def completion_body(model: str, prompt: str, *, max_tokens: int, chat: bool = False,
                    stream: bool = False, atlas: dict[str, Any] | None = None,
                    **extra: Any) -> dict[str, Any]:
    """A deterministic completion request (temperature 0, fixed seed).

    ``atlas`` is the request's ATLAS extension object (``{"enabled": true, ...}``), left out
    when None; ``extra`` adds OpenAI fields (``stop``, ``logprobs``, ``stream_options``, ...).
    """
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "temperature": 0,
                            "seed": DEFAULT_SEED}
    if chat:
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    if atlas is not None:
        body["atlas"] = atlas
    if stream:
        body["stream"] = True
    body.update(extra)
    return body


def atlas_extension(enabled: bool = True, **fields: Any) -> dict[str, Any]:
    """The request's ``atlas`` object; fields given as None are left out."""
    return {"enabled": enabled, **{k: v for k, v in fields.items() if v is not None}}
