"""What the suite asks of the engine for one server container, before any engine is involved:
the server's arguments, the ``docker run`` keyword arguments, and the configurations the steps
pool by (all testable without an engine).

    spec = make_spec("atlas-server-cpu:latest", memory_dir=folder)
    client.containers.run(spec.image, **spec.run_kwargs())
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_suite.config import ServerConfig
from atlas_suite.containers.engine import DEFAULT_IMAGE, SUITE_LABEL, suite_image

CONTAINER_PORT = 8080
CONTAINER_MODEL = "/models/test-model.gguf"
CONTAINER_MEMORY_DIR = "/atlas-memory"
# A size-limited tmpfs goes beside /atlas-memory, not over it: podman copies the image's
# /atlas-memory (a VOLUME) onto a tmpfs mounted there, root-owned, whatever mode= says, so the
# image's non-root user could not write. The entrypoint reads ATLAS_MEMORY_DIR as its default.
CONTAINER_TMPFS_DIR = "/atlas-memory-tmpfs"
IMAGE_UID = 10001  # the image's non-root user (docker/Dockerfile.cpu)
# podman asks for GPUs as a CDI device (after `nvidia-ctk cdi generate`), Docker with --gpus
CDI_GPUS = "nvidia.com/gpu=all"


def default_server_args(extra: Sequence[str] = (), *, atlas: bool = True) -> list[str]:
    """llama-server style arguments for the image's server: the model, the port, ``extra``."""
    args = ["-m", CONTAINER_MODEL, "--port", str(CONTAINER_PORT)]
    if atlas and "--atlas" not in extra:
        args.append("--atlas")
    return args + list(extra)


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

