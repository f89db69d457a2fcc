"""What every step may ask of "the server", whoever runs it.

A scenario's server is a process the suite started or a url target (``ManagedServer``), a
container (``ContainerServer``) or a Kubernetes deployment (``KubeServer``). Each of them
subclasses ``Server`` explicitly, so a member that one of them lacks is a failing unit test
(``tests/suite/test_server_protocol.py``), not an ``AttributeError`` in the middle of a run.
What only one kind can do (a container's ``kill``, a deployment's pods) stays on that class, and
the steps that need it check the kind first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable


class HostProcess(Protocol):
    """What steps use of a server's host process (``atlas_suite.server.ServerProcess``)."""

    startup_answers: list[tuple[int, str]]  # the /health answers seen while it started

    @property
    def pid(self) -> int | None: ...

    @property
    def exit_code(self) -> int | None: ...

    def alive(self) -> bool: ...

    def terminate(self) -> None:
        """SIGTERM, without waiting."""
        ...

    def stop(self, grace_s: float = 30.0) -> int | None:
        """SIGTERM, a bounded wait, SIGKILL; the exit code."""
        ...

    def log_tail(self, n: int = 60) -> str: ...


class Described(Protocol):
    """A server's ``config``: whatever it is, it has a short, file-name-safe label."""

    def label(self) -> str:
        """For log names and messages (keys hidden)."""
        ...


@runtime_checkable
class Server(Protocol):
    """A server as the steps hold it (``context.server``)."""

    config: Described  # how it was started: ServerConfig, ContainerConfig or KubeTarget
    base_url: str  # where requests go: http://127.0.0.1:PORT
    api_key: str | None  # the key requests carry unless a step sets one (a url target's own)
    memory_dir: Path | None  # the memory folder as this machine sees it, when it can
    root_dir: Path | None  # the suite's folder around memory_dir (path traversal checks)
    process: HostProcess | None  # the host process, when the suite started one
    cache: dict[str, object]  # facts steps look up once per server (the model id)
    last_exit_code: int | None  # the exit code of the last stop
    last_stop_log_tail: str  # what the server printed last before that stop
    started_by_suite: bool  # the suite started it (so it may stop, restart and read its log)

    def alive(self) -> bool:
        """Whether it still runs (a url target is taken to)."""
        ...

    def stop(self, timeout_s: float = 60.0) -> int | None:
        """A graceful stop (SIGTERM, then SIGKILL after ``timeout_s``); the exit code, also kept
        in ``last_exit_code``. Raises ``Unsupported`` where the suite cannot stop it."""
        ...

    def log_tail(self, n: int = 60) -> str:
        """The last ``n`` lines it printed (or why there are none)."""
        ...

    def log_text(self) -> str:
        """Everything it printed so far; ``Unsupported`` when the log cannot be read."""
        ...

    def require_memory_dir(self) -> Path:
        """The host memory folder, or ``Unsupported`` saying why there is none."""
        ...

    def require_process(self) -> HostProcess:
        """The host process, or ``Unsupported`` saying why there is none."""
        ...

