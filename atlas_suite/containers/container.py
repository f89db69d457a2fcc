"""One server container's lifecycle: started from a spec, polled until healthy, stopped, killed,
started again, removed; and the same container as the steps' server (``ContainerServer``).

    server = run_server("atlas-server-cpu:latest", memory_dir=tmp_path)
    server.wait_healthy(120)
    requests.get(f"{server.base_url}/v1/atlas/status")
    assert server.stop(30) == 0
    server.remove()
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import requests

from atlas_suite import routes
from atlas_suite.containers.engine import DEFAULT_IMAGE, ContainerError, client, is_podman
from atlas_suite.containers.spec import (
    CONTAINER_MEMORY_DIR,
    CONTAINER_PORT,
    CONTAINER_TMPFS_DIR,
    ContainerConfig,
    make_spec,
)
from atlas_suite.server_protocol import Server
from atlas_suite.targets import Unsupported

HEALTH_POLL_S = 0.25


def run_server(image: str = DEFAULT_IMAGE, *, args: Sequence[str] | None = None,
               memory_dir: Path | str | None = None, tmpfs_size: str | None = None,
               mem_limit: str | None = None, env: Mapping[str, str] | None = None,
               port: int | None = None, name: str | None = None,
               labels: Mapping[str, str] | None = None, gpu: bool = False) -> ServerContainer:
    """Start ``image`` detached, its port 8080 published on 127.0.0.1:``port`` (None: any).

    ``args``: llama-server style arguments (default ``default_server_args()``; ``[]``: the
    image's own CMD). ``memory_dir``: a host folder bind-mounted at /atlas-memory.
    ``tmpfs_size`` (e.g. "200k"): instead, the memory folder is a tmpfs of that size, for "disk
    full". ``mem_limit``: e.g. "1g". ``labels``: added to ``atlas-suite=1``. ``gpu``: every GPU.
    """
    spec = make_spec(image, args=args, memory_dir=memory_dir, tmpfs_size=tmpfs_size,
                     mem_limit=mem_limit, env=env, port=port, name=name, labels=labels, gpu=gpu)
    if spec.memory_dir is not None:
        spec.memory_dir.mkdir(parents=True, exist_ok=True)
        if spec.user is None:  # host root: let the image's user (uid 10001) write there
            spec.memory_dir.chmod(0o777)
    container = client().containers.run(spec.image, **spec.run_kwargs(podman=is_podman()))
    return ServerContainer(container)


class ServerContainer:
    """A running server container: its URL, health, logs, and how it ends."""

    def __init__(self, container: Any) -> None:
        self.container = container
        self.base_url = f"http://127.0.0.1:{self._published_port()}"

    @property
    def name(self) -> str:
        return str(self.container.name)

    def _published_port(self) -> int:
        deadline = time.monotonic() + 10
        while True:
            self.container.reload()
            bindings = (self.container.attrs.get("NetworkSettings", {}).get("Ports") or {})
            published = bindings.get(f"{CONTAINER_PORT}/tcp") or []
            if published and published[0].get("HostPort"):
                return int(published[0]["HostPort"])
            if time.monotonic() > deadline or self.container.status == "exited":
                raise ContainerError(f"{self.name}: port {CONTAINER_PORT} was not published\n"
                                     + self.logs_tail())
            time.sleep(HEALTH_POLL_S)

    @property
    def status(self) -> str:
        """The engine's word for it: created, running, exited..."""
        self.container.reload()
        return str(self.container.status)

    @property
    def exit_code(self) -> int | None:
        """The exit code once it has stopped, else None."""
        self.container.reload()
        state = self.container.attrs.get("State", {})
        if state.get("Running") or self.container.status in ("created", "running"):
            return None
        return int(state.get("ExitCode", -1))

    def logs_tail(self, lines: int = 50) -> str:
        """The last ``lines`` lines of its stdout and stderr."""
        try:
            return self.container.logs(tail=lines).decode("utf-8", "replace")
        except Exception as exc:  # a removed container has no logs; say so, do not raise
            return f"(no logs: {exc})"

    def wait_healthy(self, timeout_s: float = 120.0) -> float:
        """Poll GET /health until 200; the seconds it took. Raises ContainerError with the last
        answer and the log tail when the container exits or ``timeout_s`` passes."""
        start = time.monotonic()
        answer = "no answer yet"
        while time.monotonic() - start < timeout_s:
            if self.status not in ("created", "running"):
                raise self._failure(f"exited ({self.exit_code}) while starting", answer)
            try:
                reply = requests.get(f"{self.base_url}{routes.HEALTH}", timeout=5)
                answer = f"HTTP {reply.status_code} {reply.text[:300]}"
                if reply.status_code == 200:
                    return time.monotonic() - start
            except requests.RequestException as exc:
                answer = f"{type(exc).__name__}: {exc}"
            time.sleep(HEALTH_POLL_S)
        raise self._failure(f"was not healthy after {timeout_s:.0f} s", answer)

    def _failure(self, what: str, answer: str) -> ContainerError:
        return ContainerError(f"container {self.name} {what}; last /health answer: {answer}\n"
                              f"--- last log lines ---\n{self.logs_tail()}")

    def stop(self, timeout_s: float = 30.0) -> int:
        """SIGTERM, SIGKILL after ``timeout_s``; the exit code (0 after a graceful shutdown)."""
        self.container.stop(timeout=int(timeout_s))
        result = self.container.wait(timeout=timeout_s + 30)
        return int(result.get("StatusCode", -1))

    def kill(self, signal: str = "SIGKILL") -> None:
        """Send ``signal`` at once (default SIGKILL: a crash, no shutdown)."""
        self.container.kill(signal=signal)

    def wait_exit(self, timeout_s: float = 60.0) -> int:
        """Wait until it has stopped; its exit code (137 after SIGKILL)."""
        return int(self.container.wait(timeout=timeout_s).get("StatusCode", -1))

    def start(self) -> None:
        """Start the stopped container again (same file system, volumes and configuration);
        its URL is read again, since an engine may publish it on another host port."""
        self.container.start()
        self.base_url = f"http://127.0.0.1:{self._published_port()}"

    @property
    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer ended (a process of) it."""
        self.container.reload()
        return bool(self.container.attrs.get("State", {}).get("OOMKilled"))

    @property
    def memory_limit(self) -> int:
        """Its memory limit in bytes as the engine applied it (0: none)."""
        self.container.reload()
        return int(self.container.attrs.get("HostConfig", {}).get("Memory") or 0)

    def exec(self, command: Sequence[str]) -> tuple[int, bytes]:
        """Run ``command`` inside it as its user; (exit code, stdout and stderr)."""
        result = self.container.exec_run(list(command), stdout=True, stderr=True)
        return int(result.exit_code), bytes(result.output or b"")

    def read_file(self, path: str) -> bytes | None:
        """The bytes of a file inside it (a tmpfs too: read by ``cat`` inside, where the engine's
        archive API cannot see); None when there is no such file."""
        code, output = self.container.exec_run(["cat", path], stdout=True, stderr=False)
        return bytes(output or b"") if code == 0 else None

    def logs_text(self) -> str:
        """Everything it printed so far (stdout and stderr)."""
        try:
            return self.container.logs().decode("utf-8", "replace")
        except Exception as exc:  # removed: say so
            return f"(no logs: {exc})"

    def remove(self) -> None:
        """Remove it (forced) with its anonymous volumes."""
        self.container.remove(force=True, v=True)

    def __enter__(self) -> ServerContainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def memory_files(folder: Path) -> Iterable[Path]:
    """The memory files a bind-mounted server wrote, as the host sees them."""
    return sorted(Path(folder).glob("*.atlas"))


class ContainerServer(Server):
    """A server container as the generic steps see a server (the ``Server`` protocol).

    ``use_server(context, container)`` makes every HTTP, JSON and memory step talk to it; the
    memory folder is the bind-mounted host folder (none with a tmpfs). It adds what only a
    container can do: kill, start again, read a file inside it, its limits.
    """

    started_by_suite = True
    process = None  # no host process: require_process() says so
    api_key = None  # the suite started it: scenarios add the keys they need

    def __init__(self, config: ContainerConfig, handle: ServerContainer,
                 memory_dir: Path | None, root_dir: Path | None = None, number: int = 0) -> None:
        self.config = config
        self.handle = handle
        self.memory_dir = memory_dir
        self.root_dir = root_dir  # the suite's folder around memory_dir
        self.number = number
        self.cache: dict[str, object] = {}
        self.last_exit_code: int | None = None
        self.last_stop_log_tail = ""
        self.healthy_after_s: float | None = None
        self.removed = False

    @property
    def base_url(self) -> str:
        return self.handle.base_url

    @property
    def name(self) -> str:
        return self.handle.name

    @property
    def container_memory_dir(self) -> str:
        """The memory folder as the server inside sees it."""
        return CONTAINER_TMPFS_DIR if self.config.tmpfs_size else CONTAINER_MEMORY_DIR

    def alive(self) -> bool:
        """Whether the container is running."""
        if self.removed:
            return False
        try:
            return self.handle.status == "running"
        except Exception:  # removed behind our back, or the engine went away
            return False

    def exists(self) -> bool:
        """Whether the engine still has the container (running or not)."""
        import docker

        try:
            self.handle.container.reload()
        except docker.errors.NotFound:
            return False
        return True

    def log_tail(self, n: int = 60) -> str:
        return self.handle.logs_tail(n)

    def log_text(self) -> str:
        return self.handle.logs_text()

    def require_memory_dir(self) -> Path:
        if self.memory_dir is None:
            raise Unsupported(f"the memory folder of {self.name} is a tmpfs inside the container, "
                              "not a host folder")
        return self.memory_dir

    def require_process(self) -> Any:
        raise Unsupported("a container has no host process; use the container steps")

    # -- lifecycle --------------------------------------------------------------------------
    def stop(self, timeout_s: float = 60.0) -> int:
        """``docker stop``: SIGTERM, SIGKILL after ``timeout_s``; the exit code, also kept."""
        self.last_exit_code = self.handle.stop(timeout_s)
        self.last_stop_log_tail = self.handle.logs_tail(30)
        return self.last_exit_code

    def kill(self) -> int:
        """``docker kill``: SIGKILL, no shutdown; the exit code, also kept."""
        self.handle.kill("SIGKILL")
        self.last_exit_code = self.handle.wait_exit()
        self.last_stop_log_tail = self.handle.logs_tail(30)
        return self.last_exit_code

    def start_again(self, timeout_s: float = 120.0) -> float:
        """``docker start`` the stopped container; the seconds until /health answered 200."""
        self.handle.start()
        self.cache.clear()
        self.healthy_after_s = self.handle.wait_healthy(timeout_s)
        return self.healthy_after_s

    @property
    def oom_killed(self) -> bool:
        return self.handle.oom_killed

    @property
    def memory_limit(self) -> int:
        return self.handle.memory_limit

    # -- inside -----------------------------------------------------------------------------
    def read_memory_file(self, name: str) -> bytes | None:
        """A memory file's bytes as the server inside sees them (None: no such file)."""
        return self.handle.read_file(f"{self.container_memory_dir}/{name}")

    def run_healthcheck(self) -> tuple[int, str]:
        """The image's own HEALTHCHECK command, run inside; (exit code, what it printed)."""
        code, output = self.handle.exec(["/usr/local/bin/atlas-entrypoint", "healthcheck"])
        return code, output.decode("utf-8", "replace")

    def user_id(self) -> int:
        """The uid processes inside run as."""
        code, output = self.handle.exec(["id", "-u"])
        if code != 0:
            raise ContainerError(f"`id -u` failed in {self.name}: {output[:300]!r}")
        return int(output.decode().strip())

