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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import requests

from atlas_suite.config import ServerConfig
from atlas_suite.targets import Unsupported

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
RUN_LABEL = "atlas-suite-run"  # which run started it: a run removes only its own containers
GPU_IMAGE = "atlas-server-gpu:latest"
# podman asks for GPUs as a CDI device (after `nvidia-ctk cdi generate`), Docker with --gpus
CDI_GPUS = "nvidia.com/gpu=all"
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

PODMAN_SOCKET = "/run/atlas-podman/podman.sock"  # where scripts/container-engine.sh starts podman


def engine_url() -> str | None:
    """Where the engine is, in scripts/container-engine.sh's order: ``$DOCKER_HOST``; else
    Docker's socket; else the podman service that script starts (so a shell that did not
    ``eval`` its export line still finds it). None: the docker SDK's own default."""
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    if Path("/var/run/docker.sock").exists():
        return None
    podman = os.environ.get("ATLAS_PODMAN_SOCKET") or PODMAN_SOCKET
    return f"unix://{podman}" if Path(podman).is_socket() else None


@lru_cache(maxsize=1)
def _client() -> Any:
    import docker  # imported late: unit tests and engine-less runs never need it

    url = engine_url()
    if url is None or os.environ.get("DOCKER_HOST"):
        return docker.from_env(timeout=120)  # DOCKER_HOST with its TLS settings, or the default
    return docker.DockerClient(base_url=url, timeout=120)


def client() -> Any:
    """The shared ``docker.DockerClient`` (raises ``docker.errors.DockerException`` if none)."""
    return _client()


def engine_available() -> tuple[bool, str]:
    """(True, engine description) when an engine answers; else (False, why not)."""
    try:
        import docker  # noqa: F401
    except ImportError:
        return False, "the docker Python SDK is not installed"
    host = engine_url() or "unix:///var/run/docker.sock (default)"
    try:
        engine = client()
        engine.ping()
        version = engine.version()
    except Exception as exc:  # the SDK raises several unrelated types here
        _client.cache_clear()
        return False, (f"no container engine answers at {host} ({exc}); "
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


def suite_image() -> str:
    """The CPU image container scenarios run: ``$ATLAS_IMAGE`` (as in scripts/build-images.sh)
    or atlas-server-cpu:latest."""
    return os.environ.get("ATLAS_IMAGE") or DEFAULT_IMAGE


def gpu_image() -> str:
    """The GPU image (docker/Dockerfile.gpu): ``$ATLAS_GPU_IMAGE`` or atlas-server-gpu:latest."""
    return os.environ.get("ATLAS_GPU_IMAGE") or GPU_IMAGE


@lru_cache(maxsize=8)
def suite_skip_reason(image: str | None = None) -> str | None:
    """``image_skip_reason`` of the suite's image, asked once per run."""
    return image_skip_reason(image or suite_image())


def is_podman() -> bool:
    """Whether the engine behind DOCKER_HOST is podman (it takes GPUs as CDI devices)."""
    components = client().version().get("Components", [])
    return any("podman" in str(c.get("Name", "")).lower() for c in components)


NVIDIA_TOOLS = ("nvidia-container-runtime-hook", "nvidia-container-cli", "nvidia-ctk",
                "nvidia-container-runtime")
CDI_FOLDERS = ("/etc/cdi", "/var/run/cdi")


def nvidia_runtime_reason(runtimes: Iterable[str], tools: Iterable[str],
                          cdi_specs: Iterable[str]) -> str | None:
    """Why the engine cannot give a container the GPU (None: it can), from what ``docker
    info`` lists as runtimes, the NVIDIA container tools on PATH and the CDI spec files."""
    if any("nvidia" in r for r in runtimes) or any(tools) \
            or any("nvidia" in spec for spec in cdi_specs):
        return None
    return ("the container engine has no NVIDIA runtime: no nvidia runtime in `docker info`, "
            "no nvidia-container-toolkit on PATH, no CDI spec for nvidia.com/gpu")


@lru_cache(maxsize=1)
def gpu_skip_reason() -> str | None:
    """Why the GPU container scenario cannot run: no engine, no GPU image, no NVIDIA runtime."""
    import shutil

    reason = image_skip_reason(gpu_image())
    if reason:
        return reason.replace("scripts/build-images.sh",
                              "docker build -f docker/Dockerfile.gpu -t atlas-server-gpu .")
    runtimes = list(client().info().get("Runtimes") or {})
    tools = [tool for tool in NVIDIA_TOOLS if shutil.which(tool)]
    specs = [str(p) for folder in CDI_FOLDERS if Path(folder).is_dir()
             for p in Path(folder).iterdir()]
    return nvidia_runtime_reason(runtimes, tools, specs)


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


def remove_suite_containers(run: str | None = None) -> int:
    """Remove every container this library started (label ``atlas-suite``), or only those of
    one run (label ``atlas-suite-run=RUN``); how many."""
    label = f"{RUN_LABEL}={run}" if run else SUITE_LABEL
    found = client().containers.list(all=True, filters={"label": label})
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
    labels: dict[str, str] = field(default_factory=dict)
    gpu: bool = False

    def run_kwargs(self, *, podman: bool = False) -> dict[str, Any]:
        """Keyword arguments of ``client.containers.run``. Empty ``args``: the image's own CMD.
        ``podman``: a GPU is asked for as a CDI device, else as Docker's ``--gpus all``."""
        environment = dict(self.env)
        if self.tmpfs_size is not None:
            environment.setdefault("ATLAS_MEMORY_DIR", CONTAINER_TMPFS_DIR)
        kwargs: dict[str, Any] = {
            "detach": True,
            "environment": environment,
            "ports": {f"{CONTAINER_PORT}/tcp": ("127.0.0.1", self.port)},
            "labels": {SUITE_LABEL: "1", **self.labels},
        }
        if self.args:
            kwargs["command"] = self.args
        if self.gpu and podman:
            kwargs["devices"] = [CDI_GPUS]
        elif self.gpu:
            from docker.types import DeviceRequest

            kwargs["device_requests"] = [DeviceRequest(count=-1, capabilities=[["gpu"]])]
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
              host_uid: int | None = None, labels: Mapping[str, str] | None = None,
              gpu: bool = False) -> RunSpec:
    """Validate ``run_server``'s arguments into a RunSpec."""
    if memory_dir is not None and tmpfs_size is not None:
        raise ValueError("memory_dir (a bind mount) and tmpfs_size (a small disk) exclude "
                         "each other: the server has one memory folder")
    folder = Path(memory_dir).resolve() if memory_dir is not None else None
    return RunSpec(image=image, args=list(args) if args is not None else default_server_args(),
                   memory_dir=folder, tmpfs_size=tmpfs_size, mem_limit=mem_limit,
                   env=dict(env or {}), port=port, user=bind_mount_user(folder, host_uid),
                   name=name, labels=dict(labels or {}), gpu=gpu)


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


