"""Tags that a target may not be able to honour, and the reason a scenario is skipped.

| tag | runs when |
|---|---|
| ``@atlas`` | the profile claims the ATLAS extension |
| ``@gpu`` | NVML (pynvml) sees an NVIDIA GPU; with ``@docker`` also the GPU image and the engine's NVIDIA runtime |
| ``@docker`` | a container engine answers on DOCKER_HOST and the image is built |
| ``@k8s`` | a Kubernetes cluster answers (KUBECONFIG or ~/.kube/config) |
| ``@hardware`` | ``-D hardware=yes``: absolute time bounds, for a dedicated machine |

Each check is asked once per run (they are cached).
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Iterable

from atlas_suite import containers, gpu, kube
from atlas_suite.targets import TargetSettings
from atlas_suite.traceability import not_claimed_reason


def gpu_count() -> int:
    """How many NVIDIA GPUs NVML sees (0 without a driver, a library or a device)."""
    return gpu.gpu_count()


def docker_available() -> bool:
    """Whether a container engine answers on DOCKER_HOST."""
    return containers.engine_available()[0]


def skip_reason(tags: Iterable[str], settings: TargetSettings) -> str | None:
    """Why a scenario with these tags cannot run on this target, or None when it can."""
    tags = set(tags)
    if "atlas" in tags and not settings.atlas:
        return not_claimed_reason(settings.profile, "a plain OpenAI server, without the ATLAS "
                                  "extension")
    if "hardware" in tags and not settings.hardware:
        return ("absolute time bounds for a dedicated machine: run them with -D hardware=yes "
                "(the default run judges the same requirement on same-run comparisons)")
    if "k8s" in tags:
        reason = kube.skip_reason()
        if reason:
            return reason
    if "gpu" in tags:
        reason = gpu.nvml_skip_reason()
        if reason:
            return reason
    if "docker" in tags:
        reason = containers.suite_skip_reason()
        if reason:
            return reason
        if "gpu" in tags:
            return containers.gpu_skip_reason()
    return None
