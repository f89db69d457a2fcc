"""What the server did, in product words: the failures the suite reports instead of tracebacks.

Every way a server can let a scenario down below the level of its answers has a class here:

=========================  =====================================================================
class                      what the server did
=========================  =====================================================================
``StartRefusedFlag``       exited at start because it does not accept a flag of the scenario
``StartExited``            exited while starting, for another reason
``NeverHealthy``           kept running but ``GET /health`` never answered 200 in time
``ConnectionRefused``      nothing listens where it should (no server, or it is gone)
``ConnectionClosed``       accepted the request and closed or reset the connection unanswered
``StreamCut``              a server-sent-event stream ended early, without ``data: [DONE]``
``BodyNotJson``            a body that should be JSON was not
``NoAnswerInTime``         did not answer within the client's read timeout
``ServerDied``             the process exited in the middle of the scenario
=========================  =====================================================================

They are :class:`AssertionError` subclasses, so behave shows them as failures with the message
alone (no traceback). The HTTP layer, the SSE reader, the client drivers and the server pool
raise them; :func:`verdict_for` turns the exceptions of the libraries underneath (requests,
urllib3, httpx, the OpenAI client, ``json``) into them, and ``atlas_suite.steplib.verdicts``
applies it to every step in one place.
"""

from __future__ import annotations

import http.client
import json
import re
import shlex
import socket
from collections.abc import Iterator, Sequence

LOG_LINES_SHOWN = 12


class ServerDid(AssertionError):
    """Something the server did (or failed to do), described in product words."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message + (f"\n{details}" if details else ""))
        self.verdict = message  # the one-line sentence a product owner reads
        self.details = details  # what an engineer reads next: command line, log lines


# ---- start-up ------------------------------------------------------------------------------

class StartFailed(ServerDid):
    """The server did not get to answer ``GET /health`` with 200."""


class StartRefusedFlag(StartFailed):
    """The process exited at start and named one of its flags as not accepted."""

    def __init__(self, flag: str, value: str | None, exit_code: int | None, said: str,
                 details: str = "") -> None:
        shown = f"{flag} {value}" if value is not None else flag
        super().__init__(f"the server did not start with `{shown}`: it exited with code "
                         f"{exit_code} and said: {said}", details)
        self.flag = flag
        self.value = value
        self.exit_code = exit_code
        self.said = said


class StartExited(StartFailed):
    """The process exited before it was healthy."""


class NeverHealthy(StartFailed):
    """The process kept running but was not healthy before the deadline."""


# ---- talking to it -------------------------------------------------------------------------

class ConnectionProblem(ServerDid):
    """No HTTP answer at all."""


class ConnectionRefused(ConnectionProblem):
    """Nothing accepted the connection."""


class ConnectionClosed(ConnectionProblem):
    """The connection was closed or reset before an answer came."""


class StreamCut(ConnectionProblem):
    """A stream that ended without its ``data: [DONE]`` line, mid-transfer."""

    def __init__(self, message: str, chunks: int = 0, details: str = "") -> None:
        super().__init__(message, details)
        self.chunks = chunks


class NoAnswerInTime(ConnectionProblem):
    """The server did not answer within the client's timeout."""


class BodyNotJson(ServerDid):
    """A body that should have been JSON was not."""


class ServerDied(ServerDid):
    """The server process exited in the middle of the scenario."""


# ---- start-up: reading what the process said -----------------------------------------------

_REFUSAL = re.compile(
    r"(invalid argument|unrecogni[sz]ed (?:arguments?|options?)|unknown (?:options?|arguments?|"
    r"flags?)|no such option|unsupported (?:options?|arguments?)|invalid option)\b", re.I)


