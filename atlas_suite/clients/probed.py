"""The official Node.js and Go clients, driven through their probe programs."""

from __future__ import annotations

import json

from atlas_suite import probes
from atlas_suite.clients.calls import ClientCall, ClientFailure, ClientOutcome
from atlas_suite.verdicts import ConnectionClosed, ConnectionRefused, ServerDid

_PROBE_REFUSED = ("ECONNREFUSED", "connection refused")
_PROBE_CLOSED = ("ECONNRESET", "socket hang up", "connection reset", "unexpected EOF",
                 "premature close", "terminated")


def probe_failure(language: str, exc: probes.ProbeError) -> ServerDid | ClientFailure:
    """A probe that exited on a transport problem says what the server did; else the probe."""
    said = f"{exc.stderr}\n{json.dumps(exc.result) if exc.result else ''}"
    if any(mark.lower() in said.lower() for mark in _PROBE_REFUSED):
        return ConnectionRefused(f"nothing accepted the connection (through the {language} "
                                 "client): the server is not listening (connection refused)")
    if any(mark.lower() in said.lower() for mark in _PROBE_CLOSED):
        return ConnectionClosed(f"the server closed the connection without a complete answer "
                                f"(through the {language} client)")
    return ClientFailure(f"the {language} client failed as a program: {exc}")


def probe(language: str, request: ClientCall) -> ClientOutcome:
    operation = ("chat" if request.kind == "chat" else "completion") + \
        ("_stream" if request.stream else "")
    try:
        result = probes.run_probe(language, {
            "base_url": f"{request.base_url}/v1", "api_key": request.api_key,
            "operation": operation, "model": request.model, "prompt": request.prompt,
            "max_tokens": request.max_tokens, "temperature": 0, "atlas": request.atlas,
            "stop": list(request.stop), "include_usage": request.include_usage,
            "tools": list(request.tools), "tool_choice": request.tool_choice,
        }, timeout_s=request.timeout_s + 10)
    except probes.ProbeError as exc:
        raise probe_failure(language, exc) from None
    version = f"{result.get('client', language)} {result.get('client_version', '?')}"
    outcome = ClientOutcome(language, version)
    if result.get("ok"):
        outcome.text = result.get("text") or ""
        outcome.atlas = result.get("atlas")
        outcome.chunks = int(result.get("chunks") or 0)
        outcome.finish_reason = result.get("finish_reason") or None
        outcome.usage = result.get("usage")
        outcome.tool_calls = list(result.get("tool_calls") or [])
        outcome.check_types(request.kind, request.stream, list(result.get("raw") or []))
        return outcome
    if result.get("error_type") == "ProbeRequestError":
        raise ClientFailure(f"the {language} probe refused the request: {result.get('message')}")
    body = result.get("error_body")
    outcome.error_type = result.get("error_type")
    outcome.status = result.get("status")
    outcome.message = result.get("message") or ""
    outcome.param = result.get("param")
    outcome.error_body = body if isinstance(body, dict) else None
    return outcome
