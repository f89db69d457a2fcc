"""Driving the official OpenAI Node.js and Go clients through tiny probe programs.

The suite stays Python; the two other official clients are exercised by ``clients/node/probe.mjs``
(npm ``openai``, pinned in ``clients/node/package.json``) and ``clients/go/main.go``
(``github.com/openai/openai-go/v3``, pinned in ``clients/go/go.mod``). Both speak one protocol:

stdin, one JSON object::

    {"base_url": "http://127.0.0.1:PORT/v1", "api_key": "k" | null,
     "operation": "completion" | "completion_stream" | "chat" | "chat_stream" | "models",
     "model": "any" | "" (empty: the first model /v1/models lists), "prompt": "...",
     "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8,
     "temperature": 0 (optional, default 0), "timeout_s": 120 (optional),
     "atlas": {"enabled": true, ...} | null,
     "stop": ["word"] (optional), "include_usage": true (streams, optional),
     "tools": [{"type": "function", "function": {"name", "description", "parameters"}}]
     (chat, optional), "tool_choice": "required" | "auto" | null}

stdout, one JSON object::

    {"ok": true, "client": "openai-node" | "openai-go", "client_version": "x.y.z",
     "text": "...", "atlas": {...} | null, "chunks": 12 (streams only),
     "finish_reason": "length", "model": "...", "models": ["..."] (models only),
     "usage": {"prompt_tokens", "completion_tokens", "total_tokens"} | null (as the client
     typed it; streamed: from the chunk that carried it),
     "tool_calls": [{"name": "...", "arguments": "{...}"}] (chat, not streamed),
     "raw": [the answer, or every chunk, as the JSON the client received]}

``raw`` is what the suite checks with the official Python SDK's types
(:mod:`atlas_suite.openai_types`): what the Node.js and Go clients received must be what
OpenAI's own Python client accepts too.

or, for an error answer of the server (exit status 0: an API error is a result)::

    {"ok": false, "client": ..., "client_version": ..., "error_type": "BadRequestError",
     "status": 400, "message": "...", "param": "atlas.window_size" | null,
     "type": "invalid_request_error" | null, "error_body": {...the error object...}}

``error_type`` is the client's own error class: Node's ``BadRequestError``,
``AuthenticationError``, ``RateLimitError``, ...; Go's single ``openai.Error`` (its status is in
``status``). ``message`` is the message as the client exposes it: Node prefixes the status
("400 atlas.window_size must be ..."), Go gives the server's message as is.

The probes send the ATLAS extension the client's own way (Node: an extra key in the params
object, which the SDK sends in the body; Go: ``option.WithJSONSet("atlas", ...)``), read the
``atlas`` block back the client's own way (Node: the plain response object; Go:
``JSON.ExtraFields["atlas"]``), disable retries, and pass ``"no-key"`` when ``api_key`` is null.
A probe exits non-zero only for a problem of its own (unreadable request, unknown operation,
connection failure); then :func:`run_probe` raises :class:`ProbeError` quoting its stderr.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "clients" / "node"
GO_DIR = ROOT / "clients" / "go"
NODE_PROBE = NODE_DIR / "probe.mjs"
GO_PROBE = GO_DIR / "build" / "go-probe"
NODE_STAMP = NODE_DIR / "node_modules" / ".atlas-probe-lock.sha256"  # the lock npm ci installed
LANGUAGES = ("node", "go")
SETUP_HINT = "run make setup (or scripts/setup-client-probes.sh)"


class ProbeError(RuntimeError):
    """A probe failed as a program (non-zero exit or unreadable output), not as an API call."""

    def __init__(self, message: str, *, returncode: int | None = None, stderr: str = "",
                 stdout: str = "", result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr
        self.stdout = stdout
        self.result = result  # the error object the probe printed, if it printed one


def _sources_newer_than(target: Path, *sources: Path) -> bool:
    built = target.stat().st_mtime
    return any(s.exists() and s.stat().st_mtime > built for s in sources)


def node_available() -> str | None:
    """None when the Node probe can run, else why not (a skip reason)."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (NODE_DIR / "node_modules" / "openai" / "package.json").is_file():
        return f"clients/node has no node_modules: {SETUP_HINT}"
    return None


def go_available() -> str | None:
    """None when the Go probe is built and current, else why not (a skip reason)."""
    if not GO_PROBE.is_file():
        if shutil.which("go") is None:
            return "go is not installed"
        return f"the Go probe is not built (clients/go/build/go-probe): {SETUP_HINT}"
    if _sources_newer_than(GO_PROBE, GO_DIR / "main.go", GO_DIR / "go.mod", GO_DIR / "go.sum"):
        return f"the Go probe is older than clients/go's sources: {SETUP_HINT}"
    return None


def available(language: str) -> str | None:
    """``node_available()`` or ``go_available()`` by name."""
    if language == "node":
        return node_available()
    if language == "go":
        return go_available()
    raise ValueError(f"unknown probe language {language!r}; known: {', '.join(LANGUAGES)}")


