"""The container engine and its images, through the ``docker`` SDK: Docker, or podman's
compatible API.

``docker.from_env()`` honours ``DOCKER_HOST``; ``scripts/container-engine.sh`` provides one where
no engine runs (it starts podman's service and prints the ``export DOCKER_HOST=...`` line).

    ok, reason = engine_available()
    reason = suite_skip_reason()     # None when the engine answers and the image is built
    build_image(Path("docker"), "Dockerfile.cpu", "atlas-server-cpu:latest")

Containers the suite starts carry the label ``atlas-suite=1``; ``remove_suite_containers()``
removes whatever a crashed run left behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFAULT_IMAGE = "atlas-server-cpu:latest"
BASE_IMAGE = "atlas-base:bookworm"
GPU_IMAGE = "atlas-server-gpu:latest"
SUITE_LABEL = "atlas-suite"
RUN_LABEL = "atlas-suite-run"  # which run started it: a run removes only its own containers


class ContainerError(RuntimeError):
    """A container did not do what the suite asked; the message carries its log tail."""


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

