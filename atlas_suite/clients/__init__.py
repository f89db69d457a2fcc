"""Six OpenAI clients behind one dispatcher: what an application would use, driven the same way.

=================  ===========================================================================
client name        what drives the server
=================  ===========================================================================
``python``         ``openai.OpenAI`` (the official Python client)
``python-async``   ``openai.AsyncOpenAI``
``node``           the official npm ``openai`` package, through ``clients/node/probe.mjs``
``go``             ``github.com/openai/openai-go``, through ``clients/go/build/go-probe``
``langchain``      ``langchain_openai.ChatOpenAI`` (a chat model: ``invoke`` and ``stream``)
``langchain-llm``  ``langchain_openai.OpenAI`` (a text-completion LLM: ``invoke`` and ``stream``)
=================  ===========================================================================

:func:`call` sends one :class:`ClientCall` through the named client and answers a
:class:`ClientOutcome` of the same shape whichever client it was: the text, the ``atlas`` block
as the client exposes it, the number of stream chunks, or the error as the client raised it
(its own class name, the status, its message, the ``param`` and the server's error object as
the client kept them). An error answer of the server is an outcome, not an exception; a client
that cannot run here raises :class:`ClientUnavailable` (a :class:`~atlas_suite.targets.Unsupported`,
so the scenario skips with the reason), unless ``ATLAS_REQUIRE_ALL_CLIENTS=1`` (CI) turns that
into a failure.

How each client carries the ATLAS extension and reads the block back, its own way:

* Python: ``extra_body={"atlas": ...}``; the block from the response's ``model_extra``.
* Node: an extra key in the params object; the block from the plain response object.
* Go: ``option.WithJSONSet("atlas", ...)``; the block from ``JSON.ExtraFields["atlas"]``.
* LangChain chat model: ``ChatOpenAI(extra_body={"atlas": ...})``; the block in the message's
  ``response_metadata["atlas"]``, which a two-method subclass (:class:`AtlasChatOpenAI`, the
  pattern langchain-deepseek uses for its own extra fields) copies from the raw response.
* LangChain LLM: ``OpenAI(extra_body={"atlas": ...})``. Its interface answers plain strings and
  has no place for an extra response field, so the block is read from the OpenAI
  ``completions`` resource the application hands it (``OpenAI(client=...)``).
"""

from __future__ import annotations

from collections.abc import Callable

from atlas_suite.clients.calls import (
    CLIENTS,
    KINDS,
    NO_KEY,
    REQUIRE_ALL_ENV,
    ClientCall,
    ClientFailure,
    ClientOutcome,
    ClientUnavailable,
    parse_name,
    require,
    unavailable,
    versions,
)
from atlas_suite.clients.langchain import AtlasRecorder, langchain_chat, langchain_llm
from atlas_suite.clients.official import (
    async_client,
    atlas_block,
    chat_async,
    python_async,
    python_sync,
    sync_client,
)
from atlas_suite.clients.probed import probe

__all__ = ["CLIENTS", "DRIVERS", "KINDS", "NO_KEY", "REQUIRE_ALL_ENV", "AtlasRecorder",
           "ClientCall", "ClientFailure", "ClientOutcome", "ClientUnavailable", "async_client",
           "atlas_block", "call", "chat_async", "parse_name", "require", "sync_client",
           "unavailable", "versions"]

_TEXT_ONLY = {"langchain-llm": "langchain_openai.OpenAI is a text-completion LLM"}
_CHAT_ONLY = {"langchain": "langchain_openai.ChatOpenAI is a chat model"}


# -- the dispatcher ---------------------------------------------------------------------------
DRIVERS: dict[str, Callable[[ClientCall], ClientOutcome]] = {
    "python": python_sync,
    "python-async": python_async,
    "node": lambda request: probe("node", request),
    "go": lambda request: probe("go", request),
    "langchain": langchain_chat,
    "langchain-llm": langchain_llm,
}


def call(client: str, request: ClientCall) -> ClientOutcome:
    """Send ``request`` through ``client`` (one of :data:`CLIENTS`)."""
    parse_name(client)
    if request.kind not in KINDS:
        raise ValueError(f"unknown completion kind {request.kind!r}; known: {', '.join(KINDS)}")
    if request.kind == "chat" and client in _TEXT_ONLY:
        raise ValueError(f"{client} cannot ask for a chat completion: {_TEXT_ONLY[client]}")
    if request.kind == "text" and client in _CHAT_ONLY:
        raise ValueError(f"{client} cannot ask for a text completion: {_CHAT_ONLY[client]}; "
                         f"use langchain-llm")
    require(client)
    return DRIVERS[client](request)
