"""OpenAI completions, with and without the ATLAS extension, streamed or not."""

from __future__ import annotations

from typing import Any

from behave import then, when
from hamcrest import assert_that, equal_to, greater_than, is_not, less_than_or_equal_to

from atlas_suite import routes
from atlas_suite.atlas import atlas_extension, expect_ok
from atlas_suite.http import Exchange, StreamResult
from atlas_suite.schemas import registry
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.catalogue import sets_response
from atlas_suite.steplib.support import (
    api,
    current_server,
    http,
    last,
    last_json,
    skips_when_unsupported,
)
from atlas_suite.targets import listed_model

DOMAIN = "completions"

PROMPTS = {
    "text": "The three primary colours are",
    "chat": "Name three primary colours.",
}


def _stream(context: Any) -> StreamResult:
    stream = getattr(context, "stream", None)
    assert stream is not None, "no stream was read in this scenario"
    return stream


def _streamed_last(context: Any) -> bool:
    """Whether the scenario's last request was a stream (its block is in the last chunk)."""
    return getattr(context, "stream_exchange", None) is http(context).last


def _keep_stream(context: Any, stream: StreamResult) -> None:
    context.stream = stream
    context.stream_exchange = http(context).last


def _block_from_last(context: Any) -> dict[str, Any]:
    """The atlas block of the last completion: its body's, or a stream's last chunk's."""
    if _streamed_last(context):
        body = _stream(context).last_chunk() or {}
        where = "the last chunk before [DONE]"
    else:
        body = expect_ok(last(context), "answer the completion")
        where = "the completion"
    assert_that("atlas" in body, equal_to(True),
                f"expected an atlas block in {where}, got {str(body)[:600]}")
    return dict(body["atlas"])


def _schema_for(exchange: Exchange, chunk: bool = False) -> str:
    """The documented shape of an answer on the route the request went to."""
    name = "chat_completion" if exchange.path == routes.completion_path(True) else "completion"
    return f"{name}_chunk" if chunk else name


def _openai_answer(context: Any) -> dict[str, Any]:
    """The last completion: 200 and in the OpenAI shape of its route."""
    reply = last(context)
    body = expect_ok(reply, "answer the completion")
    schema = _schema_for(reply)
    assert_that(registry().errors(schema, body), equal_to([]),
                f"the answer is not an OpenAI {schema.replace('_', ' ')}: {reply.text[:600]}")
    if schema == "chat_completion":
        role = body["choices"][0]["message"].get("role")
        assert_that(role, equal_to("assistant"), "the chat answer's role")
    return dict(body)


@when("I send a {kind:Kind} completion without the ATLAS extension")
@sets_response
def step_plain(context: Any, kind: str) -> None:
    """A completion whose request has no ``atlas`` object at all."""
    api(context).complete(PROMPTS[kind], chat=kind == "chat")


@when("I send a plain completion")
@sets_response
def step_plain_text(context: Any) -> None:
    """A text completion of a few tokens without the ATLAS extension."""
    api(context).complete(PROMPTS["text"])


@when("I send a plain completion of {n:Int} tokens")
@sets_response
def step_plain_n(context: Any, n: int) -> None:
    """A text completion of ``n`` tokens without the ATLAS extension."""
    api(context).complete(PROMPTS["text"], max_tokens=n)


@when("I send a {kind:Kind} completion with the ATLAS extension disabled")
@sets_response
def step_disabled(context: Any, kind: str) -> None:
    """A completion with ``"atlas": {"enabled": false}``."""
    api(context).complete(PROMPTS[kind], chat=kind == "chat", atlas=atlas_extension(False))


@when("I send a {kind:Kind} completion with the ATLAS extension enabled")
@sets_response
def step_enabled(context: Any, kind: str) -> None:
    """A completion with ``"atlas": {"enabled": true}`` and the server's defaults."""
    api(context).complete(PROMPTS[kind], chat=kind == "chat", atlas=atlas_extension())


@when("I send a {kind:Kind} completion with the ATLAS extension {extension:JSON}")
@sets_response
def step_extension(context: Any, kind: str, extension: Any) -> None:
    """A completion whose ``atlas`` object is exactly this JSON (valid or not)."""
    api(context).complete(PROMPTS[kind], chat=kind == "chat", atlas=extension)


@when("I stream a {kind:Kind} completion without the ATLAS extension")
def step_stream_plain(context: Any, kind: str) -> None:
    """A streamed completion (``"stream": true``) without ``atlas``, read to the end."""
    _keep_stream(context, api(context).complete_streaming(PROMPTS[kind], chat=kind == "chat"))


