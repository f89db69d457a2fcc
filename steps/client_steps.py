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
from behave import given, then, when
from hamcrest import assert_that, contains_string, equal_to, greater_than, is_not

from atlas_suite import clients, curl, routes
from atlas_suite.atlas import expect_ok
from atlas_suite.clients import ClientCall, ClientOutcome
from atlas_suite.http import ApiClient, Exchange, describe_text
from atlas_suite.schemas import registry
from atlas_suite.steplib import types
from atlas_suite.steplib.http_steps import step_prometheus
from atlas_suite.steplib.support import current_server, http, skips_when_unsupported
from atlas_suite.targets import Unsupported

DOMAIN = "clients"

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "The current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}
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
    """The successful outcome; what the client received must pass OpenAI's own types too."""
    outcome = _outcome(context)
    assert_that(outcome.ok, equal_to(True), f"the call failed: {outcome.describe()}")
    assert_that(outcome.problems, equal_to([]),
                f"the {outcome.client} client received an answer that the official OpenAI "
                "types refuse")
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


@when("the {client:Client} client asks for a {kind:Kind} completion that stops at a word of its "
      "own answer")
@skips_when_unsupported
def step_client_stop(context: Any, client: str, kind: str) -> None:
    """Ask once through the client, pick a word from that answer, then ask again the same way
    with that word as the stop sequence: the second outcome is the one the Thens read."""
    first = _send(context, client, kind)
    assert_that(first.ok, equal_to(True), f"the call without a stop: {first.describe()}")
    word = next((w for w in (p.strip(".,;:!?\"'()") for p in first.text.split()[1:])
                 if len(w) >= 3 and w.isalpha()
                 and 0 < first.text.find(w) < len(first.text) * 2 // 3), None)
    assert word is not None, f"the model's answer has no word to stop at: {first.text!r}"
    context.client_stop = (word, first.text[:first.text.find(word)], first.text)
    _send(context, client, kind, stop=(word,))


@when("the {client:Client} client streams a {kind:Kind} completion asking for the token usage")
@skips_when_unsupported
def step_client_stream_usage(context: Any, client: str, kind: str) -> None:
    """A streamed completion with ``stream_options.include_usage``, sent the client's own way."""
    _send(context, client, kind, stream=True, include_usage=True)


@when("the {client:Client} client asks for a chat answer that must call the weather tool")
@skips_when_unsupported
def step_client_tool(context: Any, client: str) -> None:
    """A chat completion offering one tool, ``get_weather(city)``, with ``tool_choice``
    "required", through the client's own tool types."""
    _send(context, client, "chat", prompt="What is the weather in Paris?",
          tools=(WEATHER_TOOL,), tool_choice="required")


@when('the {client:Client} client with the key "{key}" asks for a {kind:Kind} completion')
@skips_when_unsupported
def step_client_key(context: Any, client: str, key: str, kind: str) -> None:
    """A client constructed with ``KEY`` as its API key, sent the client's own way (a Bearer
    token for all six)."""
    _send(context, client, kind, api_key=key)


@given('the {client:Client} client with the key "{key}" gets an answer to a {kind:Kind} '
       "completion")
@skips_when_unsupported
def step_client_key_answered(context: Any, client: str, key: str, kind: str) -> None:
    """The client, constructed with ``KEY`` as its API key, asks for a completion and gets an
    answer with text: the key works before a wrong one is tried."""
    _send(context, client, kind, api_key=key)
    step_client_text(context)


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


@then('the client\'s answer ends just before that word, with finish reason "stop"')
def step_client_stopped(context: Any) -> None:
    """The second answer, as the client exposes it, is the first cut just before the stop
    word, with finish reason "stop"."""
    outcome = _answer(context)
    word, expected, full = context.client_stop
    assert_that(outcome.finish_reason, equal_to("stop"), f"stopping at {word!r} in {full!r}")
    assert_that(outcome.text, equal_to(expected),
                f"the {outcome.client} client's answer cut before {word!r} (whole: {full!r})")


@then("the client reads the token usage of the whole answer from the stream")
def step_client_usage(context: Any) -> None:
    """The client exposes the stream's usage: prompt and completion tokens above 0, adding up
    to the total."""
    outcome = _answer(context)
    usage = outcome.usage or {}
    assert_that(usage.get("completion_tokens", 0), greater_than(0),
                f"no usage came with the stream ({outcome.describe()})")
    assert_that(usage.get("prompt_tokens", 0), greater_than(0), f"usage {usage}")
    assert_that(usage["total_tokens"],
                equal_to(usage["prompt_tokens"] + usage["completion_tokens"]), f"usage {usage}")


@then("the client reads a call of the weather tool with JSON arguments that name a city")
@skips_when_unsupported
def step_client_tool_call(context: Any) -> None:
    """The client exposes a call of ``get_weather`` whose arguments parse as a JSON object
    with a ``city`` string, and finish reason "tool_calls". A model whose chat template has no
    tool calling answers text instead: the row skips with that answer."""
    outcome = _answer(context)
    if not outcome.tool_calls:
        raise Unsupported("the server's model does not call tools (its chat template has no "
                          f"tool calling); it answered {outcome.text[:160]!r}")
    assert_that(outcome.finish_reason, equal_to("tool_calls"), outcome.describe())
    call = outcome.tool_calls[0]
    assert_that(call["name"], equal_to("get_weather"), "the tool called")
    try:
        arguments = json.loads(call["arguments"])
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"the tool's arguments are not JSON ({exc}): {call}") from None
    assert isinstance(arguments, dict) and isinstance(arguments.get("city"), str), \
        f"the arguments name no city: {arguments}"


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
