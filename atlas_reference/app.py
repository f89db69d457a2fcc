"""The public HTTP front: routes, authentication, limits, and the process's life cycle."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from atlas_reference.completions import handle_completion, handle_embeddings
from atlas_reference.errors import ApiError, error_body, error_response
from atlas_reference.openapi import PATH as OPENAPI_PATH
from atlas_reference.openapi import openapi_document
from atlas_reference.params import DEFAULT_MEMORY, validate_config_change
from atlas_reference.settings import ServerSettings
from atlas_reference.state import ServerState
from atlas_reference.store import FileOutcome

log = logging.getLogger("atlas.server")

Handler = Callable[[ServerState, Request, "RequestTracker"], Awaitable[Response]]


class RequestTracker:
    """Counts a request as active until its response, or its stream, has finished."""

    def __init__(self, state: ServerState, counted: bool, active: bool) -> None:
        self.state = state
        self.counted = counted
        self.active = active
        self.started = time.perf_counter()
        self.streaming = False
        self.status = 200
        self.error_type: str | None = None
        self._finished = False
        if active:
            state.metrics.requests_active += 1

    def __call__(self) -> None:
        if self._finished:
            return
        self._finished = True
        metrics = self.state.metrics
        if self.active:
            metrics.requests_active -= 1
        if self.counted:
            latency_ms = (time.perf_counter() - self.started) * 1000.0
            metrics.record_request(self.status, latency_ms, self.error_type)


# -- request guards ------------------------------------------------------------------------------

def _authenticate(state: ServerState, request: Request) -> str | None:
    """The caller's key, after checking it against the configured ones (401 otherwise)."""
    keys = state.settings.api_keys
    if not keys:
        return None
    header = request.headers.get("authorization", "")
    offered = header[7:].strip() if header.lower().startswith("bearer ") else None
    offered = offered or request.headers.get("x-api-key")
    if offered and any(hmac.compare_digest(offered.encode(), k.encode()) for k in keys):
        return offered
    reason = "no API key was given" if not offered else "the API key is not valid"
    raise ApiError(401, f"Unauthorized: {reason}; send Authorization: Bearer <key>",
                   headers={"WWW-Authenticate": "Bearer"})


def _rate_limit(state: ServerState, request: Request, key: str | None) -> dict[str, str]:
    if state.rate_limiter is None:
        return {}
    address = request.client.host if request.client else "unknown"
    identity = f"key:{hash(key)}" if key else f"addr:{address}"
    decision = state.rate_limiter.check(identity)
    if not decision.allowed:
        raise ApiError(429, f"rate limit of {decision.limit} requests per minute exceeded; "
                            f"retry in {decision.reset_seconds} s", headers=decision.headers())
    return decision.headers()


async def read_json(state: ServerState, request: Request) -> object:
    """The body as JSON: 413 past the size limit (checked while reading), 400 when malformed."""
    limit = state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body of {declared} bytes is over the {limit}-byte limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"request body is over the {limit}-byte limit")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}") from None


async def read_object(state: ServerState, request: Request) -> dict:
    body = await read_json(state, request)
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object", param="body")
    return body


def route(state: ServerState, handler: Handler, *, protected: bool = True,
          counted: bool = True, needs_ready: bool = True, inference: bool = False):
    """Wrap a handler with readiness, authentication, rate limits, errors and metrics.

    Only inference routes count as active work, so reading the status never counts itself.
    """

    async def endpoint(request: Request) -> Response:
        tracker = RequestTracker(state, counted, active=inference)
        headers: dict[str, str] = {}
        try:
            if needs_ready and not state.ready:
                raise ApiError(503, "the server is loading the model; retry shortly",
                               headers={"Retry-After": "1"})
            key = _authenticate(state, request) if protected else None
            headers = _rate_limit(state, request, key) if protected else {}
            response = await handler(state, request, tracker)
        except ApiError as exc:
            response = error_response(exc)
            tracker.error_type = error_body(exc.status, "")["error"]["type"]
        except Exception:  # noqa: BLE001 - a bug answers 500 and the server stays up
            log.exception("unexpected error on %s", request.url.path)
            response = JSONResponse(error_body(500, "internal server error"), status_code=500)
            tracker.error_type = "server_error"
        response.headers.update(headers)
        tracker.status = response.status_code
        if tracker.status >= 400 and tracker.error_type is None:
            tracker.error_type = error_body(tracker.status, "")["error"]["type"]
        if not tracker.streaming:
            tracker()
        return response

    return endpoint