@dataclass
class PrepareOutcome:
    language: str
    ready: bool
    message: str
    seconds: float


def _run_step(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ProbeError(f"{' '.join(cmd)} failed in {cwd} (exit {done.returncode}):\n"
                         f"{(done.stderr or done.stdout).strip()[-4000:]}",
                         returncode=done.returncode, stderr=done.stderr, stdout=done.stdout)


def prepare_node() -> PrepareOutcome:
    """``npm ci`` in clients/node (the lock file decides every version), unless node_modules
    already holds that lock file's packages. Skips without node."""
    start = time.monotonic()
    if shutil.which("node") is None or shutil.which("npm") is None:
        return PrepareOutcome("node", False, "node/npm is not installed: the Node client rows "
                              "will skip", 0.0)
    want = hashlib.sha256((NODE_DIR / "package-lock.json").read_bytes()).hexdigest()
    installed = NODE_STAMP.read_text().strip() if NODE_STAMP.is_file() else ""
    if installed == want and node_available() is None:
        return PrepareOutcome("node", True, "clients/node is up to date", 0.0)
    _run_step(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], NODE_DIR)
    NODE_STAMP.write_text(want + "\n")
    return PrepareOutcome("node", True, "npm ci done", time.monotonic() - start)


def prepare_go() -> PrepareOutcome:
    """``go build -o build/go-probe ./`` in clients/go, honouring go.sum. Skips without go."""
    start = time.monotonic()
    if shutil.which("go") is None:
        return PrepareOutcome("go", False, "go is not installed: the Go client rows will skip",
                              0.0)
    env = dict(os.environ, GOFLAGS="-mod=readonly")
    _run_step(["go", "build", "-o", "build/go-probe", "./"], GO_DIR, env)
    return PrepareOutcome("go", True, "go build done", time.monotonic() - start)


def prepare(languages: tuple[str, ...] = LANGUAGES) -> list[PrepareOutcome]:
    """What ``make setup`` runs: install and build every probe whose toolchain is present."""
    steps = {"node": prepare_node, "go": prepare_go}
    return [steps[lang]() for lang in languages]


def probe_command(language: str) -> list[str]:
    if language == "node":
        return ["node", str(NODE_PROBE)]
    if language == "go":
        return [str(GO_PROBE)]
    raise ValueError(f"unknown probe language {language!r}; known: {', '.join(LANGUAGES)}")


def run_probe_raw(language: str, stdin_text: str, timeout_s: float = 120) -> dict[str, Any]:
    """Run a probe with ``stdin_text`` as its request; the parsed result, or ProbeError."""
    reason = available(language)
    if reason is not None:
        raise ProbeError(f"the {language} probe cannot run: {reason}")
    cmd = probe_command(language)
    try:
        done = subprocess.run(cmd, input=stdin_text, capture_output=True, text=True,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else \
            (exc.stderr or "")
        raise ProbeError(f"the {language} probe ran past {timeout_s} s; stderr:\n{stderr}",
                         stderr=stderr) from exc
    result: dict[str, Any] | None = None
    parse_error = ""
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if lines:
        try:
            parsed = json.loads(lines[-1])
            if isinstance(parsed, dict):
                result = parsed
            else:
                parse_error = "its stdout is JSON but not an object"
        except json.JSONDecodeError as exc:
            parse_error = f"its stdout is not JSON ({exc})"
    else:
        parse_error = "it printed nothing on stdout"
    if done.returncode != 0:
        shown = f"; it printed {json.dumps(result)}" if result else ""
        raise ProbeError(f"the {language} probe exited {done.returncode}{shown}; stderr:\n"
                         f"{done.stderr.strip()[-4000:]}", returncode=done.returncode,
                         stderr=done.stderr, stdout=done.stdout, result=result)
    if result is None:
        raise ProbeError(f"the {language} probe's answer is unusable: {parse_error}; stdout:\n"
                         f"{done.stdout[-2000:]}\nstderr:\n{done.stderr.strip()[-4000:]}",
                         returncode=done.returncode, stderr=done.stderr, stdout=done.stdout)
    return result


def run_probe(language: str, request: dict[str, Any], timeout_s: float = 120) -> dict[str, Any]:
    """Run the ``node`` or ``go`` probe with ``request`` (see the module doc) and parse its answer.

    Returns ``{"ok": true, ...}`` or, for an error answer of the server, ``{"ok": false,
    "error_type", "status", "message", ...}``. Raises :class:`ProbeError` when the probe
    itself fails (non-zero exit, no JSON on stdout), quoting its stderr.
    """
    request = dict(request)
    request.setdefault("timeout_s", max(1.0, float(timeout_s) - 5))
    return run_probe_raw(language, json.dumps(request), timeout_s=timeout_s)
