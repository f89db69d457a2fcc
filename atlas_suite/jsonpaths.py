"""JSON path look-ups for steps ("error.message", "data[0].name", "choices[*].text")."""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonpath_ng import JSONPath
from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext import parse as _parse


class PathNotFound(AssertionError):
    """Nothing in the document is at the path; the message shows what is there instead."""


@functools.lru_cache(maxsize=256)
def compile_path(path: str) -> JSONPath:
    """Parse a path once. A leading ``$.`` is optional; numeric keys need quotes ('200')."""
    try:
        return _parse(path if path.startswith("$") else f"$.{path}")
    except (JsonPathParserError, Exception) as exc:  # jsonpath-ng raises plain Exceptions too
        raise ValueError(f"not a JSON path: {path!r} ({exc})") from None


def find_all(document: Any, path: str) -> list[Any]:
    """Every value at ``path`` (an empty list when there is none)."""
    return [match.value for match in compile_path(path).find(document)]


def exists(document: Any, path: str) -> bool:
    return bool(compile_path(path).find(document))


def value_at(document: Any, path: str) -> Any:
    """The single value at ``path``; several matches come back as a list."""
    values = find_all(document, path)
    if not values:
        raise PathNotFound(f'nothing at "{path}" in {_preview(document)}')
    return values[0] if len(values) == 1 and "*" not in path else values


def _preview(document: Any, limit: int = 500) -> str:
    text = json.dumps(document, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "..."