# -- handlers ------------------------------------------------------------------------------------

async def health(state: ServerState, request: Request, tracker: RequestTracker) -> Response:
    if state.failure:
        raise ApiError(500, f"the server failed to start: {state.failure}")
    if not state.ready:
        raise ApiError(503, "Loading model", headers={"Retry-After": "1"})
    return JSONResponse({"status": "ok"})


async def completions(state: ServerState, request: Request, tracker: RequestTracker) -> Response:
    body = await read_object(state, request)
    return await handle_completion(state, body, chat=False, on_done=tracker)


async def chat_completions(state: ServerState, request: Request,
                           tracker: RequestTracker) -> Response:
    body = await read_object(state, request)
    return await handle_completion(state, body, chat=True, on_done=tracker)


async def embeddings(state: ServerState, request: Request, tracker: RequestTracker) -> Response:
    return await handle_embeddings(state, await read_object(state, request))


async def models(state: ServerState, request: Request, tracker: RequestTracker) -> Response:
    response = await state.engine.client.get("/v1/models")
    return Response(response.content, status_code=response.status_code,
                    media_type="application/json")


async def atlas_status(state: ServerState, request: Request, tracker: RequestTracker) -> Response:
    return JSONResponse(state.status_view())


async def atlas_config(state: ServerState, request: Request, tracker: RequestTracker) -> Response:
    if request.method == "POST":
        changes = validate_config_change(await read_json(state, request), state.settings.ctx_size)
        state.window_size = changes.pop("window_size", state.window_size)
        state.blend_ratio = float(changes.pop("blend_ratio", state.blend_ratio))
        if changes:
            state.store.configure_all(**changes)
    return JSONResponse(state.config_view())


async def atlas_metrics(state: ServerState, request: Request,
                        tracker: RequestTracker) -> Response:
    tokens, updates = state.store.totals()
    return JSONResponse(state.metrics.as_json(
        rejected=state.admission.rejected, memories=len(state.store.names()),
        tokens_memorized=tokens, updates=updates))


async def prometheus(state: ServerState, request: Request, tracker: RequestTracker) -> Response:
    tokens, updates = state.store.totals() if state.store else (0, 0)
    admission = state.admission
    text = state.metrics.prometheus(
        rejected=admission.rejected if admission else 0, tokens_memorized=tokens,
        updates=updates, reserved_bytes=admission.reserved_bytes if admission else 0)
    return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")


def _filename(body: dict) -> str:
    if "filename" not in body:
        raise ApiError(400, "filename is required", param="filename")
    return body["filename"]


def _memory_name(body: dict) -> str:
    name = body.get("memory", DEFAULT_MEMORY)
    if not isinstance(name, str):
        raise ApiError(400, "memory must be a string", param="memory")
    return name


def _file_answer(outcome: FileOutcome, *fields: str) -> JSONResponse:
    return JSONResponse({name: getattr(outcome, name) for name in fields})


async def memory_save(state: ServerState, request: Request, tracker: RequestTracker) -> Response:
    body = await read_object(state, request)
    outcome = await state.run_blocking(state.store.save, _filename(body), _memory_name(body))
    state.metrics.saves += 1
    return _file_answer(outcome, "filename", "memory", "bytes", "fingerprint", "elapsed_ms")


async def memory_load(state: ServerState, request: Request, tracker: RequestTracker) -> Response:
    body = await read_object(state, request)
    outcome = await state.run_blocking(state.store.load, _filename(body), _memory_name(body))
    state.metrics.loads += 1
    return _file_answer(outcome, "filename", "memory", "bytes", "fingerprint",
                        "tokens_memorized", "elapsed_ms")


async def memory_list(state: ServerState, request: Request, tracker: RequestTracker) -> Response:
    files = await state.run_blocking(state.store.list_files)
    return JSONResponse({"object": "list", "data": files})


