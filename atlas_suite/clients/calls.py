"""What a client call is, how it turned out, and which clients can run on this machine."""

from __future__ import annotations

import importlib.metadata
import json
import os
from dataclasses import dataclass, field
from typing import Any

import openai

from atlas_suite import openai_types, probes
from atlas_suite.targets import Unsupported

NO_KEY = "sk-no-key-required"  # the clients insist on some key; keyless servers ignore it
CLIENTS = ("python", "python-async", "node", "go", "langchain", "langchain-llm")
KINDS = ("chat", "text")
REQUIRE_ALL_ENV = "ATLAS_REQUIRE_ALL_CLIENTS"  # "1" in CI: a missing client fails, never skips


class ClientUnavailable(Unsupported):
    """The client cannot run on this machine (runtime or package missing): the row skips."""


class ClientFailure(AssertionError):
    """The client failed as a program (connection refused, probe crash), not as an API call."""


@dataclass(frozen=True)
class ClientCall:
    """One request, as any of the clients sends it."""

    base_url: str  # the server's root, without /v1
    model: str
    kind: str = "chat"  # "chat" (/v1/chat/completions) or "text" (/v1/completions)
    prompt: str = "Say hello to the test suite."
    max_tokens: int = 16
    stream: bool = False
    atlas: dict[str, Any] | None = None  # the ATLAS extension, sent the client's own way
    api_key: str | None = None
    timeout_s: float = 120.0
    stop: tuple[str, ...] = ()  # stop sequences
    include_usage: bool = False  # streams: stream_options.include_usage
    tools: tuple[dict[str, Any], ...] = ()  # OpenAI function tools (chat)
    tool_choice: str | None = None  # "auto", "required", "none"


@dataclass
class ClientOutcome:
    """What a client call produced, the same shape for every client."""

    client: str
    client_version: str = ""
    text: str = ""
    atlas: dict[str, Any] | None = None
    chunks: int = 0  # stream chunks the client yielded (0 when not streamed)
    error_type: str | None = None  # the client's own error class, e.g. BadRequestError
    status: int | None = None
    message: str = ""  # the error's text as the client shows it to the application
    param: str | None = None
    error_body: dict[str, Any] | None = None  # the server's error object, as the client kept it
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None  # the token usage (streamed: from the chunk carrying it)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # {"name", "arguments"}
    problems: list[str] = field(default_factory=list)  # what OpenAI's types refuse in the answer

    def check_types(self, kind: str, stream: bool, documents: list[Any]) -> None:
        """Validate the answer (or every chunk) as it arrived with the official SDK's types."""
        name = ("chat_completion" if kind == "chat" else "completion") + \
            ("_chunk" if stream else "")
        for number, document in enumerate(documents, start=1):
            where = f"chunk {number}" if stream else "the answer"
            self.problems += [f"{where}: {line}" for line in openai_types.errors(name, document)]

    @property
    def ok(self) -> bool:
        return self.error_type is None

    def describe(self) -> str:
        if self.ok:
            return f"{self.client} answered {self.text!r} (atlas: {self.atlas})"
        return (f"{self.client} raised {self.error_type} (status {self.status}): "
                f"{self.message[:400]}")


def parse_name(text: str) -> str:
    if text not in CLIENTS:
        raise ValueError(f"unknown client {text!r}; known: {', '.join(CLIENTS)}")
    return text


# -- availability ---------------------------------------------------------------------------
def _langchain_missing() -> str | None:
    try:
        import langchain_openai  # noqa: F401
    except ImportError as exc:
        return f"langchain-openai is not installed ({exc}): run make setup"
    return None


def unavailable(client: str) -> str | None:
    """None when ``client`` can run here, else why not (a skip reason)."""
    parse_name(client)
    if client in ("node", "go"):
        return probes.available(client)
    if client.startswith("langchain"):
        return _langchain_missing()
    return None


def require(client: str) -> None:
    """Raise :class:`ClientUnavailable` (or, in CI, a failure) when ``client`` cannot run."""
    reason = unavailable(client)
    if reason is None:
        return
    if os.environ.get(REQUIRE_ALL_ENV) == "1":
        raise AssertionError(f"the {client} client cannot run, and {REQUIRE_ALL_ENV}=1 requires "
                             f"every client: {reason}")
    raise ClientUnavailable(f"the {client} client cannot run here: {reason}")


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    """The client library behind each client name, with the version this machine has."""
    node_pkg = probes.NODE_DIR / "node_modules" / "openai" / "package.json"
    node = (json.loads(node_pkg.read_text())["version"] if node_pkg.is_file()
            else "not installed")
    go_mod = (probes.GO_DIR / "go.mod").read_text()
    go = next((line.split()[-1] for line in go_mod.splitlines()
               if "github.com/openai/openai-go" in line), "unknown")
    python = f"openai {openai.__version__}"
    langchain = (f"langchain-openai {package_version('langchain-openai')}, langchain-core "
                 f"{package_version('langchain-core')}, on {python}")
    return {"python": python, "python-async": python, "node": f"npm openai {node}",
            "go": f"github.com/openai/openai-go {go}", "langchain": langchain,
            "langchain-llm": langchain}
