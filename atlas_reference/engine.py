"""The inference engine: llama.cpp's own server, embedded through xllamacpp.

Its HTTP listener is bound to 127.0.0.1 on a free port and never exposed; the public front
(``app.py``) talks to it with an async httpx client. Inference, batching and slots are
llama.cpp's; this module only starts it, measures it and tokenizes for the memory: with
llama.cpp's own tokenizer in-process (``tokenizer.py``: the ids ``/tokenize`` gives, without its
round trip), or through ``/tokenize`` where that cannot load.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from atlas_reference.errors import ApiError, error_body
from atlas_reference.tokenizer import Vocabulary, load_vocabulary

log = logging.getLogger("atlas.engine")
# Longer texts are tokenized off the event loop (llama_tokenize runs without the GIL), so that
# one huge prompt does not hold up every other request; short ones take microseconds inline.
_INLINE_TOKENIZE_CHARS = 16_384


@dataclass(frozen=True)
class EngineInfo:
    model_name: str
    model_path: Path
    context_length: int
    embedding_length: int


class Engine:
    """One embedded llama.cpp server and an async client to its private listener."""

    def __init__(self, model: Path, *, ctx_size: int, parallel: int, threads: int | None,
                 gpu_layers: int, cache_ram_mib: int = 0, pooling: str | None = None) -> None:
        import xllamacpp as xlc  # heavy native import, only when a server really starts

        params = xlc.CommonParams()
        params.model.path = str(model)
        params.model_alias = {model.stem}
        params.n_ctx = ctx_size  # as llama-server: the total, split across the slots
        # llama-server keeps old prompts' state in host memory (8 GiB by default), so RSS grows
        # with every distinct prompt; a long-running server needs that bounded.
        params.cache_ram_mib = cache_ram_mib
        params.n_parallel = parallel
        params.n_gpu_layers = gpu_layers
        params.hostnames = ["127.0.0.1"]
        params.port = 0
        if threads:
            params.cpuparams.n_threads = threads
            params.cpuparams_batch.n_threads = threads
        # the most tokens one input may have to be embedded (None: no embeddings)
        self.embedding_tokens: int | None = None
        if pooling is not None:  # embeddings beside completions, as llama-server --embeddings
            params.embedding = True
            params.pooling_type = getattr(xlc.llama_pooling_type,
                                          f"LLAMA_POOLING_TYPE_{pooling.upper()}")
            # llama.cpp embeds a whole input in one batch
            params.n_batch = params.n_ubatch = min(params.n_batch, params.n_ubatch)
            self.embedding_tokens = params.n_ubatch
        self._server = xlc.Server(params)
        self.base_url: str = self._server.listening_address.rstrip("/")
        self.model_name = model.stem
        self.client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(None, connect=5.0),
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
        )
        # llama.cpp's own handlers, called in-process for answers that are not streamed: the
        # same JSON as its private listener gives, without a second HTTP hop; they release the
        # GIL while they generate, so each waits on a thread of this pool.
        self._handlers = {"/v1/completions": self._server.handle_completions,
                          "/v1/chat/completions": self._server.handle_chat_completions,
                          "/v1/embeddings": self._server.handle_embeddings}
        self._pool = ThreadPoolExecutor(max_workers=256, thread_name_prefix="llama")
        self.vocabulary: Vocabulary | None = load_vocabulary(model)
        log.info("engine listening privately on %s; tokenizing %s", self.base_url,
                 "in-process" if self.vocabulary else "over HTTP")

    def warm_up(self, tokens: int) -> float:
        """Generate a short text and return the measured generation rate in tokens/s."""
        started = time.perf_counter()
        response = httpx.post(
            f"{self.base_url}/v1/completions",
            json={"prompt": "The quick brown fox", "max_tokens": tokens, "temperature": 0,
                  "ignore_eos": True},
            timeout=120,
        )
        response.raise_for_status()
        body = response.json()
        rate = float(body.get("timings", {}).get("predicted_per_second") or 0.0)
        if rate <= 0:  # an engine without timings: fall back to wall-clock
            completion_tokens = body.get("usage", {}).get("completion_tokens", 0)
            rate = completion_tokens / max(time.perf_counter() - started, 1e-6)
        return rate

    async def tokenize(self, text: str) -> list[int]:
        """The ids of ``text`` as llama.cpp's ``/tokenize`` gives them (no special tokens added,
        special tokens in the text parsed); a text it refuses is a 400 on ``prompt``."""
        if self.vocabulary is not None:
            try:
                if len(text) < _INLINE_TOKENIZE_CHARS:
                    return self.vocabulary.tokenize(text)
                return await asyncio.to_thread(self.vocabulary.tokenize, text)
            except ValueError as error:  # UnicodeEncodeError too: a lone surrogate
                raise ApiError(400, f"the prompt cannot be tokenized: {error}",
                               param="prompt") from error
        response = await self.client.post("/tokenize", json={"content": text})
        _refuse_input(response, "prompt", "the prompt cannot be tokenized")
        return list(response.json()["tokens"])

    async def complete(self, path: str, body: dict) -> httpx.Response:
        """A completion that is not streamed, answered as the private listener would answer
        ``POST path`` (its status from the error's code), without going through HTTP."""
        handler = self._handlers.get(path)
        if handler is None or self._server is None:
            return await self.client.post(path, json=body)
        try:
            payload = await asyncio.get_running_loop().run_in_executor(
                self._pool, handler, as_parsed_json(body))
        except ValueError as error:  # llama.cpp's invalid_argument: its listener answers 400
            return httpx.Response(400, json=error_body(400, str(error)))
        error = payload.get("error") if isinstance(payload, dict) else None
        status = int(error.get("code") or 500) if isinstance(error, dict) else 200
        return httpx.Response(status, json=payload)

    async def chat_prompt(self, body: dict) -> str:
        """The prompt text llama.cpp renders from chat messages with the model's template."""
        response = await self.client.post(
            "/apply-template", json={"messages": body.get("messages", [])}
        )
        _refuse_input(response, "messages", "the chat messages cannot be rendered")
        return str(response.json().get("prompt", ""))

    async def aclose(self) -> None:
        await self.client.aclose()

    def stop(self) -> None:
        # Dropping the server object stops llama.cpp's main loop and frees the model.
        self._server = None
        self._handlers = {}
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self.vocabulary is not None:
            self.vocabulary.close()
            self.vocabulary = None


INT64 = (-(2**63), 2**64)  # what llama.cpp's JSON parser keeps as an integer (int64 or uint64)


def as_parsed_json(value: object) -> object:
    """``value`` as llama.cpp's JSON parser would have read it from the request's text: an
    integer beyond 64 bits becomes a float there (and is then refused as a token id with a
    400), where handing it over in-process as an integer fails inside the engine with a 500."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if INT64[0] <= value < INT64[1] else float(value)
    if isinstance(value, dict):
        return {key: as_parsed_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_parsed_json(item) for item in value]
    return value


def _refuse_input(response: httpx.Response, param: str, what: str) -> None:
    """The engine failed on what the client sent: a 400 naming the field, never a 500."""
    if response.status_code == 200:
        return
    try:
        detail = str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        detail = response.text[:300]
    raise ApiError(400, f"{what}: {detail}", param=param)
