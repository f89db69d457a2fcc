"""What step modules share: the scenario's client, the current server, skipping, notes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from atlas_suite.atlas import AtlasApi
from atlas_suite.http import ApiClient, Exchange
from atlas_suite.server_protocol import Server
from atlas_suite.targets import Unsupported

F = TypeVar("F", bound=Callable[..., Any])
S = TypeVar("S", bound=Server)


def http(context: Any) -> ApiClient:
    client = getattr(context, "http", None)
    if client is None:  # the environment normally provides one per scenario
        client = context.http = ApiClient()
    return client


def last(context: Any) -> Exchange:
    return http(context).last


def last_json(context: Any) -> Any:
    return http(context).last.json()


def current_server(context: Any) -> Server:
    """The scenario's server: a process, a url target, a container or a deployment."""
    server = getattr(context, "server", None)
    if server is None:
        raise AssertionError("no server yet: start the scenario with a Given ... server step")
    return server


def use_server(context: Any, server: S) -> S:
    """Make ``server`` the one the following steps talk to."""
    context.server = server
    client = http(context)
    client.base_url = server.base_url
    if not client.headers and server.api_key:
        client.use_api_key(server.api_key)  # a url target's own key
    return server


def api(context: Any) -> AtlasApi:
    server = current_server(context)
    http(context).base_url = server.base_url  # follows a restart to its new port
    return AtlasApi(http(context), server)


def notes(context: Any) -> dict[str, Any]:
    """Values a scenario noted to compare later (fingerprints, counters, files)."""
    if not hasattr(context, "notes"):
        context.notes = {}
    return context.notes


def noted(context: Any, name: str) -> Any:
    if name not in notes(context):
        raise AssertionError(f'nothing was noted as "{name}" earlier in this scenario')
    return notes(context)[name]


def skip(context: Any, reason: str) -> None:
    context.scenario.skip(reason=reason)


def skips_when_unsupported(func: F) -> F:
    """Turn the target's "cannot do that" into a skipped scenario with the reason."""

    @functools.wraps(func)
    def wrapper(context: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(context, *args, **kwargs)
        except Unsupported as exc:
            skip(context, str(exc))
            return None

    return wrapper  # type: ignore[return-value]
