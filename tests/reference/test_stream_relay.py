"""The stream relay drops what is not a chunk: llama.cpp opens a multi-prompt stream with
``data: null``, which no OpenAI client can read as a chunk (found by fuzzing)."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

from atlas_reference.completions import _StreamProxy

CHUNK = {"object": "text_completion", "choices": [{"text": "a", "index": 0}]}


class _Upstream:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    async def aiter_lines(self):
        for line in self.lines:
            yield line


def _relay(transform) -> list[bytes]:
    proxy = _StreamProxy(SimpleNamespace(), "/v1/completions", {}, None, transform, None)
    lines = ["data: null", "", f"data: {json.dumps(CHUNK)}", "", "data: [DONE]"]

    async def collect() -> list[bytes]:
        return [chunk async for chunk in proxy._relay(_Upstream(lines))]

    return asyncio.run(collect())


def test_a_plain_stream_drops_the_null_event() -> None:
    events = _relay(None)
    assert events == [f"data: {json.dumps(CHUNK)}\n\n".encode(), b"data: [DONE]\n\n"]


def test_an_atlas_stream_drops_it_too_and_still_ends_with_done() -> None:
    seen: list[object] = []

    async def transform(event):
        seen.append(event)
        return [] if event is None else [event]

    events = _relay(transform)
    assert seen == [CHUNK, None]
    assert events[-1] == b"data: [DONE]\n\n" and len(events) == 2
