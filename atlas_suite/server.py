"""Server processes, the ``Server`` they are to the steps (``ManagedServer``), and the pool that
shares one server per configuration across scenarios."""

from __future__ import annotations

import atexit
import collections
import contextlib
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests
from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from atlas_suite import routes
from atlas_suite.config import ServerConfig
from atlas_suite.server_protocol import Server
from atlas_suite.targets import ModelPaths, TargetSettings, Unsupported, server_argv
from atlas_suite.verdicts import (
    NeverHealthy,
    StartFailed,
    StartRefusedFlag,
    start_failure,
    verdict_for,
)

LOG_TAIL_LINES = 400

ServerStartError = StartFailed  # the older name: the server did not become healthy


class NotHealthy(Exception):
    def __init__(self, what: str, answer: str) -> None:
        super().__init__(f"{what}; last /health answer: {answer}")
        self.what = what
        self.answer = answer


def wait_healthy(base_url: str, timeout_s: float, alive: Callable[[], bool],
                 history: list[tuple[int, str]] | None = None) -> None:
    """Poll ``GET /health`` until it answers 200, the deadline passes or ``alive()`` is false.

    ``history``, when given, receives every HTTP answer seen (status, body): what the server
    said while it was loading.
    """
    seen = {"answer": "no answer yet"}

    def healthy() -> bool:
        if not alive():
            raise NotHealthy("exited while starting", seen["answer"])
        try:
            reply = requests.get(f"{base_url}{routes.HEALTH}", timeout=5)
        except requests.RequestException as exc:
            verdict = verdict_for(exc, f"GET {routes.HEALTH}")
            seen["answer"] = verdict.verdict if verdict else f"{type(exc).__name__}: {exc}"
            return False
        seen["answer"] = f"HTTP {reply.status_code} {reply.text[:300]}"
        if history is not None:
            history.append((reply.status_code, reply.text[:2000]))
        return reply.status_code == 200

    retrying = Retrying(stop=stop_after_delay(timeout_s), wait=wait_fixed(0.2),
                        retry=retry_if_result(lambda ok: not ok))
    try:
        retrying(healthy)
    except RetryError:
        raise NotHealthy(f"was not healthy after {timeout_s:.0f} s", seen["answer"]) from None


def redact(argv: list[str]) -> list[str]:
    """The command line with API keys hidden (the suite's own log lines must not leak them)."""
    return ["***" if i and argv[i - 1] == "--api-key" else arg for i, arg in enumerate(argv)]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (the kernel picks it when binding port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _child_setup(limit_kb: int | None) -> Callable[[], None]:
    """A preexec_fn: SIGINT back to its default (a suite started in the background hands its
    children SIGINT ignored, which would hide how a server really answers Ctrl-C), then the
    file-size cap, if any."""
    cap = _limit_file_size(limit_kb)

    def apply() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if cap is not None:
            cap()

    return apply


def _limit_file_size(limit_kb: int | None) -> Callable[[], None] | None:
    """A preexec_fn that caps file writes (EFBIG beyond it): a full disk without privileges."""
    if limit_kb is None:
        return None

    def apply() -> None:
        # an ignored SIGXFSZ makes write() fail with EFBIG instead of killing the process;
        # ignored dispositions survive exec, so this also works for C++ servers
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        limit = limit_kb * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


class LogPump:
    """Drains a pipe into a ring buffer and a log file (a pipe, so RLIMIT_FSIZE never hits it)."""

    def __init__(self, stream, log_path: Path) -> None:  # noqa: ANN001 - a binary pipe
        self.lines: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - closed by the thread
        self._thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._thread.start()

    def _run(self, stream) -> None:  # noqa: ANN001
        with self._file, stream:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                self.lines.append(line)
                self._file.write(line + "\n")
                self._file.flush()

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)

    def tail(self, n: int = 60) -> str:
        return "\n".join(list(self.lines)[-n:])


