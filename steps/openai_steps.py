"""The wider OpenAI surface applications use: stop sequences, seeds, choices, log probabilities,
usage in streams, JSON-schema answers, tool calls, over-long prompts and embeddings.

Every answer these steps read is checked twice, with the suite's schema and with the official
Python SDK's type (:mod:`atlas_suite.openai_types`). ``{atlas:AtlasSwitch}`` is "without ATLAS"
or "with ATLAS on" (``"atlas": {"enabled": true}`` and the server's defaults).
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import parse
from behave import then, when
from hamcrest import assert_that, contains_string, equal_to, greater_than, has_length

from atlas_suite import openai_types
from atlas_suite.atlas import atlas_extension
from atlas_suite.http import Exchange, StreamResult, describe_text
from atlas_suite.schemas import registry
from atlas_suite.steplib import types
from atlas_suite.steplib.catalogue import sets_response
from atlas_suite.steplib.support import api, current_server, last, skips_when_unsupported
from atlas_suite.targets import Unsupported

DOMAIN = "completions"
PROMPTS = {"text": "The three primary colours are", "chat": "Name three primary colours."}
ANSWER_SCHEMA = {"chat": "chat_completion", "text": "completion"}
CHUNK_SCHEMA = {"chat": "chat_completion_chunk", "text": "completion_chunk"}
COLOUR_COUNT = {  # small enough that a grammar-constrained answer always closes in 48 tokens
    "type": "object",
    "properties": {"colour": {"enum": ["red", "green", "blue"]},
                   "count": {"type": "integer", "minimum": 1, "maximum": 9}},
    "required": ["colour", "count"], "additionalProperties": False}
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "The current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}


@parse.with_pattern(r"without ATLAS|with ATLAS on")
def parse_atlas_switch(text: str) -> dict[str, Any] | None:
    """"without ATLAS" (no ``atlas`` object) or "with ATLAS on" (``{"enabled": true}``)."""
    return atlas_extension() if text == "with ATLAS on" else None


types._register(AtlasSwitch=parse_atlas_switch)


# -- helpers ----------------------------------------------------------------------------------
def _state(context: Any) -> dict[str, Any]:
    if not hasattr(context, "openai_surface"):
        context.openai_surface = {}
    return context.openai_surface


def _answer_of(reply: Exchange, kind: str) -> dict[str, Any]:
    """The 200 answer, valid as the suite's schema and the SDK's type say; else a failure."""
    assert_that(reply.status, equal_to(200), describe_text(reply.status, reply.text))
    body = reply.json()
    assert_that(registry().errors(ANSWER_SCHEMA[kind], body), equal_to([]),
                f"the {kind} answer is not what OpenAI's clients accept: {reply.text[:600]}")
    return body


def _text(body: dict[str, Any], kind: str, index: int = 0) -> str:
    choice = body["choices"][index]
    return (choice["message"].get("content") or "") if kind == "chat" else choice["text"]


def _refused_field(reply: Exchange, field: str) -> None:
    """A 400 (or 501) about ``field`` means the server does not offer it: the scenario skips."""
    if reply.status in (400, 404, 501) and field in reply.text:
        raise Unsupported(f"the server does not offer `{field}`: "
                          f"{describe_text(reply.status, reply.text)}")


def _stop_word(text: str) -> str | None:
    """A word from the first two thirds of an answer (3+ letters), to use as a stop sequence."""
    for word in text.split()[1:]:
        word = word.strip(".,;:!?\"'()")
        if len(word) >= 3 and word.isalpha() and 0 < text.find(word) < len(text) * 2 // 3:
            return word
    return None


# -- When -------------------------------------------------------------------------------------
@when("I ask for a {kind:Kind} completion that must stop at a word of its own answer, "
      "{atlas:AtlasSwitch}")
@sets_response
def step_stop_at_own_word(context: Any, kind: str, atlas: dict[str, Any] | None) -> None:
    """Ask once without a stop sequence (24 tokens), pick a word from that answer, then ask
    again the same way with ``"stop": [word]``: the second answer is "the response"."""
    chat = kind == "chat"
    first = _answer_of(api(context).complete(PROMPTS[kind], chat=chat, max_tokens=24,
                                             atlas=atlas), kind)
    full = _text(first, kind)
    word = _stop_word(full)
    assert word is not None, f"the model's answer has no word to stop at: {full!r}"
    _state(context).update(kind=kind, stop=word, expected=full[:full.find(word)], full=full)
    api(context).complete(PROMPTS[kind], chat=chat, max_tokens=24, atlas=atlas, stop=[word])


@when("I ask for a {kind:Kind} completion of at most {n:Int} tokens, {atlas:AtlasSwitch}")
@sets_response
def step_capped(context: Any, kind: str, n: int, atlas: dict[str, Any] | None) -> None:
    """A completion with ``max_tokens`` ``n`` and no stop sequence."""
    _state(context).update(kind=kind)
    api(context).complete(PROMPTS[kind], chat=kind == "chat", max_tokens=n, atlas=atlas)


@when("I ask twice for the same {kind:Kind} completion with seed {seed:Int} at temperature 0")
@sets_response
def step_twice_seeded(context: Any, kind: str, seed: int) -> None:
    """The same request (12 tokens, ``seed``, ``temperature`` 0) twice; both answers are kept,
    the second is "the response"."""
    answers = [_answer_of(api(context).complete(PROMPTS[kind], chat=kind == "chat",
                                                max_tokens=12, seed=seed), kind)
               for _ in range(2)]
    _state(context).update(kind=kind, answers=[_text(a, kind) for a in answers])


@when("I ask for a {kind:Kind} completion with {n:Int} choices")
@sets_response
@skips_when_unsupported
def step_choices(context: Any, kind: str, n: int) -> None:
    """A completion with ``"n": n`` (6 tokens each); a server that refuses ``n`` skips."""
    _state(context).update(kind=kind)
    _refused_field(api(context).complete(PROMPTS[kind], chat=kind == "chat", max_tokens=6, n=n),
                   "n")


@when("I ask for a chat completion with log probabilities and {n:Int} alternatives per token, "
      "{atlas:AtlasSwitch}")
@sets_response
@skips_when_unsupported
def step_logprobs(context: Any, n: int, atlas: dict[str, Any] | None) -> None:
    """A chat completion of 6 tokens with ``"logprobs": true, "top_logprobs": n``."""
    _state(context).update(kind="chat")
    reply = api(context).complete(PROMPTS["chat"], chat=True, max_tokens=6, atlas=atlas,
                                  logprobs=True, top_logprobs=n)
    _refused_field(reply, "logprobs")


@when("I stream a {kind:Kind} completion asking for the token usage, {atlas:AtlasSwitch}")
def step_stream_usage(context: Any, kind: str, atlas: dict[str, Any] | None) -> None:
    """A streamed completion (8 tokens) with ``"stream_options": {"include_usage": true}``,
    read to ``[DONE]``."""
    _state(context).update(kind=kind)
    context.stream = api(context).complete_streaming(
        PROMPTS[kind], chat=kind == "chat", max_tokens=8, atlas=atlas,
        stream_options={"include_usage": True})


@when("I ask for a chat answer that follows a JSON schema, {atlas:AtlasSwitch}")
@sets_response
@skips_when_unsupported
def step_json_schema(context: Any, atlas: dict[str, Any] | None) -> None:
    """A chat completion (48 tokens) with ``response_format`` ``json_schema``: an object with a
    colour (red, green or blue) and a count from 1 to 9."""
    _state(context).update(kind="chat", schema=COLOUR_COUNT)
    reply = api(context).complete(
        "Pick a primary colour and a number from 1 to 9. Answer in JSON.", chat=True,
        max_tokens=48, atlas=atlas,
        response_format={"type": "json_schema", "json_schema": {
            "name": "colour_count", "strict": True, "schema": COLOUR_COUNT}})
    _refused_field(reply, "response_format")


@when("I ask for a chat answer that must call the weather tool, {atlas:AtlasSwitch}")
@sets_response
@skips_when_unsupported
def step_tool_call(context: Any, atlas: dict[str, Any] | None) -> None:
    """A chat completion (64 tokens) offering one tool, ``get_weather(city)``, with
    ``"tool_choice": "required"``."""
    _state(context).update(kind="chat")
    reply = api(context).complete("What is the weather in Paris?", chat=True, max_tokens=64,
                                  atlas=atlas, tools=[WEATHER_TOOL], tool_choice="required")
    _refused_field(reply, "tool")


@when("I send a text completion whose prompt is longer than the server's context, "
      "{atlas:AtlasSwitch}")
@sets_response
def step_over_long(context: Any, atlas: dict[str, Any] | None) -> None:
    """A prompt of more words than the server's whole context (``-c``, 32768 when unknown)
    holds tokens, one token each at least."""
    ctx = current_server(context).config.ctx_size or 32768
    api(context).complete("word " * (ctx + 64), max_tokens=4, atlas=atlas)


@when("I ask for the embeddings of two texts")
@sets_response
@skips_when_unsupported
def step_embeddings(context: Any) -> None:
    """``POST /v1/embeddings`` with two inputs; a server without embeddings skips with what it
    answered."""
    reply = api(context).http.post("/v1/embeddings", {
        "model": api(context).model_id(), "input": ["red sky", "green grass"]})
    if reply.status in (404, 405, 501) or (reply.status == 400 and "embedding" in reply.text):
        raise Unsupported("the server offers no embeddings: "
                          f"{describe_text(reply.status, reply.text)}")


# -- Then -------------------------------------------------------------------------------------
@then('the answer ends just before that word, with finish reason "stop"')
def step_ends_before_word(context: Any) -> None:
    """The second answer is the first one cut just before the stop word, the word left out,
    and its ``finish_reason`` is "stop"."""
    state = _state(context)
    body = _answer_of(last(context), state["kind"])
    text = _text(body, state["kind"])
    assert_that(body["choices"][0]["finish_reason"], equal_to("stop"),
                f"stopping at {state['stop']!r} in {state['full']!r}")
    assert_that(text, equal_to(state["expected"]),
                f"the answer cut before the stop sequence {state['stop']!r} "
                f"(without it, the answer was {state['full']!r})")


@then('the answer has {n:Int} tokens, with finish reason "length"')
def step_length(context: Any, n: int) -> None:
    """``usage.completion_tokens`` is ``n`` and ``finish_reason`` is "length"."""
    body = _answer_of(last(context), _state(context)["kind"])
    assert_that(body["choices"][0]["finish_reason"], equal_to("length"), "finish_reason")
    assert_that(body["usage"]["completion_tokens"], equal_to(n), "usage.completion_tokens")


@then("both answers are the same text")
def step_same_text(context: Any) -> None:
    """The two answers kept by the seeded request are equal, and not empty."""
    first, second = _state(context)["answers"]
    assert_that(first, greater_than(""), "the first answer is empty")
    assert_that(second, equal_to(first), "the same seed at temperature 0 answered differently")


@then("the answer has {n:Int} choices, numbered from 0, each with text")
def step_n_choices(context: Any, n: int) -> None:
    """``choices`` has ``n`` entries, indexes 0 .. n-1, each with text."""
    kind = _state(context)["kind"]
    body = _answer_of(last(context), kind)
    assert_that(sorted(c["index"] for c in body["choices"]), equal_to(list(range(n))),
                f"the choices' indexes in {str(body)[:600]}")
    for index in range(n):
        assert_that(_text(body, kind, index), greater_than(""), f"choice {index} has no text")


@then("every token of the answer comes with its log probability and {n:Int} alternatives")
def step_logprobs_each(context: Any, n: int) -> None:
    """``choices[0].logprobs.content`` spells the answer token by token, each with a log
    probability (<= 0) and ``n`` alternatives."""
    body = _answer_of(last(context), "chat")
    content = (body["choices"][0].get("logprobs") or {}).get("content") or []
    assert_that(content, has_length(greater_than(0)), f"no logprobs in {str(body)[:600]}")
    for entry in content:
        assert entry["logprob"] <= 0, f"a log probability above 0: {entry}"
        assert_that(entry.get("top_logprobs") or [], has_length(n), f"alternatives of {entry}")
    assert_that("".join(e["token"] for e in content), equal_to(_text(body, "chat")),
                "the tokens with log probabilities, joined, are the answer")


@then("the last chunk before [DONE] reports the token usage of the whole answer")
def step_usage_last_chunk(context: Any) -> None:
    """Every chunk is a valid OpenAI chunk; the last one before ``[DONE]`` has ``usage`` with
    prompt and completion tokens that add up to the total."""
    stream: StreamResult = context.stream
    assert_that(stream.status == 200 and stream.done, equal_to(True), stream.ending())
    schema = CHUNK_SCHEMA[_state(context)["kind"]]
    for number, chunk in enumerate(stream.chunks, start=1):
        assert_that(registry().errors(schema, chunk), equal_to([]), f"chunk {number}: {chunk}")
    usage = (stream.last_chunk() or {}).get("usage") or {}
    assert_that(usage.get("completion_tokens", 0), greater_than(0),
                f"no usage in the last chunk: {stream.last_chunk()}")
    assert_that(usage.get("prompt_tokens", 0), greater_than(0), f"usage {usage}")
    assert_that(usage["total_tokens"], equal_to(usage["prompt_tokens"] +
                                                usage["completion_tokens"]), f"usage {usage}")


@then("the answer parses as JSON and satisfies the schema")
def step_follows_schema(context: Any) -> None:
    """The answer's content is a JSON document valid against the requested schema."""
    text = _text(_answer_of(last(context), "chat"), "chat")
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise AssertionError(f"the answer is not JSON ({exc}): {text!r}") from None
    problems = [e.message for e in
                jsonschema.Draft202012Validator(_state(context)["schema"]).iter_errors(document)]
    assert_that(problems, equal_to([]), f"the answer {text!r} against the requested schema")