# ---- containers as the steps' servers, pooled ---------------------------------------------------

@dataclass(frozen=True)
class ContainerConfig:
    """One container configuration: the server's flags (a ``ServerConfig``) and what the engine
    adds around it. Equal configurations share one pooled container.

    ``image_command``: run the image's own CMD (``docker run IMAGE``, the founding document's
    deployment) instead of the flags of ``server``. ``tmpfs_size`` (e.g. "400k"): the memory
    folder is a size-limited tmpfs inside the container instead of a host folder.
    """

    server: ServerConfig = field(default_factory=ServerConfig)
    image: str = field(default_factory=suite_image)
    image_command: bool = False
    tmpfs_size: str | None = None
    mem_limit: str | None = None
    gpu: bool = False

    def __post_init__(self) -> None:
        if self.server.fsize_limit_kb is not None:
            raise ValueError("a container's small disk is tmpfs_size, not fsize_limit_kb")
        if self.server.model != "default":
            raise ValueError("the image carries one model: the default one")

    def args(self) -> list[str]:
        """The container's command: llama-server style flags, or [] for the image's CMD."""
        if self.image_command:
            return []
        extra = self.server.to_args() + (["--cuda"] if self.gpu else [])
        return default_server_args(extra, atlas=self.server.atlas)

    def label(self) -> str:
        """A short, file-name-safe description (for logs and messages)."""
        parts = ["container", "image-cmd" if self.image_command else self.server.label()]
        if self.tmpfs_size:
            parts.append(f"tmpfs={self.tmpfs_size}")
        if self.mem_limit:
            parts.append(f"mem={self.mem_limit}")
        if self.gpu:
            parts.append("gpu")
        return "_".join(parts)


