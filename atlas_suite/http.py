"""HTTP for steps: one client per scenario that remembers every exchange it made."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from atlas_suite import sse
from atlas_suite.verdicts import BodyNotJson, ConnectionClosed, ServerDid, StreamCut, verdict_for

DEFAULT_TIMEOUT_S = 120.0


class NotJson(BodyNotJson):
    """The response body was expected to be JSON but was not."""


@dataclass
class Exchange:
    """One request and its answer, kept for later checks (e.g. "the key never appears")."""

    method: str
    path: str
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            raise NotJson(f"expected a JSON body, got {describe_text(self.status, self.text)}"
                          ) from None


@dataclass
class StreamResult:
    """A server-sent-event stream read to the end: the JSON chunks and whether [DONE] came."""

    status: int
    headers: dict[str, str]
    chunks: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    raw: list[str] = field(default_factory=list)
    cut: str | None = None  # how the stream broke off, when the caller chose to keep it

    def last_chunk(self) -> dict[str, Any] | None:
        return self.chunks[-1] if self.chunks else None

    def ending(self) -> str:
        """How the stream ended, in words (for a failed expectation)."""
        if self.cut:
            return self.cut
        if self.done:
            return f"{len(self.chunks)} chunks, then data: [DONE]"
        last = f"; its last lines: {self.raw[-3:]}" if self.raw else ""
        return (f"the stream ended after {len(self.chunks)} chunks without `data: [DONE]`"
                + last)


def describe_text(status: int, text: str, limit: int = 600) -> str:
    body = text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"
    return f"HTTP {status} {body}"


def parse_sse_lines(lines: Iterable[str]) -> Iterator[dict[str, Any] | str]:
    """Yield each event's JSON chunk, then the string "[DONE]" at the end."""
    for data in sse.events_from_lines(lines):
        if sse.is_done(data):
            yield sse.DONE
            return
        try:
            yield sse.chunk(data)
        except ValueError:
            shown = data if len(data) <= 300 else data[:300] + "..."
            raise BodyNotJson(f"a stream event was not JSON: data: {shown}") from None


