"""Server-sent events, read one way for the whole suite.

OpenAI-compatible streams are server-sent events whose ``data`` is a JSON chunk, ending with
``data: [DONE]``. The load engine reads them from ``httpx`` responses through httpx-sse (its
decoder follows the W3C event-stream rules: multi-line data, comments, ids, retry); callers whose
transport is not httpx (the steps' ``requests`` session, Locust's client) hand their lines to
``events_from_lines``, which applies the same rules. Both give the ``data`` of each event;
``is_done`` and ``chunk`` interpret it the same way for everyone.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import httpx
from httpx_sse import EventSource, SSEError

DONE = "[DONE]"

__all__ = ["DONE", "SSEError", "aevents", "chunk", "events_from_lines", "has_token", "is_done"]


async def aevents(response: httpx.Response) -> AsyncIterator[str]:
    """The ``data`` of each event of a streamed httpx response, as it arrives. Raises
    ``SSEError`` when the answer is not ``text/event-stream``."""
    async for event in EventSource(response).aiter_sse():
        yield event.data


def events_from_lines(lines: Iterable[str | bytes]) -> Iterator[str]:
    """The ``data`` of each event in a stream given line by line: ``data:`` lines of one event
    joined by newlines, dispatched at the blank line that ends it (or at the end of the
    stream); comments (``:``) and other fields are skipped."""
    data: list[str] = []
    for raw in lines:
        line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        line = line.rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
            data = []
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


def is_done(data: str) -> bool:
    """Whether this event is the stream's end marker, ``[DONE]``."""
    return data.strip() == DONE


def chunk(data: str) -> Any:
    """The JSON chunk an event carries; ``ValueError`` when it is not JSON."""
    return json.loads(data)


def has_token(event: Any) -> bool:
    """Whether a completion or chat chunk carries generated text."""
    if not isinstance(event, dict):
        return False
    for choice in event.get("choices") or []:
        delta = choice.get("delta") or {}
        if choice.get("text") or delta.get("content"):
            return True
    return False
