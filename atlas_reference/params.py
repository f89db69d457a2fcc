"""Validation of the ``atlas`` request extension and of configuration changes.

Every rejection is a 400 whose ``param`` names the field with a dotted path, so a client knows
exactly what to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from atlas_reference.errors import ApiError
from atlas_reference.names import validate_memory_filename

DEFAULT_MEMORY = "default"


@dataclass(frozen=True)
class AtlasOptions:
    window_size: int
    blend_ratio: float
    memory: str  # "default" or a memory file name


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check(ok: bool, param: str, message: str) -> None:
    if not ok:
        raise ApiError(400, f"{param} {message}", param=param)


def integer_in(low: int, high: int) -> Callable[[str, Any], None]:
    def check(param: str, value: Any) -> None:
        _check(_is_int(value), param, f"must be an integer, got {value!r}")
        _check(low <= value <= high, param, f"must be between {low} and {high}, got {value}")
    return check


def number_in(low: float, high: float, *, high_open: bool = False,
              low_open: bool = False) -> Callable[[str, Any], None]:
    def check(param: str, value: Any) -> None:
        _check(_is_number(value), param, f"must be a number, got {value!r}")
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        bounds = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        _check(above and below, param, f"must be in {bounds}, got {value}")
    return check


def config_checks(ctx_size: int) -> dict[str, Callable[[str, Any], None]]:
    """The defaults that ``POST /v1/atlas/config`` may change, each with its check."""
    return {
        "window_size": integer_in(1, ctx_size),
        "blend_ratio": number_in(0.0, 1.0),
        "learning_rate": number_in(0.0, 1.0, low_open=True),
        "momentum": number_in(0.0, 1.0, high_open=True),
        "weight_decay": number_in(0.0, 1.0, high_open=True),
        "newton_schulz_steps": integer_in(0, 20),
    }


def validate_config_change(body: Any, ctx_size: int) -> dict[str, Any]:
    _check(isinstance(body, dict), "body", "must be a JSON object")
    checks = config_checks(ctx_size)
    for key, value in body.items():
        _check(key in checks, key, f"is not a configurable field (one of {', '.join(checks)})")
        checks[key](key, value)
    return dict(body)


ATLAS_FIELDS = ("enabled", "window_size", "blend_ratio", "memory_file")


def parse_atlas_extension(
    raw: Any, *, ctx_size: int, default_window: int, default_blend: float
) -> AtlasOptions | None:
    """The request's ``atlas`` object, validated; None when ATLAS is not asked for."""
    if raw is None:
        return None
    _check(isinstance(raw, dict), "atlas", "must be an object")
    for key in raw:
        _check(key in ATLAS_FIELDS, f"atlas.{key}",
               f"is not a known ATLAS field (one of {', '.join(ATLAS_FIELDS)})")
    enabled = raw.get("enabled", False)
    _check(isinstance(enabled, bool), "atlas.enabled", f"must be true or false, got {enabled!r}")
    window = raw.get("window_size", default_window)
    integer_in(1, ctx_size)("atlas.window_size", window)
    blend = raw.get("blend_ratio", default_blend)
    number_in(0.0, 1.0)("atlas.blend_ratio", blend)
    memory = raw.get("memory_file", DEFAULT_MEMORY)
    if "memory_file" in raw:
        problem = validate_memory_filename(memory)
        _check(problem is None, "atlas.memory_file", f"{problem}, got {memory!r}")
    if not enabled:
        return None
    return AtlasOptions(window_size=window, blend_ratio=float(blend), memory=memory)


def check_messages(messages: Any) -> None:
    """Chat messages the engine can render: a non-empty list of objects whose ``role`` is a
    string and whose ``content``, when given, is a string, a list of parts or null. llama.cpp
    answers 500 to anything else; the contract wants a 400 naming the field."""
    _check(isinstance(messages, list) and len(messages) > 0, "messages",
           "must be a non-empty list of chat messages")
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        _check(isinstance(message, dict), where, "must be an object with a role and a content")
        _check(isinstance(message.get("role"), str), f"{where}.role", "must be a string")
        content = message.get("content")
        _check(content is None or isinstance(content, (str, list)), f"{where}.content",
               "must be a string, a list of content parts or null")


def check_tools(tools: Any) -> None:
    """Tools the engine can read: absent, null, or a list of ``{"type": "function",
    "function": {"name": "...", "parameters": {...}}}``. llama.cpp answers 500 ("Failed to
    parse tools") to anything else; the contract wants a 400 naming the field."""
    if tools is None:
        return
    _check(isinstance(tools, list), "tools", "must be a list of tools")
    for index, tool in enumerate(tools):
        where = f"tools[{index}]"
        _check(isinstance(tool, dict) and tool.get("type") == "function", f"{where}.type",
               'must be "function"')
        function = tool.get("function")
        _check(isinstance(function, dict), f"{where}.function", "must be an object")
        _check(isinstance(function.get("name"), str) and function["name"] != "",
               f"{where}.function.name", "must be a non-empty string")
        parameters = function.get("parameters")
        _check(parameters is None or isinstance(parameters, dict),
               f"{where}.function.parameters", "must be a JSON schema object")


def check_choices(body: dict) -> None:
    """More than one choice (``n`` > 1) of an empty prompt is a 400 on ``prompt``: llama.cpp
    never answers such a request, and the slots it holds stay taken, so that later requests
    for several choices wait forever too."""
    n = body.get("n")  # llama.cpp reads any JSON number: 2.0 is 2
    if not isinstance(n, (int, float)) or isinstance(n, bool) or n <= 1:
        return
    prompt = body.get("prompt")
    prompts = prompt if isinstance(prompt, list) and not _token_ids(prompt) else [prompt]
    _check(all(p not in ("", []) for p in prompts), "prompt",
           f"an empty prompt cannot be asked for {n:g} choices (n)")


def _token_ids(prompt: list) -> bool:
    return bool(prompt) and all(isinstance(t, int) and not isinstance(t, bool) for t in prompt)