class ApiClient:
    """A ``requests`` session bound to the current server, with an optional API key."""

    def __init__(self, base_url: str = "", timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.session = requests.Session()
        self.headers: dict[str, str] = {}
        self.exchanges: list[Exchange] = []

    # -- configuration ------------------------------------------------------------------
    def use_api_key(self, key: str | None, header: str = "Authorization") -> None:
        """Send ``key`` on every request (Bearer in Authorization, or raw in another header)."""
        self.headers.pop("Authorization", None)
        self.headers.pop("X-Api-Key", None)
        if key is None:
            return
        self.headers[header] = f"Bearer {key}" if header.lower() == "authorization" else key

    def url(self, path: str) -> str:
        if not self.base_url:
            raise RuntimeError("no server yet: a Given step must start or pick one first")
        return f"{self.base_url}/{path.lstrip('/')}"

    # -- requests -----------------------------------------------------------------------
    @property
    def last(self) -> Exchange:
        if not self.exchanges:
            raise AssertionError("no request has been sent in this scenario yet")
        return self.exchanges[-1]

    def request(self, method: str, path: str, *, json_body: Any = None,
                body: bytes | str | None = None, headers: dict[str, str] | None = None
                ) -> Exchange:
        """Send a request; a JSON body is serialised, a raw ``body`` is sent as it is."""
        all_headers = dict(self.headers, **(headers or {}))
        data = body
        if json_body is not None:
            data = json.dumps(json_body)
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
        if isinstance(data, str):
            data = data.encode("utf-8")
        try:
            reply = self.session.request(method, self.url(path), data=data,
                                         headers=all_headers, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise _verdict(exc, f"{method} {path}") from None
        exchange = Exchange(method, path, reply.status_code, dict(reply.headers), reply.text)
        self.exchanges.append(exchange)
        return exchange

    def get(self, path: str, **kwargs: Any) -> Exchange:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json_body: Any = None, **kwargs: Any) -> Exchange:
        return self.request("POST", path, json_body=json_body, **kwargs)

    def stream(self, path: str, json_body: dict[str, Any],
               on_first_event: Callable[[], None] | None = None,
               keep_cut: bool = False) -> StreamResult:
        """POST a streaming request and read the whole event stream.

        ``on_first_event`` runs once the first event has arrived, while the rest is still
        streaming: a way to act on the server in the middle of a request. A stream the server
        cuts short raises :class:`~atlas_suite.verdicts.StreamCut`; with ``keep_cut`` the
        result holds what arrived, and ``cut`` says how it broke off (the scenario judges it).
        """
        headers = dict(self.headers, **{"Content-Type": "application/json"})
        try:
            reply = self.session.post(self.url(path), data=json.dumps(json_body),
                                      headers=headers, stream=True, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise _verdict(exc, f"POST {path}") from None
        with reply:
            result = StreamResult(reply.status_code, dict(reply.headers))
            if reply.status_code != 200:
                try:
                    text = reply.text
                except requests.RequestException as exc:
                    raise _verdict(exc, f"POST {path}") from None
                self.exchanges.append(Exchange("POST", path, reply.status_code,
                                               dict(reply.headers), text))
                return result
            lines = reply.iter_lines(decode_unicode=True)
            try:
                for event in parse_sse_lines(_recording(lines, result.raw)):
                    if event == sse.DONE:
                        result.done = True
                    else:
                        result.chunks.append(event)  # type: ignore[arg-type]
                    if on_first_event is not None:
                        on_first_event()
                        on_first_event = None
            except (requests.RequestException, OSError) as exc:
                verdict = stream_cut(exc, len(result.chunks), f"POST {path}")
                if not (keep_cut and isinstance(verdict, ServerDid)):
                    raise verdict from None
                result.cut = str(verdict)
        self.exchanges.append(Exchange("POST", path, result.status, result.headers,
                                       "\n".join(result.raw)))
        return result

    def open_stream_and_hang_up(self, path: str, json_body: dict[str, Any]) -> str:
        """Start a stream, read its first event, then close the connection (a client leaving)."""
        session = requests.Session()  # its own connection, so closing it really hangs up
        headers = dict(self.headers, **{"Content-Type": "application/json"})
        try:
            try:
                reply = session.post(self.url(path), data=json.dumps(json_body),
                                     headers=headers, stream=True, timeout=self.timeout_s)
                first = ""
                for line in reply.iter_lines(decode_unicode=True):
                    if line and line.startswith("data:"):
                        first = line
                        break
            except requests.RequestException as exc:
                raise _verdict(exc, f"POST {path}") from None
            if reply.status_code != 200 or not first:
                raise AssertionError(f"expected a stream to start, got HTTP {reply.status_code}")
            reply.raw.close()
            reply.close()
            return first
        finally:
            session.close()

    def close(self) -> None:
        self.session.close()


def _verdict(exc: BaseException, doing: str) -> BaseException:
    """What the server did, for an exception of requests (itself when it is something else)."""
    return verdict_for(exc, doing) or exc


def stream_cut(exc: BaseException, chunks: int, doing: str) -> ServerDid | BaseException:
    """A stream that broke off after ``chunks`` events, in product words."""
    verdict = verdict_for(exc, doing)
    if verdict is None:
        return exc
    if isinstance(verdict, (StreamCut, ConnectionClosed)):
        return StreamCut(f"the stream was cut after {chunks} chunks without `data: [DONE]` "
                         f"({doing})", chunks)
    return verdict


def _recording(lines: Iterator[str], sink: list[str]) -> Iterator[str]:
    """The lines, each non-blank one also kept in ``sink`` (the stream as the report shows)."""
    for line in lines:
        if line:
            sink.append(line)
        yield line