class ServerProcess:
    """One server process: started, polled until healthy, stopped with SIGTERM then SIGKILL."""

    def __init__(self, argv: list[str], base_url: str, log_path: Path,
                 fsize_limit_kb: int | None = None, cwd: Path | None = None) -> None:
        self.argv = argv
        self.cwd = cwd
        self.base_url = base_url
        self.log_path = log_path
        self.fsize_limit_kb = fsize_limit_kb
        self.popen: subprocess.Popen[bytes] | None = None
        self.pump: LogPump | None = None
        self.startup_answers: list[tuple[int, str]] = []  # /health answers before it was ready

    def start(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(f"# atlas-suite started: {' '.join(redact(self.argv))}\n")
        self.popen = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=env, start_new_session=True,
            preexec_fn=_child_setup(self.fsize_limit_kb), cwd=self.cwd,
        )
        self.pump = LogPump(self.popen.stdout, self.log_path)

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    @property
    def exit_code(self) -> int | None:
        return self.popen.poll() if self.popen else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait_ready(self, timeout_s: float) -> None:
        """Poll GET /health until 200; on failure say what was seen and show the log tail."""
        try:
            wait_healthy(self.base_url, timeout_s, self.alive, self.startup_answers)
        except NotHealthy as exc:
            raise self._failure(exc.what, exc.answer) from None

    def _failure(self, what: str, answer: str) -> StartFailed:
        if not self.alive() and self.pump:
            self.pump.join(2)  # the last words of a process that exited are still in the pipe
        return start_failure(self.argv, None if self.alive() else self.exit_code,
                             self.log_tail(), what=what, answer=answer,
                             command=" ".join(redact(self.argv)))

    def terminate(self) -> None:
        """Send SIGTERM (a graceful stop request) and return at once."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)

    def stop(self, grace_s: float = 30.0) -> int | None:
        """SIGTERM, a bounded wait, then SIGKILL; returns the exit code (None if never started)."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(grace_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
        if self.pump:
            self.pump.join()
        return self.popen.returncode

    def log_tail(self, n: int = 60) -> str:
        return self.pump.tail(n) if self.pump else ""

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