@when("I stream a {kind:Kind} completion with the ATLAS extension enabled")
def step_stream_atlas(context: Any, kind: str) -> None:
    """A streamed completion with ``"atlas": {"enabled": true}``, read to the end."""
    _keep_stream(context, api(context).complete_streaming(PROMPTS[kind], chat=kind == "chat",
                                                          atlas=atlas_extension()))


@when("I stream a {kind:Kind} completion with the ATLAS extension {extension:JSON}")
def step_stream_extension(context: Any, kind: str, extension: Any) -> None:
    """A streamed completion over plain HTTP whose ``atlas`` object is exactly this JSON (a
    named memory, a window size, ...), read to the end; the atlas block Thens read its last
    chunk."""
    _keep_stream(context, api(context).complete_streaming(PROMPTS[kind], chat=kind == "chat",
                                                          atlas=extension))


@when('I stream a {kind:Kind} completion with ATLAS on the memory "{memory}" and a window size '
      "of {window:Int}")
def step_stream_memory_window(context: Any, kind: str, memory: str, window: int) -> None:
    """A streamed ATLAS completion over plain HTTP that reads and updates the named memory with
    this window size, read to the end; the atlas block Thens read its last chunk."""
    extension = atlas_extension(memory_file=memory, window_size=window)
    _keep_stream(context, api(context).complete_streaming(PROMPTS[kind], chat=kind == "chat",
                                                          atlas=extension))


@then("the response has no atlas block")
def step_no_block(context: Any) -> None:
    """A plain answer: status 200 and no top-level ``atlas`` key."""
    reply = last(context)
    assert_that(reply.status, equal_to(200), reply.text[:600])
    assert_that("atlas" in reply.json(), equal_to(False),
                f"a request without ATLAS must get a plain OpenAI answer: {reply.text[:600]}")


@then("the response carries an atlas block that matches its schema")
def step_block_schema(context: Any) -> None:
    """The completion's ``atlas`` object has the shape of ``atlas_block``."""
    block = _block_from_last(context)
    assert_that(registry().errors("atlas_block", block), equal_to([]), f"atlas block {block}")


@then("the atlas block reports a window size of {n:Int}")
def step_block_window(context: Any, n: int) -> None:
    """The completion's ``atlas.window_size`` is ``n``."""
    assert_that(_block_from_last(context)["window_size"], equal_to(n), "atlas.window_size")


@then("the atlas block reports the server's default window size and blend ratio")
def step_block_defaults(context: Any) -> None:
    """Parameters the request left out come from GET /v1/atlas/config."""
    block = _block_from_last(context)
    config = api(context).config()
    assert_that((block["window_size"], block["blend_ratio"]),
                equal_to((config["window_size"], config["blend_ratio"])),
                "the atlas block should show the server's defaults (window_size, blend_ratio)")


@then("the atlas block counts the request's tokens")
def step_block_tokens(context: Any) -> None:
    """0 < ``atlas.tokens_memorized`` <= ``usage.total_tokens`` (prompt and completion)."""
    body = last_json(context)
    memorized, total = body["atlas"]["tokens_memorized"], body["usage"]["total_tokens"]
    assert_that(memorized, greater_than(0), "atlas.tokens_memorized")
    assert_that(memorized, less_than_or_equal_to(total),
                "tokens_memorized counts this request's tokens, so at most usage.total_tokens")


@then("the stream ends with [DONE]")
def step_stream_done(context: Any) -> None:
    """The event stream answered 200, sent chunks and closed with ``data: [DONE]``."""
    stream = _stream(context)
    assert_that(stream.status, equal_to(200), "the stream's HTTP status")
    assert_that(len(stream.chunks) > 0 and stream.done, equal_to(True),
                f"expected chunks then [DONE], got: {stream.ending()}")


@then('every chunk matches the "{schema}" schema')
def step_chunks_schema(context: Any, schema: str) -> None:
    """Each streamed JSON chunk is valid against the schema."""
    for number, chunk in enumerate(_stream(context).chunks, start=1):
        assert_that(registry().errors(schema, chunk), equal_to([]), f"chunk {number}: {chunk}")


@then("the last chunk before [DONE] carries an atlas block that matches its schema")
def step_last_chunk_block(context: Any) -> None:
    """The response extension arrives in the final chunk of the stream."""
    chunk = _stream(context).last_chunk() or {}
    assert_that("atlas" in chunk, equal_to(True),
                f"expected the atlas block in the last chunk before [DONE], got {chunk}")
    assert_that(registry().errors("atlas_block", chunk["atlas"]), equal_to([]), str(chunk))


