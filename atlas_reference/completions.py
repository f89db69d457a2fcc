"""OpenAI completion routes: passed through to llama.cpp, with the ATLAS extension around them.

Without ATLAS the request goes to the engine untouched (minus a disabled ``atlas`` object) and
the answer comes back untouched. With ATLAS the request reserves its memory work, generates,
then the memory reads prompt and completion; the answer (or the stream's last chunk before
``[DONE]``) carries the ``atlas`` block.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np
from starlette.responses import JSONResponse, Response, StreamingResponse

from atlas_reference.errors import ApiError, error_body
from atlas_reference.limits import estimate_atlas_bytes
from atlas_reference.params import (
    AtlasOptions,
    check_choices,
    check_messages,
    check_tools,
    parse_atlas_extension,
)
from atlas_reference.state import ServerState

log = logging.getLogger("atlas.completions")
# Copied onto the closing atlas chunk; "usage" too, so that with stream_options.include_usage
# the last chunk before [DONE] still carries it.
_CHUNK_HEADER = ("id", "created", "model", "system_fingerprint", "usage")


@dataclass
class AtlasWork:
    """What one ATLAS request needs between its generation and its memory update."""

    options: AtlasOptions
    prompt_ids: list[int]
    reserved_bytes: int


async def handle_completion(state: ServerState, body: dict, chat: bool, on_done) -> Response:
    """Serve ``/v1/completions`` (chat=False) or ``/v1/chat/completions`` (chat=True)."""
    if chat:
        check_messages(body.get("messages"))
        check_tools(body.get("tools"))
    else:
        check_choices(body)
    atlas_raw = body.pop("atlas", None)
    options = None
    if state.settings.atlas:
        options = parse_atlas_extension(
            atlas_raw, ctx_size=state.settings.ctx_size, default_window=state.window_size,
            default_blend=state.blend_ratio)
    path = "/v1/chat/completions" if chat else "/v1/completions"
    if options is None:
        return await _passthrough(state, path, body, on_done)
    work = await _prepare(state, body, chat, options)
    try:
        if body.get("stream"):
            return await _stream_with_atlas(state, path, body, work, on_done)
        return await _complete_with_atlas(state, path, body, work, chat)
    except BaseException:
        await state.admission.release(work.reserved_bytes)
        raise


async def _prepare(state: ServerState, body: dict, chat: bool, options: AtlasOptions) -> AtlasWork:
    if options.memory != "default":
        await state.run_blocking(state.store.open_named, options.memory)
    else:
        state.store.get(options.memory)
    prompt_ids = await _prompt_ids(state, body, chat)
    max_tokens = body.get("max_tokens") or body.get("max_completion_tokens") or body.get(
        "n_predict")
    if not isinstance(max_tokens, int) or max_tokens <= 0:
        max_tokens = state.settings.ctx_size // state.settings.parallel
    nbytes = estimate_atlas_bytes(len(prompt_ids), max_tokens)
    await state.admission.acquire(nbytes)
    state.metrics.atlas_requests += 1
    return AtlasWork(options, prompt_ids, nbytes)


async def _prompt_ids(state: ServerState, body: dict, chat: bool) -> list[int]:
    if chat:
        if not isinstance(body.get("messages"), list):
            raise ApiError(400, "messages must be a list of chat messages", param="messages")
        return await state.engine.tokenize(await state.engine.chat_prompt(body))
    prompt = body.get("prompt", "")
    if isinstance(prompt, str):
        return await state.engine.tokenize(prompt)
    if isinstance(prompt, list) and all(isinstance(t, int) for t in prompt):
        return list(prompt)
    if isinstance(prompt, list) and all(isinstance(t, str) for t in prompt):
        return await state.engine.tokenize("\n".join(prompt))
    raise ApiError(400, "prompt must be a string, a list of strings or a list of token ids",
                   param="prompt")


def _memorize(state: ServerState, work: AtlasWork, completion_ids: list[int]) -> dict:
    """Runs in the memory thread: the memory reads this request's prompt and completion."""
    ids = np.asarray(work.prompt_ids + completion_ids, dtype=np.int64)
    memory = state.store.get(work.options.memory)
    keys, values = state.features.pairs(ids)
    report = memory.memorize(keys, values, window_size=work.options.window_size)
    state.store.write_back(work.options.memory)
    state.metrics.update_ms.append(report.elapsed_ms)
    return {
        "enabled": True, "memory": work.options.memory,
        "window_size": work.options.window_size, "blend_ratio": work.options.blend_ratio,
        "tokens_memorized": report.tokens,
        "omega_loss": None if report.omega_loss is None else round(float(report.omega_loss), 6),
        "memory_update_ms": round(report.elapsed_ms, 3),
        "memory_update_cpu_ms": round(report.cpu_ms, 3),  # optional extension: docs/api.md
    }


