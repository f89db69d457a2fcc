"""Client compatibility: the same request through six OpenAI clients, and every route by curl.

The client is a step parameter (``{client:Client}``: python, python-async, node, go, langchain,
langchain-llm); :func:`atlas_suite.clients.call` dispatches it and answers one outcome shape,
so every ``Then`` works for every client. A client that cannot run here skips with the reason.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import parse
from behave import then, when
from hamcrest import assert_that, contains_string, equal_to, greater_than, is_not

from atlas_suite import clients, curl, routes
from atlas_suite.atlas import expect_ok
from atlas_suite.clients import ClientCall, ClientOutcome
from atlas_suite.http import ApiClient, Exchange, describe_text
from atlas_suite.schemas import registry
from atlas_suite.steplib import types
from atlas_suite.steplib.http_steps import step_prometheus
from atlas_suite.steplib.support import current_server, http, skips_when_unsupported

DOMAIN = "clients"

MAX_TOKENS = 16  # enough pieces for a stream's order to matter, short enough for 2 CPU cores
PROMPT = "Say hello to the test suite."
CLIENT_PATTERN = "|".join(sorted(clients.CLIENTS, key=len, reverse=True))  # longest first


@parse.with_pattern(CLIENT_PATTERN)
def parse_client(text: str) -> str:
    """A client: python (openai.OpenAI), python-async (openai.AsyncOpenAI), node (npm openai),
    go (openai-go), langchain (langchain-openai ChatOpenAI), langchain-llm (langchain-openai
    OpenAI)."""
    return clients.parse_name(text)


@parse.with_pattern(r"[A-Za-z_][A-Za-z0-9_.]*")
def parse_error_class(text: str) -> str:
    """A client's own error class, as the client names it: BadRequestError, openai.Error, ..."""
    return text


@parse.with_pattern(r"no body|\{.*\}|\[.*\]")
def parse_request_body(text: str) -> Any:
    """A request body: "no body", or a JSON object or list sent as it is."""
    return None if text == "no body" else json.loads(text)


@parse.with_pattern(r'the "[A-Za-z0-9_]+" schema(?:, with an atlas block)?|Prometheus text|\{.*\}')
def parse_shape(text: str) -> tuple[str, Any]:
    """What an answer must be: the "NAME" schema (optionally ", with an atlas block"),
    Prometheus text (metrics named atlas_*), or a JSON object it equals."""
    if text == "Prometheus text":
        return ("prometheus", "atlas_")
    match = re.fullmatch(r'the "([A-Za-z0-9_]+)" schema(, with an atlas block)?', text)
    if match:
        return ("schema+atlas" if match.group(2) else "schema", match.group(1))
    return ("json", json.loads(text))


types._register(Client=parse_client, ErrorClass=parse_error_class,
                RequestBody=parse_request_body, Shape=parse_shape)


# -- helpers ----------------------------------------------------------------------------------
def _key(context: Any) -> str | None:
    header = http(context).headers.get("Authorization", "")
    return header.removeprefix("Bearer ") or None


def _model(context: Any) -> str:
    """The model id, looked up once per server with the server's own key (so a wrong-key call
    fails on the completion itself, not on a model listing)."""
    server = current_server(context)
    if "model_id" not in server.cache:
        lookup = ApiClient(server.base_url)
        key = server.config.api_keys[0] if server.config.api_keys else _key(context)
        lookup.use_api_key(key)
        try:
            models = expect_ok(lookup.get(routes.MODELS), "list its models")
        finally:
            lookup.close()
        server.cache["model_id"] = models["data"][0]["id"]
    return str(server.cache["model_id"])


def _send(context: Any, client: str, kind: str, **options: Any) -> ClientOutcome:
    """Send one request through ``client``; keep the request and the outcome for the Thens."""
    options.setdefault("api_key", _key(context))
    request = ClientCall(current_server(context).base_url, _model(context), kind=kind,
                         prompt=options.pop("prompt", PROMPT), max_tokens=MAX_TOKENS, **options)
    context.client_call = (client, request)
    context.client_outcome = clients.call(client, request)
    return context.client_outcome


def _outcome(context: Any) -> ClientOutcome:
    outcome = getattr(context, "client_outcome", None)
    assert outcome is not None, "no client call yet: a When step must send one first"
    return outcome


def _answer(context: Any) -> ClientOutcome:
    outcome = _outcome(context)
    assert_that(outcome.ok, equal_to(True), f"the call failed: {outcome.describe()}")
    return outcome


