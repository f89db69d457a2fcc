"""Server-sent events, read the same way by the steps, the load engine and Locust."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from atlas_suite import sse
from atlas_suite.calibration import trivial_server


def test_lines_of_one_event_join_and_comments_and_other_fields_are_skipped() -> None:
    lines = [": hello", "event: chunk", "id: 7", "data: {\"a\":", "data: 1}", "",
             b"data: [DONE]\r\n", ""]
    assert list(sse.events_from_lines(lines)) == ['{"a":\n1}', "[DONE]"]


def test_an_event_without_its_blank_line_is_still_given_at_the_end_of_the_stream() -> None:
    assert list(sse.events_from_lines(["data:x"])) == ["x"]


def test_done_and_tokens_are_recognised_in_text_and_chat_chunks() -> None:
    assert sse.is_done(" [DONE] ") and not sse.is_done('{"x": 1}')
    assert sse.has_token({"choices": [{"text": "a"}]})
    assert sse.has_token({"choices": [{"delta": {"content": "b"}}]})
    assert not sse.has_token({"choices": [{"delta": {}}]}) and not sse.has_token([1])


def test_the_engine_path_reads_a_real_stream_through_httpx_sse() -> None:
    async def read(url: str) -> list[str]:
        async with httpx.AsyncClient() as client, \
                client.stream("POST", url, json={"stream": True}) as reply:
            return [data async for data in sse.aevents(reply)]

    with trivial_server(tokens=3) as server:
        events = asyncio.run(read(server.url + "/v1/completions"))
    assert len(events) == 4 and sse.is_done(events[-1])
    assert [sse.chunk(e)["choices"][0]["text"] for e in events[:3]] == ["t0", "t1", "t2"]


def test_an_answer_that_is_not_an_event_stream_is_named() -> None:
    async def read(url: str) -> list[str]:
        async with httpx.AsyncClient() as client, client.stream("POST", url, json={}) as reply:
            return [data async for data in sse.aevents(reply)]

    with trivial_server() as server, pytest.raises(sse.SSEError, match="text/event-stream"):
        asyncio.run(read(server.url + "/v1/completions"))
