"""ATLAS server containers through the ``docker`` SDK: Docker, or podman's compatible API.

``docker.from_env()`` honours ``DOCKER_HOST``; ``scripts/container-engine.sh`` provides one where
no engine runs (it starts podman's service and prints the ``export DOCKER_HOST=...`` line).

    ok, reason = engine_available()
    server = run_server("atlas-server-cpu:latest", memory_dir=tmp_path)
    server.wait_healthy(120)
    requests.get(f"{server.base_url}/v1/atlas/status")
    assert server.stop(30) == 0
    server.remove()

Containers started here carry the label ``atlas-suite=1``; ``remove_suite_containers()`` removes
whatever a crashed run left behind.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import requests

DEFAULT_IMAGE = "atlas-server-cpu:latest"
BASE_IMAGE = "atlas-base:bookworm"
CONTAINER_PORT = 8080
CONTAINER_MODEL = "/models/test-model.gguf"
CONTAINER_MEMORY_DIR = "/atlas-memory"
# A size-limited tmpfs goes beside /atlas-memory, not over it: podman copies the image's
# /atlas-memory (a VOLUME) onto a tmpfs mounted there, root-owned, whatever mode= says, so the
# image's non-root user could not write. The entrypoint reads ATLAS_MEMORY_DIR as its default.
CONTAINER_TMPFS_DIR = "/atlas-memory-tmpfs"
IMAGE_UID = 10001  # the image's non-root user (docker/Dockerfile.cpu)
SUITE_LABEL = "atlas-suite"
HEALTH_POLL_S = 0.25


class ContainerError(RuntimeError):
    """A container did not do what the suite asked; the message carries its log tail."""


def default_server_args(extra: Sequence[str] = (), *, atlas: bool = True) -> list[str]:
    """llama-server style arguments for the image's server: the model, the port, ``extra``."""
    args = ["-m", CONTAINER_MODEL, "--port", str(CONTAINER_PORT)]
    if atlas and "--atlas" not in extra:
        args.append("--atlas")
    return args + list(extra)


# ---- the engine ---------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _client() -> Any:
    import docker  # imported late: unit tests and engine-less runs never need it

    return docker.from_env(timeout=120)


def client() -> Any:
    """The shared ``docker.DockerClient`` (raises ``docker.errors.DockerException`` if none)."""
    return _client()


def engine_available() -> tuple[bool, str]:
    """(True, engine description) when an engine answers; else (False, why not)."""
    try:
        import docker  # noqa: F401
    except ImportError:
        return False, "the docker Python SDK is not installed"
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock (default)")
    try:
        engine = client()
        engine.ping()
        version = engine.version()
    except Exception as exc:  # the SDK raises several unrelated types here
        _client.cache_clear()
        return False, (f"no container engine answers at DOCKER_HOST={host} ({exc}); "
                       "run `eval \"$(scripts/container-engine.sh)\"`")
    name = next((c.get("Name", "") for c in version.get("Components", [])
                 if "podman" in c.get("Name", "").lower()), "Docker Engine")
    return True, f"{name} {version.get('Version', '?')} at {host}"


def image_exists(name: str) -> bool:
    """Whether the engine holds an image called ``name``."""
    import docker

    try:
        client().images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


def image_skip_reason(image: str = DEFAULT_IMAGE) -> str | None:
    """Why container scenarios cannot run (no engine, no image), or None when they can."""
    ok, reason = engine_available()
    if not ok:
        return reason
    if not image_exists(image):
        return f"image {image} is not built: run scripts/build-images.sh"
    return None


def import_rootfs(tar_path: Path, tag: str) -> str:
    """Import a root file system tarball as image ``tag`` (like ``docker import``); its id.

    The image is tagged afterwards: podman's compatible API ignores the tag of an import.
    """
    repository, _, version = tag.partition(":")
    answer = client().api.import_image_from_file(str(tar_path), repository=repository,
                                                 tag=version or "latest")
    image_id = _imported_id(str(answer))
    client().images.get(image_id).tag(repository, version or "latest")
    if version and version != "latest":
        _drop_stray_latest(repository, image_id)
    return image_id


def _drop_stray_latest(repository: str, image_id: str) -> None:
    """Untag ``repository:latest`` when the import just put it there (podman does)."""
    import docker

    try:
        stray = client().images.get(f"{repository}:latest")
    except docker.errors.ImageNotFound:
        return
    if stray.id == image_id:
        client().images.remove(f"{repository}:latest")


def _imported_id(answer: str) -> str:
    """The image id in an import's answer: JSON lines, the last with ``status: sha256:...``."""
    for line in reversed(answer.strip().splitlines()):
        status = json.loads(line).get("status", "")
        if status.startswith("sha256:"):
            return status
    raise ContainerError(f"the engine's answer to an import names no image: {answer[:300]}")


def image_label(name: str, key: str) -> str | None:
    """A label of image ``name`` (None when the image or the label is missing)."""
    import docker

    try:
        labels = client().images.get(name).labels or {}
    except docker.errors.ImageNotFound:
        return None
    return labels.get(key)