def _error(context: Any) -> ClientOutcome:
    outcome = _outcome(context)
    assert_that(outcome.ok, equal_to(False), f"expected an error, but {outcome.describe()}")
    return outcome


# -- sending through a client -------------------------------------------------------------------
@when("the {client:Client} client asks for a {kind:Kind} completion")
@skips_when_unsupported
def step_client_call(context: Any, client: str, kind: str) -> None:
    """One chat or text completion through the client, not streamed (temperature 0)."""
    _send(context, client, kind)


@when("the {client:Client} client asks for a {kind:Kind} completion with the ATLAS extension "
      "{extension:JSON}")
@skips_when_unsupported
def step_client_atlas(context: Any, client: str, kind: str, extension: Any) -> None:
    """A completion carrying ``"atlas": EXTENSION`` the client's own way (Python and LangChain:
    extra_body; Node: an extra params key; Go: option.WithJSONSet)."""
    _send(context, client, kind, atlas=extension)


@when("the {client:Client} client streams a {kind:Kind} completion")
@skips_when_unsupported
def step_client_stream(context: Any, client: str, kind: str) -> None:
    """A streamed completion, every chunk read to the end and its text joined in order."""
    _send(context, client, kind, stream=True)


@when("the {client:Client} client streams a {kind:Kind} completion with the ATLAS extension "
      "{extension:JSON}")
@skips_when_unsupported
def step_client_stream_atlas(context: Any, client: str, kind: str, extension: Any) -> None:
    """A streamed completion carrying ``"atlas": EXTENSION`` the client's own way."""
    _send(context, client, kind, stream=True, atlas=extension)


@when("the {client:Client} client asks for a {kind:Kind} completion of a prompt longer than the "
      "server's context")
@skips_when_unsupported
def step_client_too_long(context: Any, client: str, kind: str) -> None:
    """A prompt of twice the configured context size in tokens (at least 8192): a 400."""
    words = 2 * max(current_server(context).config.ctx_size or 0, 4096)
    _send(context, client, kind, prompt="hello" + " hello" * (words - 1))


@when('the {client:Client} client with the key "{key}" asks for a {kind:Kind} completion')
@skips_when_unsupported
def step_client_key(context: Any, client: str, key: str, kind: str) -> None:
    """A client constructed with ``KEY`` as its API key, sent the client's own way (a Bearer
    token for all six)."""
    _send(context, client, kind, api_key=key)


@when("the async OpenAI client sends {n:Int} chat completions at once")
def step_client_async(context: Any, n: int) -> None:
    """``AsyncOpenAI``: ``n`` chat completions gathered concurrently."""
    context.async_outcomes = clients.chat_async(current_server(context).base_url, _key(context),
                                                PROMPT, max_tokens=MAX_TOKENS, concurrent=n,
                                                model=_model(context))


# -- answers ----------------------------------------------------------------------------------
@then("the client receives an answer with text")
def step_client_text(context: Any) -> None:
    """The call succeeded and produced non-empty text."""
    outcome = _answer(context)
    assert_that(len(outcome.text.strip()), greater_than(0),
                f"the generated text ({outcome.describe()})")


@then("the answer arrived in more than one chunk")
def step_client_chunks(context: Any) -> None:
    """The streamed call yielded at least two chunks (a stream, not one piece)."""
    outcome = _answer(context)
    assert_that(outcome.chunks, greater_than(1), f"stream chunks ({outcome.describe()})")


@then("the chunks, joined in the order they arrived, are the answer the client gets without "
      "streaming")
@skips_when_unsupported
def step_client_stream_order(context: Any) -> None:
    """The same greedy (temperature 0) request, sent again by the same client without
    streaming, answers exactly the text the stream's chunks formed: a lost, repeated or
    reordered chunk fails."""
    streamed = _answer(context)
    client, request = context.client_call
    assert_that(request.stream, equal_to(True), "the previous call must be a streamed one")
    whole = clients.call(client, dataclasses.replace(request, stream=False))
    assert_that(whole.ok, equal_to(True), f"the call without streaming: {whole.describe()}")
    assert_that(streamed.text, equal_to(whole.text),
                f"the {client} client's streamed text (left) should be its unstreamed answer")


@then("all {n:Int} answers have text")
def step_async_text(context: Any, n: int) -> None:
    """Every concurrent call produced non-empty text."""
    outcomes = context.async_outcomes
    assert_that(len(outcomes), equal_to(n))
    assert_that([len(o.text) > 0 for o in outcomes], equal_to([True] * n), "texts")