async def memory_delete(state: ServerState, request: Request,
                        tracker: RequestTracker) -> Response:
    body = await read_object(state, request)
    filename = _filename(body)
    await state.run_blocking(state.store.delete, filename)
    return JSONResponse({"filename": filename, "deleted": True})


async def memory_reset(state: ServerState, request: Request, tracker: RequestTracker) -> Response:
    body = await read_object(state, request)
    name = _memory_name(body)
    memory = await state.run_blocking(state.store.reset, name)
    return JSONResponse({"memory": name, "fingerprint": memory.fingerprint, "reset": True})


# -- application ---------------------------------------------------------------------------------

def _error_handler(request: Request, exc: HTTPException) -> JSONResponse:
    messages = {404: f"no route for {request.method} {request.url.path}",
                405: f"method {request.method} is not allowed on {request.url.path}"}
    message = messages.get(exc.status_code, str(exc.detail))
    return JSONResponse(error_body(exc.status_code, message), status_code=exc.status_code)


def build_app(state: ServerState, on_failure: Callable[[], None] = lambda: None) -> Starlette:
    routes = [
        Route("/health", route(state, health, protected=False, counted=False,
                               needs_ready=False)),
        Route("/metrics", route(state, prometheus, protected=False, counted=False,
                                needs_ready=False)),
        Route(OPENAPI_PATH, route(state, openapi_document, protected=False, counted=False,
                                  needs_ready=False)),
        Route("/v1/models", route(state, models)),
        Route("/v1/completions", route(state, completions, inference=True), methods=["POST"]),
        Route("/v1/chat/completions", route(state, chat_completions, inference=True),
              methods=["POST"]),
        Route("/v1/embeddings", route(state, embeddings, inference=True), methods=["POST"]),
    ]
    if state.settings.atlas:
        routes += [
            Route("/v1/atlas/status", route(state, atlas_status)),
            Route("/v1/atlas/config", route(state, atlas_config), methods=["GET", "POST"]),
            Route("/v1/atlas/metrics", route(state, atlas_metrics)),
            Route("/v1/atlas/memory/save", route(state, memory_save), methods=["POST"]),
            Route("/v1/atlas/memory/load", route(state, memory_load), methods=["POST"]),
            Route("/v1/atlas/memory/list", route(state, memory_list)),
            Route("/v1/atlas/memory/delete", route(state, memory_delete), methods=["POST"]),
            Route("/v1/atlas/memory/reset", route(state, memory_reset), methods=["POST"]),
        ]

    @asynccontextmanager
    async def lifespan(app: Starlette):
        loading = asyncio.create_task(_load(state, on_failure))
        yield
        loading.cancel()
        if state.engine is not None:
            await state.engine.aclose()
        await asyncio.to_thread(state.shutdown)

    return Starlette(routes=routes, lifespan=lifespan,
                     exception_handlers={HTTPException: _error_handler})


async def _load(state: ServerState, on_failure: Callable[[], None]) -> None:
    try:
        await asyncio.to_thread(state.load)
        state.ready = True
    except Exception as exc:  # noqa: BLE001 - report, then stop the process with an error
        log.exception("start-up failed")
        state.failure = str(exc)
        on_failure()


class _GracefulServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM after its graceful shutdown, which ends the process with -15;
    the contract's graceful shutdown exits 0, so the signal is consumed once handled."""

    def handle_exit(self, sig: int, frame) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def serve(settings: ServerSettings) -> int:
    """Run until SIGTERM or SIGINT; exit 0 after a graceful shutdown, 1 if start-up failed."""
    state = ServerState(settings)
    server: uvicorn.Server | None = None

    def stop_on_failure() -> None:
        if server is not None:
            server.should_exit = True

    config = uvicorn.Config(
        build_app(state, stop_on_failure), host=settings.host, port=settings.port,
        log_level="warning", access_log=False,  # no access log: nothing can leak a key
        timeout_graceful_shutdown=int(settings.shutdown_timeout_s), lifespan="on",
    )
    server = _GracefulServer(config)
    log.info("listening on http://%s:%d (atlas=%s)", settings.host, settings.port, settings.atlas)
    server.run()
    return 1 if state.failure else 0