@then("the answer calls the weather tool with JSON arguments that name a city")
@skips_when_unsupported
def step_called_tool(context: Any) -> None:
    """``finish_reason`` "tool_calls" and a call of ``get_weather`` whose arguments parse as a
    JSON object with a ``city`` string. A model whose chat template has no tool calling answers
    text instead: the scenario skips with that answer."""
    body = _answer_of(last(context), "chat")
    choice = body["choices"][0]
    calls = choice["message"].get("tool_calls") or []
    if not calls:
        raise Unsupported("the server's model does not call tools (its chat template has no tool "
                          f"calling); it answered {_text(body, 'chat')[:160]!r}")
    assert_that(choice["finish_reason"], equal_to("tool_calls"), "finish_reason")
    function = calls[0]["function"]
    assert_that(function["name"], equal_to("get_weather"), "the tool called")
    try:
        arguments = json.loads(function["arguments"])
    except ValueError as exc:
        raise AssertionError(f"the tool's arguments are not JSON ({exc}): "
                             f"{function['arguments']!r}") from None
    assert isinstance(arguments, dict) and isinstance(arguments.get("city"), str), \
        f"the arguments name no city: {arguments}"


@then("the request is refused as too long for the context")
def step_refused_too_long(context: Any) -> None:
    """A 400, not a 5xx or a dropped connection, in the OpenAI error envelope (a message, a
    type, a code) whose message speaks of the context. The type is any string, as the contract
    says: llama.cpp's own ``exceed_context_size_error`` is right."""
    reply = last(context)
    assert_that(reply.status, equal_to(400), describe_text(reply.status, reply.text))
    body = reply.json()
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict) and {"message", "type", "code"} <= set(error), \
        f"not the OpenAI error envelope: {reply.text[:600]}"
    assert isinstance(error["type"], str), f"the error's type is not a string: {error}"
    assert_that(str(error["message"]).lower(), contains_string("context"),
                "the refusal says the prompt does not fit the context")


@then("the answer has one vector per text, all of the same length")
def step_vectors(context: Any) -> None:
    """An embeddings answer of the contract's shape that the SDK accepts, with 2 vectors
    (indexes 0 and 1) of one length."""
    reply = last(context)
    assert_that(reply.status, equal_to(200), describe_text(reply.status, reply.text))
    body = reply.json()
    assert_that(registry().errors("embeddings", body), equal_to([]), reply.text[:600])
    vectors = {item["index"]: item["embedding"] for item in body["data"]}
    assert_that(sorted(vectors), equal_to([0, 1]), "one vector per input")
    assert_that(len({len(v) for v in vectors.values()}), equal_to(1), "vector lengths")
    assert_that(len(vectors[0]), greater_than(0), "the vectors are empty")