class ContainerServer:
    """A server container as the generic steps see a server.

    It has what steps use of ``atlas_suite.server.ManagedServer`` (``base_url``, ``config`` with
    ``label()``, ``cache``, ``alive()``, ``log_tail()``, ``log_text()``, ``memory_dir`` and
    ``require_memory_dir()`` for the bind-mounted host folder, ``last_exit_code``...), so that
    ``use_server(context, container)`` makes every HTTP, JSON and memory step talk to it, and
    what only a container can do (stop, kill, start again, read a file inside it).
    """

    started_by_suite = True
    process = None  # no host process: require_process() says so

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


class ContainerPool:
    """Containers for one run: one pooled container per configuration, shared by scenarios
    whose state allows it; fresh ones for lifecycle scenarios; all removed at the end.

    Containers carry ``atlas-suite=1`` and ``atlas-suite-run=<this run>``: ``remove_all``
    removes this run's only, so runs beside each other on one engine leave each other alone.
    Each container's log is written to ``log_dir`` when it is removed.
    """

    def __init__(self, log_dir: Path, startup_timeout_s: float = 180.0) -> None:
        import atexit
        import tempfile
        import uuid

        self.run_id = uuid.uuid4().hex[:12]
        self.log_dir = Path(log_dir)
        self.startup_timeout_s = startup_timeout_s
        self.root = Path(tempfile.mkdtemp(prefix="atlas-suite-containers-"))
        self._pooled: dict[ContainerConfig, ContainerServer] = {}
        self._started: list[ContainerServer] = []
        atexit.register(self.remove_all)  # a safety net if the run dies before its cleanups

    def get(self, config: ContainerConfig) -> ContainerServer:
        """The running container of ``config``, started on first use (or again if it died)."""
        server = self._pooled.get(config)
        if server is not None and server.alive():
            return server
        if server is not None:
            self.discard(server)
        server = self._pooled[config] = self.start(config)
        return server

    def start(self, config: ContainerConfig, memory_dir: Path | None = None) -> ContainerServer:
        """A new, unpooled container of ``config``, healthy. ``memory_dir``: the host folder to
        mount at /atlas-memory (default: a new one; none with a tmpfs)."""
        number = len(self._started) + 1
        root = self.root / f"{number:02d}"
        if memory_dir is None and config.tmpfs_size is None:
            memory_dir = root / "memory"
        handle = run_server(config.image, args=config.args(), memory_dir=memory_dir,
                            tmpfs_size=config.tmpfs_size, mem_limit=config.mem_limit,
                            labels={RUN_LABEL: self.run_id}, gpu=config.gpu,
                            name=f"atlas-suite-{self.run_id}-{number:02d}")
        server = ContainerServer(config, handle, memory_dir, root if memory_dir else None, number)
        self._started.append(server)
        try:
            server.healthy_after_s = handle.wait_healthy(self.startup_timeout_s)
        except ContainerError:
            self.discard(server)
            raise
        return server

    def replace(self, server: ContainerServer) -> ContainerServer:
        """Remove ``server``'s container (if not yet) and start a new one of the same
        configuration on the same host memory folder."""
        self.discard(server)
        return self.start(server.config, server.memory_dir)

    def discard(self, server: ContainerServer) -> None:
        """Keep its log under ``log_dir`` and remove the container (idempotent)."""
        if server.removed:
            return
        server.removed = True
        if self._pooled.get(server.config) is server:
            del self._pooled[server.config]
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            name = f"container-{self.run_id}-{server.number:02d}-{server.config.label()}"
            (self.log_dir / f"{name[:120]}.log").write_text(server.log_text(), encoding="utf-8")
            server.handle.remove()
        except Exception as exc:  # already gone, or the engine went away: nothing to keep
            print(f"atlas-suite: could not remove container {server.name}: {exc}")

    def remove_all(self) -> int:
        """Remove every container of this run and the host folders; how many were removed."""
        import shutil

        live = [server for server in self._started if not server.removed]
        for server in live:
            self.discard(server)
        try:
            leftovers = remove_suite_containers(self.run_id) if self._started else 0
        except Exception:  # no engine any more
            leftovers = 0
        shutil.rmtree(self.root, ignore_errors=True)
        return len(live) + leftovers


# ---- a crash in the middle of saves -------------------------------------------------------

@dataclass
class SaveStormReport:
    """What a save storm saw."""

    answered: list[str] = field(default_factory=list)  # fingerprints completed saves answered
    reads: int = 0  # how many times the memory was changed
    cut_off: int = 0  # saves without an answer because the server died under them
    failures: list[str] = field(default_factory=list)  # anything unexpected before the kill

    def summary(self) -> str:
        return (f"{len(self.answered)} saves answered with {len(set(self.answered))} distinct "
                f"fingerprints over {self.reads} memory changes; {self.cut_off} saves cut off"
                + (f"; failures: {self.failures[:3]}" if self.failures else ""))