# -- the atlas block --------------------------------------------------------------------------
@then('the client exposes the atlas block, matching the "{schema}" schema')
def step_client_block(context: Any, schema: str) -> None:
    """The response (or, streamed, its last chunk) as the client exposes it carries ``atlas``."""
    outcome = _answer(context)
    assert outcome.atlas is not None, f"the client exposes no atlas block: {outcome.describe()}"
    assert_that(registry().errors(schema, outcome.atlas), equal_to([]),
                f"atlas block {outcome.atlas}")


@then("the client's atlas block reports a window size of {n:Int}")
def step_client_window(context: Any, n: int) -> None:
    """The atlas block the client exposes has ``window_size`` ``n``."""
    block = _answer(context).atlas or {}
    assert_that(block.get("window_size"), equal_to(n), f"atlas.window_size in {block}")


@then("the client exposes no atlas block")
def step_client_no_block(context: Any) -> None:
    """A plain request's answer, as the client exposes it, has no ``atlas`` field."""
    outcome = _answer(context)
    assert_that(outcome.atlas, equal_to(None), f"a plain answer: {outcome.describe()}")


# -- errors -----------------------------------------------------------------------------------
@then("the client's error is its own {error_type:ErrorClass} with status {status:Status}")
def step_client_error(context: Any, error_type: str, status: int) -> None:
    """The call raised the client's own error class (Python: BadRequestError, LangChain chat:
    OpenAIInvalidRequestError, Go: openai.Error, ...) for this HTTP status."""
    outcome = _error(context)
    assert_that((outcome.error_type, outcome.status), equal_to((error_type, status)),
                f"the client's error: {outcome.describe()}")


def _carries_server_message(outcome: ClientOutcome) -> None:
    server_message = str((outcome.error_body or {}).get("message") or "")
    assert_that(server_message, is_not(equal_to("")),
                f"the client kept no server error object with a message: {outcome.describe()}")
    assert_that(outcome.message, contains_string(server_message),
                "the client's error text should carry the server's own message")


@then('the client\'s error carries the server\'s message containing "{text}"')
def step_client_error_text(context: Any, text: str) -> None:
    """The error's text, as the client shows it, is the server's message, which contains
    ``text`` (letter case ignored)."""
    outcome = _error(context)
    _carries_server_message(outcome)
    assert_that(outcome.message.lower(), contains_string(text.lower()), outcome.describe())


@then('the client\'s error carries the server\'s message naming "{param}"')
def step_client_error_param(context: Any, param: str) -> None:
    """The error's ``param``, as the client exposes it, is ``param``, and its text is the
    server's message."""
    outcome = _error(context)
    assert_that(outcome.param, equal_to(param), f"the error's param ({outcome.describe()})")
    _carries_server_message(outcome)


# -- curl -------------------------------------------------------------------------------------
@when('curl sends {method:Method} "{path}" with {body:RequestBody}')
@skips_when_unsupported
def step_curl(context: Any, method: str, path: str, body: Any) -> None:
    """Run the curl binary (the scenario's API key, if any, in a header file): ``no body``, or
    a JSON body. The answer becomes "the response" for the generic steps too."""
    answer = curl.send(current_server(context).base_url, method, path, body,
                       headers=http(context).headers)
    http(context).exchanges.append(Exchange(method, path, answer.status, answer.headers,
                                            answer.text))


@then("curl's answer has status {status:Status} and matches {shape:Shape}")
def step_curl_answer(context: Any, status: int, shape: tuple[str, Any]) -> None:
    """The status, then the body: a schema (optionally with an atlas block), Prometheus text,
    or an exact JSON object."""
    reply = http(context).last
    assert_that(reply.status, equal_to(status),
                f"curl {reply.method} {reply.path}: {describe_text(reply.status, reply.text)}")
    kind, expected = shape
    if kind == "prometheus":
        step_prometheus(context, expected)
        return
    document = reply.json()
    if kind == "json":
        assert_that(document, equal_to(expected), f"curl {reply.method} {reply.path}")
        return
    assert_that(registry().errors(expected, document), equal_to([]),
                f'curl {reply.method} {reply.path} lacks the "{expected}" shape: '
                f"{describe_text(reply.status, reply.text)}")
    if kind == "schema+atlas":
        block = document.get("atlas") if isinstance(document, dict) else None
        assert block is not None, f"no atlas block in {describe_text(reply.status, reply.text)}"
        assert_that(registry().errors("atlas_block", block), equal_to([]), f"atlas {block}")