async def _atlas_block(state: ServerState, work: AtlasWork, completion_text: str) -> dict:
    completion_ids = await state.engine.tokenize(completion_text) if completion_text else []
    try:
        return await state.run_blocking(_memorize, state, work, completion_ids)
    finally:
        await state.admission.release(work.reserved_bytes)


def _record_usage(state: ServerState, payload: dict) -> None:
    usage = payload.get("usage") or {}
    timings = payload.get("timings") or {}
    generated = usage.get("completion_tokens") or timings.get("predicted_n") or 0
    state.metrics.record_tokens(int(generated))
    if (timings.get("predicted_n") or 0) >= 2:
        state.metrics.record_generation_rate(float(timings.get("predicted_per_second") or 0))


def _engine_error(response_status: int, raw: bytes) -> JSONResponse:
    """The engine's own error, in the contract's envelope (llama.cpp omits ``param``)."""
    try:
        payload = json.loads(raw)
        error = payload["error"]
        body = error_body(response_status, str(error.get("message", "")), error.get("param"),
                          error.get("type"))
    except (ValueError, KeyError, TypeError, AttributeError):
        body = error_body(response_status, raw.decode("utf-8", "replace")[:500])
    return JSONResponse(body, status_code=response_status)


def _completion_text(payload: dict, chat: bool) -> str:
    choices = payload.get("choices") or [{}]
    if chat:
        return str((choices[0].get("message") or {}).get("content") or "")
    return str(choices[0].get("text") or "")


async def _complete_with_atlas(state: ServerState, path: str, body: dict, work: AtlasWork,
                               chat: bool) -> Response:
    response = await state.engine.complete(path, body)
    if response.status_code != 200:
        await state.admission.release(work.reserved_bytes)
        return _engine_error(response.status_code, response.content)
    payload = response.json()
    _record_usage(state, payload)
    payload["atlas"] = await _atlas_block(state, work, _completion_text(payload, chat))
    return JSONResponse(payload)


async def _passthrough(state: ServerState, path: str, body: dict, on_done) -> Response:
    if not body.get("stream"):
        response = await state.engine.complete(path, body)
        if response.status_code != 200:
            return _engine_error(response.status_code, response.content)
        payload = response.json()
        _record_usage(state, payload)
        return JSONResponse(payload)
    return await _StreamProxy(state, path, body, on_done, None, None).open()


async def _stream_with_atlas(state: ServerState, path: str, body: dict, work: AtlasWork,
                             on_done) -> Response:
    pieces: list[str] = []
    chat = path.endswith("chat/completions")
    header: dict = {}  # the stream's id, created, model: OpenAI's types require them per chunk

    async def transform(event: dict | None) -> list[dict]:
        """Collect the text as it streams; at the end, append the chunk with the atlas block."""
        if event is not None:
            header.update({k: event[k] for k in _CHUNK_HEADER if event.get(k) is not None})
            for choice in event.get("choices") or []:
                delta = choice.get("delta") or {} if chat else choice
                pieces.append(str(delta.get("content" if chat else "text") or ""))
            return [event]
        block = await _atlas_block(state, work, "".join(pieces))
        work.reserved_bytes = 0  # released by _atlas_block
        return [{**header, "object": "chat.completion.chunk" if chat else "text_completion",
                 "choices": [], "atlas": block}]

    async def release_unfinished() -> None:
        if work.reserved_bytes:
            await state.admission.release(work.reserved_bytes)
            work.reserved_bytes = 0

    return await _StreamProxy(state, path, body, on_done, transform, release_unfinished).open()


