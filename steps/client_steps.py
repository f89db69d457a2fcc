"""The official ``openai`` Python client against the server under test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
from behave import then, when
from hamcrest import assert_that, contains_string, equal_to, greater_than

from atlas_suite import clients
from atlas_suite.clients import ClientOutcome
from atlas_suite.schemas import registry
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.support import current_server, http

MAX_TOKENS = 8
PROMPT = "Say hello to the test suite."
ERRORS = {"BadRequestError": openai.BadRequestError,
          "AuthenticationError": openai.AuthenticationError,
          "NotFoundError": openai.NotFoundError,
          "RateLimitError": openai.RateLimitError}


def _key(context: Any) -> str | None:
    header = http(context).headers.get("Authorization", "")
    return header.removeprefix("Bearer ") or None


def _client(context: Any, key: str | None = None) -> openai.OpenAI:
    return clients.sync_client(current_server(context).base_url, key or _key(context))


def _call(context: Any, action: Callable[[], ClientOutcome]) -> None:
    """Run a client call, keeping its outcome or the exception it raised."""
    context.client_outcome, context.client_error = None, None
    try:
        context.client_outcome = action()
    except openai.APIError as exc:
        context.client_error = exc


def _outcome(context: Any) -> ClientOutcome:
    error = getattr(context, "client_error", None)
    assert error is None, f"the client raised {type(error).__name__}: {error}"
    return context.client_outcome


@when("the official OpenAI client asks for a {kind:Kind} completion")
def step_client_call(context: Any, kind: str) -> None:
    """``client.chat.completions.create`` or ``client.completions.create``, not streamed."""
    call = clients.chat if kind == "chat" else clients.completion
    _call(context, lambda: call(_client(context), PROMPT, max_tokens=MAX_TOKENS))


@when("the official OpenAI client asks for a chat completion with the ATLAS extension "
      "{extension:JSON}")
def step_client_atlas(context: Any, extension: Any) -> None:
    """A chat completion with ``extra_body={"atlas": EXTENSION}``."""
    _call(context, lambda: clients.chat(_client(context), PROMPT, max_tokens=MAX_TOKENS,
                                        atlas=extension))


@when("the official OpenAI client streams a chat completion")
def step_client_stream(context: Any) -> None:
    """``stream=True``, iterating the chunks to the end."""
    _call(context, lambda: clients.chat_stream(_client(context), PROMPT, max_tokens=MAX_TOKENS))


@when("the official OpenAI client streams a chat completion with the ATLAS extension "
      "{extension:JSON}")
def step_client_stream_atlas(context: Any, extension: Any) -> None:
    """A streamed chat completion with ``extra_body={"atlas": EXTENSION}``."""
    _call(context, lambda: clients.chat_stream(_client(context), PROMPT,
                                               max_tokens=MAX_TOKENS, atlas=extension))


@when('the official OpenAI client with the key "{key}" asks for a chat completion')
def step_client_key(context: Any, key: str) -> None:
    """A client constructed with ``api_key=KEY`` (sent as a Bearer token)."""
    _call(context, lambda: clients.chat(_client(context, key), PROMPT, max_tokens=MAX_TOKENS))


@when("the async OpenAI client sends {n:Int} chat completions at once")
def step_client_async(context: Any, n: int) -> None:
    """``AsyncOpenAI``: ``n`` chat completions gathered concurrently."""
    context.client_error = None
    context.async_outcomes = clients.chat_async(current_server(context).base_url, _key(context),
                                                PROMPT, max_tokens=MAX_TOKENS, concurrent=n)


@then("the client receives an answer with text")
def step_client_text(context: Any) -> None:
    """The call succeeded and produced non-empty text."""
    outcome = _outcome(context)
    assert_that(len(outcome.text), greater_than(0), "the generated text")


@then("all {n:Int} answers have text")
def step_async_text(context: Any, n: int) -> None:
    """Every concurrent call produced non-empty text."""
    outcomes = context.async_outcomes
    assert_that(len(outcomes), equal_to(n))
    assert_that([len(o.text) > 0 for o in outcomes], equal_to([True] * n), "texts")


@then('the client exposes the atlas block, matching the "{schema}" schema')
def step_client_block(context: Any, schema: str) -> None:
    """The response object carries ``atlas`` among its extra fields (``model_extra``)."""
    block = _outcome(context).atlas
    assert block is not None, "the client's response carries no atlas block"
    assert_that(registry().errors(schema, block), equal_to([]), f"atlas block {block}")


@then("the client's atlas block reports a window size of {n:Int}")
def step_client_window(context: Any, n: int) -> None:
    """The atlas block the client exposes has ``window_size`` ``n``."""
    block = _outcome(context).atlas or {}
    assert_that(block.get("window_size"), equal_to(n), "atlas.window_size")


@then("the client raises {name}")
def step_client_raises(context: Any, name: str) -> None:
    """The call raised this ``openai`` exception class (e.g. BadRequestError)."""
    error = getattr(context, "client_error", None)
    assert error is not None, f"expected {name}, but the call succeeded"
    assert_that(type(error).__name__, equal_to(ERRORS[name].__name__), str(error))


@then('the client\'s error carries the server\'s message naming "{param}"')
def step_client_error_param(context: Any, param: str) -> None:
    """The exception's body is the server's error envelope, with ``param`` and a message."""
    error = context.client_error
    body = getattr(error, "body", None) or {}
    body = body.get("error", body) if isinstance(body, dict) else {}
    assert_that(body.get("param"), equal_to(param), f"the error body the client kept: {body}")
    assert_that(str(error), contains_string(str(body.get("message", "")) or "?"),
                "the exception's text should carry the server's message")