@then("only the last chunk carries an atlas block")
def step_only_last(context: Any) -> None:
    """No earlier chunk repeats the atlas block."""
    carriers = [i for i, c in enumerate(_stream(context).chunks, start=1) if "atlas" in c]
    assert_that(carriers, equal_to([len(_stream(context).chunks)]), "chunks with an atlas block")


@then("no chunk carries an atlas block")
def step_no_chunk_block(context: Any) -> None:
    """A stream without ATLAS is plain OpenAI."""
    carriers = [i for i, c in enumerate(_stream(context).chunks, start=1) if "atlas" in c]
    assert_that(carriers, equal_to([]), "chunks with an atlas block in a plain stream")


@then("the models list names the model file the server loaded")
@skips_when_unsupported
def step_models_names_loaded(context: Any) -> None:
    """An id in the ``/v1/models`` answer is the loaded file's name (path, name or stem)."""
    model = context.pool.models.loaded(current_server(context).config.model)
    listing = expect_ok(last(context), "list its models")
    assert_that(listed_model(listing, model), is_not(None),
                f"expected /v1/models to name {model.name}, it listed {str(listing)[:400]}")


@then("the answer is a plain OpenAI completion")
def step_plain_answer(context: Any) -> None:
    """The last completion succeeded in the OpenAI shape of its route (a chat answer from the
    assistant) and carries no ``atlas`` block."""
    body = _openai_answer(context)
    assert_that("atlas" in body, equal_to(False),
                f"a request without ATLAS must get a plain OpenAI answer: {str(body)[:600]}")


@then("the answer is an OpenAI completion with an atlas block")
def step_atlas_answer(context: Any) -> None:
    """The last completion succeeded in the OpenAI shape of its route and carries an ``atlas``
    block in its documented shape."""
    _openai_answer(context)
    block = _block_from_last(context)
    assert_that(registry().errors("atlas_block", block), equal_to([]), f"atlas block {block}")


@then("the atlas block reports a blend ratio of {ratio:Number}")
def step_block_ratio(context: Any, ratio: float) -> None:
    """The last completion's ``atlas.blend_ratio`` (a stream's: its last chunk's) is ``ratio``."""
    assert_that(_block_from_last(context)["blend_ratio"], equal_to(ratio), "atlas.blend_ratio")


@then('the atlas block names the memory "{memory}"')
def step_block_memory(context: Any, memory: str) -> None:
    """The last completion's ``atlas.memory`` (a stream's: its last chunk's) is ``memory``."""
    assert_that(_block_from_last(context)["memory"], equal_to(memory), "atlas.memory")


@then("every chunk has the shape of a streamed {kind:Kind} completion")
def step_chunks_shape(context: Any, kind: str) -> None:
    """Each chunk of the stream is in the OpenAI shape of a streamed text or chat completion."""
    step_chunks_schema(context, "chat_completion_chunk" if kind == "chat" else "completion_chunk")


@then('the completion is refused as an invalid request naming "{param}"')
def step_refused_invalid(context: Any, param: str) -> None:
    """400 in the OpenAI error envelope, of type ``invalid_request_error``, whose ``param`` is
    exactly ``param`` (a dotted path such as ``atlas.window_size``)."""
    reply = last(context)
    assert_that(reply.status, equal_to(400),
                f"expected the completion to be refused with 400, got HTTP {reply.status}: "
                f"{reply.text[:600]}")
    error = reply.json()
    assert_that(registry().errors("error", error), equal_to([]),
                f"the refusal is not in the error envelope: {reply.text[:600]}")
    assert_that((error["error"].get("type"), error["error"].get("param")),
                equal_to(("invalid_request_error", param)), "the error's type and param")


@then("the server has no ATLAS routes")
def step_no_atlas_routes(context: Any) -> None:
    """Asking for the status, the configuration or the metrics answers 404 in the OpenAI error
    envelope (reads only)."""
    for path in (routes.ATLAS_STATUS, routes.ATLAS_CONFIG, routes.ATLAS_METRICS):
        reply = http(context).get(path)
        assert_that(reply.status, equal_to(404),
                    f"a server without ATLAS must not answer {path}: HTTP {reply.status} "
                    f"{reply.text[:300]}")
        assert_that(registry().errors("error", reply.json()), equal_to([]),
                    f"the 404 for {path} is not in the error envelope: {reply.text[:300]}")


@when("I ask for the list of models")
@sets_response
def step_ask_models(context: Any) -> None:
    """Ask the server which models it serves; the list is "the response"."""
    http(context).get(routes.MODELS)
