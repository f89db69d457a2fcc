"""Tags that a target may not be able to honour, and the reason a scenario is skipped."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from atlas_suite.targets import TargetSettings


@functools.lru_cache(maxsize=1)
def gpu_count() -> int:
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            return int(pynvml.nvmlDeviceGetCount())
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # no driver, no library, no device: all mean "no GPU here"
        return 0


@functools.lru_cache(maxsize=1)
def docker_available() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # no socket, no daemon, no permission
        return False


def skip_reason(tags: Iterable[str], settings: TargetSettings) -> str | None:
    """Why a scenario with these tags cannot run on this target, or None when it can."""
    tags = set(tags)
    if "atlas" in tags and not settings.atlas:
        return "the target claims a plain OpenAI server (profile=openai)"
    if "gpu" in tags and gpu_count() == 0:
        return "no NVIDIA GPU is visible to this machine (pynvml found none)"
    if "docker" in tags and not docker_available():
        return "no Docker (or podman) daemon answers on DOCKER_HOST"
    return None
