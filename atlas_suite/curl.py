"""The curl binary against the server: what an operator types, for a table of routes.

:func:`send` runs ``curl`` once (method, path, optional JSON body) and answers a
:class:`CurlAnswer`: the status, the headers of the final response and the body, parsed as JSON
on request. :func:`send_all` does it for a table of :class:`Route` rows. Headers (an API key
among them) reach curl through a private temporary file (``-H @file``), never the command line,
so a key never shows in the process list. Without a curl binary, :func:`missing` says why, and
:func:`send` raises :class:`CurlUnavailable` (an :class:`~atlas_suite.targets.Unsupported`: the
scenario skips with the reason).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_suite.targets import Unsupported
from atlas_suite.verdicts import ConnectionProblem

STATUS_MARK = "\n%{http_code}"  # -w: the status on a line of its own after the body
# curl's exit codes for a server that gave no (complete) answer, in product words
CURL_EXITS = {
    7: "nothing accepted the connection: the server is not listening",
    28: "the server did not answer in time",
    52: "the server closed the connection without answering",
    56: "the server broke the connection while answering",
    18: "the server cut the answer short",
}


class CurlUnavailable(Unsupported):
    """No curl binary on this machine: the row skips with the reason."""


class CurlFailed(ConnectionProblem):
    """curl itself failed (connection refused, timeout): no HTTP answer at all."""


@dataclass(frozen=True)
class Route:
    """One row of a route table: method, path and an optional JSON body."""

    method: str
    path: str
    body: Any = None  # None: no body at all


@dataclass
class CurlAnswer:
    """What curl received."""

    method: str
    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            raise AssertionError(f"curl {self.method} {self.path}: expected a JSON body, got "
                                 f"HTTP {self.status} {self.text[:600]!r}") from None

    def header(self, name: str) -> str | None:
        return {k.lower(): v for k, v in self.headers.items()}.get(name.lower())


def missing() -> str | None:
    """None when a curl binary is on PATH, else why not (a skip reason)."""
    return None if shutil.which("curl") else "the curl binary is not installed (not on PATH)"


def _final_headers(raw: str) -> dict[str, str]:
    """The header block of the last response in a ``-D`` dump (after any 100 Continue)."""
    blocks = [b for b in raw.replace("\r\n", "\n").split("\n\n") if b.strip()]
    headers: dict[str, str] = {}
    for line in (blocks[-1].splitlines()[1:] if blocks else []):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip()] = value.strip()
    return headers


def send(base_url: str, method: str, path: str, body: Any = None, *,
         headers: Mapping[str, str] | None = None, timeout_s: float = 120) -> CurlAnswer:
    """``curl -X METHOD base_url/path`` with ``body`` as JSON (sent on stdin), if any."""
    reason = missing()
    if reason is not None:
        raise CurlUnavailable(reason)
    url = f"{base_url.rstrip('/')}/{path.lstrip('/')}"
    with tempfile.TemporaryDirectory(prefix="atlas-curl-") as scratch:
        header_file = Path(scratch) / "request-headers"
        dump = Path(scratch) / "response-headers"
        lines = [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body is not None:
            lines.append("Content-Type: application/json")
        header_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.chmod(header_file, 0o600)
        argv = ["curl", "--silent", "--show-error", "-X", method,
                "--max-time", str(int(timeout_s)), "-D", str(dump), "-w", STATUS_MARK,
                "-H", f"@{header_file}"]
        if body is not None:
            argv += ["--data-binary", "@-"]
        argv.append(url)
        try:
            done = subprocess.run(argv, input=json.dumps(body) if body is not None else None,
                                  capture_output=True, text=True, timeout=timeout_s + 10,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise CurlFailed(f"the server did not answer in time (curl {method} {url} ran "
                             f"past {timeout_s:.0f} s)") from None
        if done.returncode != 0:
            what = CURL_EXITS.get(done.returncode, "curl got no HTTP answer")
            raise CurlFailed(f"{what} (curl {method} {url} exited {done.returncode}: "
                             f"{done.stderr.strip()[-300:]})")
        text, _, status = done.stdout.rpartition("\n")
        raw_headers = dump.read_text(encoding="utf-8", errors="replace") if dump.exists() else ""
    return CurlAnswer(method, path, int(status), _final_headers(raw_headers), text)


def send_all(base_url: str, routes: Iterable[Route], *,
             headers: Mapping[str, str] | None = None, timeout_s: float = 120
             ) -> list[CurlAnswer]:
    """:func:`send` for every row of a route table, in order."""
    return [send(base_url, r.method, r.path, r.body, headers=headers, timeout_s=timeout_s)
            for r in routes]