class SaveStorm:
    """Several clients save one memory file over and over while another keeps changing the
    memory with ATLAS completions, until ``freeze`` stops the changes so that the caller can kill
    the server in the middle of the saves, and ``finish`` collects what happened.

    Every state of the memory is answered by a completed save before the memory changes again,
    and ``freeze`` waits until the latest state was answered: whatever file a kill leaves
    behind, its fingerprint must be one that a completed save answered.
    """

    def __init__(self, base_url: str, filename: str, read_body: Callable[[int], dict[str, Any]],
                 *, savers: int = 4, headers: Mapping[str, str] | None = None) -> None:
        import threading

        self.base_url = base_url.rstrip("/")
        self.filename = filename
        self.read_body = read_body
        self.savers = savers
        self.headers = dict(headers or {})
        self.report = SaveStormReport()
        self._cond = threading.Condition()
        self._generation = 0  # memory changes so far
        self._saved_generation = -1  # the latest change a save answered
        self._frozen = False  # no more changes: the kill comes
        self._stopping = False
        self._threads = [threading.Thread(target=self._save_loop, daemon=True,
                                          name=f"save-storm-{i}") for i in range(savers)]
        self._threads.append(threading.Thread(target=self._read_loop, daemon=True,
                                              name="save-storm-reader"))

    def start(self) -> SaveStorm:
        for thread in self._threads:
            thread.start()
        return self

    def freeze(self, min_saves: int, min_reads: int = 2, timeout_s: float = 120.0) -> None:
        """Wait until ``min_saves`` saves answered over ``min_reads`` memory changes and the
        latest change was saved; then stop changing the memory (saves go on)."""
        def ready() -> bool:
            return bool(self.report.failures) or (
                len(self.report.answered) >= min_saves and self._generation >= min_reads
                and self._saved_generation >= self._generation)

        with self._cond:
            done = self._cond.wait_for(ready, timeout_s)
            if not done or self.report.failures:
                self._stopping = True
                self._cond.notify_all()
                raise ContainerError(f"the save storm did not get going within {timeout_s:.0f} "
                                     f"s: {self.report.summary()}")
            self._frozen = True

    def finish(self, timeout_s: float = 60.0) -> SaveStormReport:
        """Stop every client (the server is gone, or should stop being asked) and report."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout_s)
        return self.report

    def _post(self, session: Any, path: str, body: dict[str, Any]) -> Any:
        return session.post(f"{self.base_url}{path}", json=body, headers=self.headers,
                            timeout=60)

    def _read_loop(self) -> None:
        with requests.Session() as session, self._cond:
            while True:
                self._cond.wait_for(lambda: self._stopping or (
                    not self._frozen and self._saved_generation >= self._generation))
                if self._stopping:
                    return
                try:  # the lock is held: no save starts while the memory changes
                    reply = self._post(session, "/v1/completions",
                                       self.read_body(self._generation))
                except requests.RequestException as exc:
                    reply, error = None, f"{type(exc).__name__}: {exc}"
                if reply is None or reply.status_code != 200:
                    if reply is not None:
                        error = f"HTTP {reply.status_code} {reply.text[:300]}"
                    self.report.failures.append(f"a completion failed: {error}")
                    self._cond.notify_all()
                    return
                self._generation += 1
                self.report.reads += 1
                self._cond.notify_all()

    def _save_loop(self) -> None:
        body = {"filename": self.filename}
        with requests.Session() as session:
            while True:
                with self._cond:
                    if self._stopping:
                        return
                    generation = self._generation
                try:
                    reply = self._post(session, "/v1/atlas/memory/save", body)
                except requests.RequestException as exc:
                    with self._cond:
                        if self._frozen:  # the kill came while this save was in flight
                            self.report.cut_off += 1
                        else:
                            self.report.failures.append(f"a save got no answer: {exc}")
                            self._cond.notify_all()
                    return
                with self._cond:
                    if reply.status_code != 200:
                        if not self._frozen:
                            self.report.failures.append(
                                f"a save failed: HTTP {reply.status_code} {reply.text[:300]}")
                        self._cond.notify_all()
                        return
                    self.report.answered.append(str(reply.json()["fingerprint"]))
                    self._saved_generation = max(self._saved_generation, generation)
                    self._cond.notify_all()