def log_excerpt(log_tail: str, lines: int = LOG_LINES_SHOWN) -> str:
    kept = [line for line in log_tail.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def refused_flag(argv: Sequence[str], log_tail: str) -> tuple[str, str | None, str] | None:
    """(flag, value, the line that refused it) when the log names a flag of ``argv`` as not
    accepted; None when it does not."""
    for line in reversed(log_tail.splitlines()):
        found = _REFUSAL.search(line)
        if not found:
            continue
        rest = line[found.end():]
        named = re.findall(r"(?<![\w-])(-{1,2}[A-Za-z][\w.-]*)", rest)
        for flag in named:
            flag = flag.split("=", 1)[0]
            if flag in argv:
                index = list(argv).index(flag)
                value = argv[index + 1] if index + 1 < len(argv) and \
                    not str(argv[index + 1]).startswith("-") else None
                return flag, value, line.strip()
    return None


def start_failure(argv: Sequence[str], exit_code: int | None, log_tail: str, *, what: str,
                  answer: str, command: str = "") -> StartFailed:
    """The verdict for a server that did not become healthy.

    ``exit_code`` is None while the process still runs; ``what`` says how waiting ended.
    """
    command = command or shlex.join(argv)
    excerpt = log_excerpt(log_tail)
    details = f"command: {command}\nlast lines of its log:\n{excerpt or '(nothing)'}"
    if exit_code is not None:
        refused = refused_flag(argv, log_tail)
        if refused is not None:
            flag, value, said = refused
            return StartRefusedFlag(flag, value, exit_code, said, details)
        last = excerpt.splitlines()[-1] if excerpt else "nothing"
        return StartExited(f"the server exited with code {exit_code} while starting, before "
                           f"/health answered 200; its last words: {last}", details)
    return NeverHealthy(f"the server {what}; the last /health answer was: {answer}", details)


# ---- translating library exceptions --------------------------------------------------------

def _causes(exc: BaseException, depth: int = 0) -> Iterator[BaseException]:
    """``exc`` and everything it wraps (causes, contexts, exceptions among its arguments)."""
    if depth > 6:
        return
    yield exc
    seen = []
    for inner in (exc.__cause__, exc.__context__, getattr(exc, "reason", None),
                  *[a for a in getattr(exc, "args", ()) if isinstance(a, BaseException)]):
        if isinstance(inner, BaseException) and inner is not exc and inner not in seen:
            seen.append(inner)
            yield from _causes(inner, depth + 1)


def _named(exc: BaseException, *names: str) -> bool:
    return any(cls.__name__ in names for cls in type(exc).__mro__)


def _kind(exc: BaseException) -> str | None:
    """refused | closed | cut | timeout | json | None, from the whole chain of ``exc``."""
    chain = list(_causes(exc))
    for item in chain:
        if isinstance(item, ConnectionRefusedError) or _named(item, "NewConnectionError"):
            return "refused"
    for item in chain:
        if isinstance(item, (TimeoutError, socket.timeout)) or _named(
                item, "Timeout", "ReadTimeout", "ConnectTimeout", "ReadTimeoutError",
                "TimeoutException", "APITimeoutError", "ServerTimeoutError"):
            return "timeout"
    for item in chain:
        if isinstance(item, http.client.IncompleteRead) or _named(
                item, "ChunkedEncodingError", "InvalidChunkLength", "IncompleteRead",
                "RemoteProtocolError", "ClientPayloadError", "TransferEncodingError"):
            return "cut"
        if _named(item, "ProtocolError") and "prematurely" in str(item):
            return "cut"
    for item in chain:
        if isinstance(item, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError,
                             http.client.RemoteDisconnected)) or _named(
                item, "ProtocolError", "ServerDisconnectedError", "ReadError", "WriteError",
                "ConnectionError", "ClientConnectionError", "APIConnectionError"):
            return "closed"
    for item in chain:
        if isinstance(item, json.JSONDecodeError):
            return "json"
    return None


def verdict_for(exc: BaseException, doing: str = "") -> ServerDid | None:
    """The product-words failure for an exception of the HTTP stack, or None when ``exc`` is
    not about the server's behaviour (a bug in the suite stays an error with its traceback).

    ``doing`` names what the suite was doing ("POST /v1/completions"), when it is known.
    """
    if isinstance(exc, ServerDid):
        return exc
    kind = _kind(exc)
    during = f" ({doing})" if doing else ""
    if kind == "refused":
        return ConnectionRefused(f"nothing accepted the connection{during}: the server is not "
                                 "listening (connection refused)")
    if kind == "timeout":
        return NoAnswerInTime(f"the server did not answer in time{during}")
    if kind == "cut":
        return StreamCut(f"the server cut the answer short{during}: the connection closed "
                         "in the middle of the body")
    if kind == "closed":
        return ConnectionClosed(f"the server closed the connection without a complete "
                                f"answer{during}")
    if kind == "json":
        doc = next((c.doc for c in _causes(exc) if isinstance(c, json.JSONDecodeError)), "")
        shown = doc if len(doc) <= 300 else doc[:300] + f"... ({len(doc)} characters)"
        return BodyNotJson(f"the server's answer was not JSON{during}: {shown!r}")
    return None


def died(verdict: ServerDid, exit_code: int | None, log_tail: str) -> ServerDied:
    """``verdict`` explained by the server process having exited mid-scenario."""
    excerpt = log_excerpt(log_tail)
    last = excerpt.splitlines()[-1] if excerpt else "nothing"
    return ServerDied(f"the server process exited with code {exit_code} during the scenario "
                      f"({verdict.verdict}); its last words: {last}",
                      f"last lines of its log:\n{excerpt or '(nothing)'}")