class ManagedServer(Server):
    """A server process the suite started, or a url target: the ``Server`` steps hold."""

    def __init__(self, config: ServerConfig, base_url: str, memory_dir: Path | None,
                 process: ServerProcess | None = None, root_dir: Path | None = None,
                 api_key: str | None = None) -> None:
        self.config = config
        self.base_url = base_url
        self.memory_dir = memory_dir
        self.process = process
        self.root_dir = root_dir  # suite-owned folder around memory_dir (path traversal checks)
        self.api_key = api_key  # a url target's own key (-D api_key); None for ours
        self.last_exit_code: int | None = None
        self.last_stop_log_tail = ""  # what the previous process printed last (restarts)
        self.cache: dict[str, object] = {}  # per-server facts steps look up once (model id)

    @property
    def started_by_suite(self) -> bool:
        return self.process is not None

    def alive(self) -> bool:
        return self.process.alive() if self.process else True

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM, SIGKILL after ``timeout_s``; the exit code and the log tail are kept."""
        process = self.require_process()
        self.last_exit_code = process.stop(timeout_s)
        self.last_stop_log_tail = process.log_tail(30)
        return self.last_exit_code

    def require_memory_dir(self) -> Path:
        if self.memory_dir is None:
            raise Unsupported("the server's memory folder is not reachable "
                              "(give it with -D memory_dir=PATH)")
        return self.memory_dir

    def require_process(self) -> ServerProcess:
        if self.process is None:
            raise Unsupported("the suite did not start this server (target=url), so it cannot "
                              "read its log, stop or restart it")
        return self.process

    def log_text(self) -> str:
        return self.require_process().log_text()

    def log_tail(self, n: int = 60) -> str:
        return self.process.log_tail(n) if self.process else "(no log: target=url)"


class ServerPool:
    """One server per distinct configuration, shared by scenarios, stopped at the end."""

    def __init__(self, settings: TargetSettings) -> None:
        self.settings = settings
        self.models = ModelPaths(settings)
        self._servers: dict[ServerConfig, ManagedServer] = {}
        self._refused: dict[ServerConfig, StartRefusedFlag] = {}  # flags it will never accept
        self._starts = 0
        atexit.register(self.stop_all)  # a safety net if the run dies before after_all

    @property
    def default_config(self) -> ServerConfig:
        return self.settings.default_config()

    def get(self, config: ServerConfig | None = None) -> ManagedServer:
        """The running server of ``config``, started on first use (or again if it died)."""
        config = config or self.default_config
        server = self._servers.get(config)
        if server is not None and server.alive():
            return server
        if server is not None:  # it died in an earlier scenario: start a new one
            self._stop(server)
        if config in self._refused:  # a refused flag stays refused: do not start it again
            raise self._refused[config]
        try:
            server = self._start(config)
        except StartRefusedFlag as refused:
            self._refused[config] = refused
            raise
        self._servers[config] = server
        return server

    def fresh(self, config: ServerConfig) -> ManagedServer:
        """A newly started server of ``config`` (an existing one is stopped first)."""
        existing = self._servers.pop(config, None)
        if existing is not None:
            self._stop(existing)
        return self.get(config)

    def retire(self, server: ManagedServer) -> bool:
        """Stop a server the suite started and forget it, so that the next scenario of its
        configuration gets a new one (a server that left a request unanswered may hold its
        slots forever, and every later scenario would fail for a reason not its own).
        Answers whether it was retired (a server the suite did not start is left alone)."""
        if not server.started_by_suite:
            return False
        for config, known in list(self._servers.items()):
            if known is server:
                del self._servers[config]
                self._stop(server)
                return True
        return False

    def restart(self, config: ServerConfig) -> ManagedServer:
        """Stop the server of ``config`` gracefully and start it again on the same memory folder."""
        server = self.get(config)
        server.stop()
        port = free_port(self.settings.host)
        server.base_url = f"http://{self.settings.host}:{port}"
        server.process = self._launch(config, port, server.memory_dir)
        server.cache.clear()
        return server

    def stop_all(self) -> dict[str, int | None]:
        """Stop every server; answers each configuration's exit code."""
        codes = {config.label(): self._stop(server) for config, server in self._servers.items()
                 if server.started_by_suite}
        self._servers.clear()
        self.models.cleanup()
        return codes

    def running(self) -> list[ManagedServer]:
        return list(self._servers.values())

    def _start(self, config: ServerConfig) -> ManagedServer:
        if not self.settings.can_start_servers():
            return self._external(config)
        root = Path(tempfile.mkdtemp(prefix="atlas-suite-"))
        memory_dir = root / "memory"
        memory_dir.mkdir()
        port = free_port(self.settings.host)
        process = self._launch(config, port, memory_dir)
        return ManagedServer(config, f"http://{self.settings.host}:{port}", memory_dir,
                             process, root)

    def _launch(self, config: ServerConfig, port: int, memory_dir: Path | None) -> ServerProcess:
        assert memory_dir is not None
        argv = server_argv(self.settings, config, port=port,
                           model=self.models.path(config.model), memory_dir=memory_dir)
        if config.api_key_file:  # keys the server must read from a file, not its command line
            key_file = memory_dir.parent / "api-keys.txt"
            # one key a line, the last with no newline after it, as hand-written files often end
            key_file.write_text("\n".join(config.api_key_file))
            argv += ["--api-key-file", str(key_file)]
        self._starts += 1
        name = re.sub(r"[^A-Za-z0-9_.=-]", "-", config.label())[:80]
        log_path = self.settings.log_dir / f"server-{self._starts:02d}-{name}-{port}.log"
        # the reference server runs in its own scratch folder, so whatever it writes by a
        # relative path stays there; a command template may rely on the suite's folder
        cwd = memory_dir.parent if self.settings.target == "reference" else None
        process = ServerProcess(argv, f"http://{self.settings.host}:{port}", log_path,
                                config.fsize_limit_kb, cwd)
        process.start()
        started = time.monotonic()
        try:
            process.wait_ready(self.settings.startup_timeout_s)
        except (ServerStartError, KeyboardInterrupt):  # an interrupted start leaves no server
            process.stop(grace_s=5)
            raise
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"# atlas-suite: healthy after {time.monotonic() - started:.1f} s\n")
        return process

    def _external(self, config: ServerConfig) -> ManagedServer:
        if config != self.default_config:
            raise Unsupported(
                "the url target is one running server with its own configuration; this "
                f"scenario needs another one ({config.label()})")
        assert self.settings.base_url is not None
        try:
            wait_healthy(self.settings.base_url, self.settings.startup_timeout_s, lambda: True)
        except NotHealthy as exc:
            raise NeverHealthy(f"the server at {self.settings.base_url} {exc.what}; the last "
                               f"/health answer was: {exc.answer}") from None
        return ManagedServer(config, self.settings.base_url, self.settings.memory_dir,
                             api_key=self.settings.api_key)

    def _stop(self, server: ManagedServer) -> int | None:
        code = server.process.stop() if server.process else None
        if server.root_dir is not None:
            shutil.rmtree(server.root_dir, ignore_errors=True)
        return code