async def handle_embeddings(state: ServerState, body: dict) -> Response:
    """``/v1/embeddings``: llama.cpp's own handler, on a server started with ``--embeddings``
    (its answer untouched); otherwise a 404 that names the flag, as /v1/atlas/* routes answer on
    a server without ``--atlas`` (llama-server answers 501: a 5xx for a request that cannot
    succeed here would read as a server fault)."""
    if not state.settings.embeddings:
        raise ApiError(404, "this server does not serve embeddings: start it with --embeddings")
    await _check_embedding_inputs(state, body.get("input"))
    response = await state.engine.complete("/v1/embeddings", body)
    if response.status_code != 200:
        return _engine_error(response.status_code, response.content)
    return JSONResponse(response.json())


async def _check_embedding_inputs(state: ServerState, inputs: object) -> None:
    """A 400 on ``input`` for a text longer than one embedding batch (llama.cpp answers 500)."""
    limit = state.engine.embedding_tokens
    if limit is None:
        return
    texts = inputs if isinstance(inputs, list) else [inputs]
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            continue
        tokens = len(await state.engine.tokenize(text))
        if tokens > limit:
            raise ApiError(400, f"input {i} has {tokens} tokens, more than the {limit} one "
                                "embedding takes", param="input")


class _StreamProxy:
    """Relays the engine's server-sent events; closing the client closes the engine's stream,
    which frees the llama.cpp slot."""

    def __init__(self, state: ServerState, path: str, body: dict, on_done, transform,
                 cleanup) -> None:
        self.state, self.path, self.body = state, path, body
        self.on_done, self.transform, self.cleanup = on_done, transform, cleanup
        self.started = time.perf_counter()

    async def open(self) -> Response:
        """Start the engine's stream; its error, if any, becomes this response's status."""
        client = self.state.engine.client
        upstream = await client.send(client.build_request("POST", self.path, json=self.body),
                                     stream=True)
        if upstream.status_code != 200:
            raw = await upstream.aread()
            await upstream.aclose()
            if self.cleanup is not None:
                await self.cleanup()
            return _engine_error(upstream.status_code, raw)
        self.on_done.streaming = True
        return StreamingResponse(self._events(upstream), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    async def _events(self, upstream) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._relay(upstream):
                yield chunk
        finally:
            await upstream.aclose()  # a client gone mid-stream ends the engine's generation too
            if self.cleanup is not None:
                await self.cleanup()
            self.on_done()

    async def _relay(self, upstream) -> AsyncIterator[bytes]:
        async for line in upstream.aiter_lines():
            if not line.startswith("data: "):
                continue
            data = line[len("data: "):]
            if data.strip() == "[DONE]":
                if self.transform is not None:
                    for event in await self.transform(None):
                        yield _sse(event)
                yield b"data: [DONE]\n\n"
                return
            if data.strip() == "null":  # llama.cpp opens a multi-prompt stream so: not a chunk
                continue
            if self.transform is None:
                self._maybe_record(data)
                yield (line + "\n\n").encode()
                continue
            try:
                event = json.loads(data)
            except ValueError:
                yield (line + "\n\n").encode()
                continue
            if not isinstance(event, dict):  # not a chunk: nothing to relay or to memorize
                continue
            _record_usage_if_final(self.state, event)
            for out in await self.transform(event):
                yield _sse(out)

    def _maybe_record(self, data: str) -> None:
        if '"usage"' in data or '"timings"' in data:
            with contextlib.suppress(ValueError):
                _record_usage_if_final(self.state, json.loads(data))


def _record_usage_if_final(state: ServerState, event: dict) -> None:
    if event.get("usage") or event.get("timings"):
        _record_usage(state, event)


def _sse(event: dict) -> bytes:
    return b"data: " + json.dumps(event, separators=(",", ":")).encode() + b"\n\n"