def build_image(context: Path, dockerfile: str, tag: str,
                build_args: Mapping[str, str] | None = None,
                labels: Mapping[str, str] | None = None) -> list[str]:
    """Build ``tag`` from ``context``; the build log lines (raises ContainerError on failure)."""
    import docker

    try:
        _, log = client().images.build(path=str(context), dockerfile=dockerfile, tag=tag,
                                       buildargs=dict(build_args or {}),
                                       labels=dict(labels or {}), rm=True,
                                       forcerm=True, pull=False)
    except docker.errors.BuildError as exc:
        lines = [str(item.get("stream", item.get("error", ""))).rstrip() for item in exc.build_log]
        raise ContainerError(f"building {tag} failed: {exc}\n" + "\n".join(lines[-40:])) from exc
    return [str(item.get("stream", "")).rstrip() for item in log if item.get("stream")]


INPUTS_LABEL = "org.atlas.inputs"  # scripts/build-images.sh: the digest of the build context


def prune_old_builds() -> int:
    """Remove untagged images that earlier builds of ours left (they carry INPUTS_LABEL);
    how many. Other images, tagged or not, are left alone."""
    answer = client().images.prune(filters={"dangling": True, "label": INPUTS_LABEL})
    return len(answer.get("ImagesDeleted") or [])


def remove_suite_containers() -> int:
    """Remove every container this library started (label ``atlas-suite``); how many."""
    found = client().containers.list(all=True, filters={"label": SUITE_LABEL})
    for container in found:
        container.remove(force=True, v=True)
    return len(found)


# ---- starting a server ----------------------------------------------------------------------

@dataclass(frozen=True)
class RunSpec:
    """What ``run_server`` asks of the engine, before any engine is involved (testable)."""

    image: str
    args: list[str]
    memory_dir: Path | None = None
    tmpfs_size: str | None = None
    mem_limit: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    port: int | None = None
    user: str | None = None
    name: str | None = None

    def run_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``client.containers.run``."""
        environment = dict(self.env)
        if self.tmpfs_size is not None:
            environment.setdefault("ATLAS_MEMORY_DIR", CONTAINER_TMPFS_DIR)
        kwargs: dict[str, Any] = {
            "command": self.args,
            "detach": True,
            "environment": environment,
            "ports": {f"{CONTAINER_PORT}/tcp": ("127.0.0.1", self.port)},
            "labels": {SUITE_LABEL: "1"},
        }
        if self.memory_dir is not None:
            kwargs["volumes"] = {str(self.memory_dir): {"bind": CONTAINER_MEMORY_DIR,
                                                         "mode": "rw"}}
        if self.tmpfs_size is not None:
            kwargs["tmpfs"] = {CONTAINER_TMPFS_DIR: f"size={self.tmpfs_size},mode=1777"}
        optional = {"mem_limit": self.mem_limit, "user": self.user, "name": self.name}
        kwargs.update({key: value for key, value in optional.items() if value is not None})
        return kwargs


def bind_mount_user(memory_dir: Path | None, host_uid: int | None = None) -> str | None:
    """The container user for a bind mount: the host user's ids, so files it writes are
    theirs. As host root the image's own user is kept and the folder opened to it instead."""
    if memory_dir is None:
        return None
    uid = os.getuid() if host_uid is None else host_uid
    if uid == 0:
        return None
    return f"{uid}:{os.getgid()}"


def make_spec(image: str = DEFAULT_IMAGE, *, args: Sequence[str] | None = None,
              memory_dir: Path | str | None = None, tmpfs_size: str | None = None,
              mem_limit: str | None = None, env: Mapping[str, str] | None = None,
              port: int | None = None, name: str | None = None,
              host_uid: int | None = None) -> RunSpec:
    """Validate ``run_server``'s arguments into a RunSpec."""
    if memory_dir is not None and tmpfs_size is not None:
        raise ValueError("memory_dir (a bind mount) and tmpfs_size (a small disk) exclude "
                         "each other: the server has one memory folder")
    folder = Path(memory_dir).resolve() if memory_dir is not None else None
    return RunSpec(image=image, args=list(args) if args is not None else default_server_args(),
                   memory_dir=folder, tmpfs_size=tmpfs_size, mem_limit=mem_limit,
                   env=dict(env or {}), port=port, user=bind_mount_user(folder, host_uid),
                   name=name)


def run_server(image: str = DEFAULT_IMAGE, *, args: Sequence[str] | None = None,
               memory_dir: Path | str | None = None, tmpfs_size: str | None = None,
               mem_limit: str | None = None, env: Mapping[str, str] | None = None,
               port: int | None = None, name: str | None = None) -> ServerContainer:
    """Start ``image`` detached, its port 8080 published on 127.0.0.1:``port`` (None: any).

    ``args``: llama-server style arguments (default ``default_server_args()``). ``memory_dir``:
    a host folder bind-mounted at /atlas-memory. ``tmpfs_size`` (e.g. "200k"): instead, the
    memory folder is a tmpfs of that size, for "disk full". ``mem_limit``: e.g. "1g".
    """
    spec = make_spec(image, args=args, memory_dir=memory_dir, tmpfs_size=tmpfs_size,
                     mem_limit=mem_limit, env=env, port=port, name=name)
    if spec.memory_dir is not None:
        spec.memory_dir.mkdir(parents=True, exist_ok=True)
        if spec.user is None:  # host root: let the image's user (uid 10001) write there
            spec.memory_dir.chmod(0o777)
    container = client().containers.run(spec.image, **spec.run_kwargs())
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
                reply = requests.get(f"{self.base_url}/health", timeout=5)
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
