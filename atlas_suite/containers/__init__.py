"""ATLAS server containers through the ``docker`` SDK: Docker, or podman's compatible API.

Split along its seams, and re-exported here so ``from atlas_suite import containers`` keeps
working for the matrix, the mutation images, the build script and the steps:

* :mod:`.engine`: the engine (``DOCKER_HOST``, podman's socket), its images, its GPU runtime;
* :mod:`.spec`: what one container is asked to be (arguments, mounts, limits), engine-free;
* :mod:`.container`: one container's lifecycle, and ``ContainerServer``, the steps' server;
* :mod:`.pool`: the containers of one run (``ContainerPool``).
"""

from atlas_suite.containers.container import (
    HEALTH_POLL_S,
    ContainerServer,
    ServerContainer,
    memory_files,
    run_server,
)
from atlas_suite.containers.engine import (
    BASE_IMAGE,
    CDI_FOLDERS,
    DEFAULT_IMAGE,
    GPU_IMAGE,
    INPUTS_LABEL,
    NVIDIA_TOOLS,
    PODMAN_SOCKET,
    RUN_LABEL,
    SUITE_LABEL,
    ContainerError,
    build_image,
    client,
    engine_available,
    engine_url,
    gpu_image,
    gpu_skip_reason,
    image_exists,
    image_label,
    image_skip_reason,
    import_rootfs,
    is_podman,
    nvidia_runtime_reason,
    prune_old_builds,
    remove_suite_containers,
    suite_image,
    suite_skip_reason,
)
from atlas_suite.containers.pool import ContainerPool
from atlas_suite.containers.spec import (
    CDI_GPUS,
    CONTAINER_MEMORY_DIR,
    CONTAINER_MODEL,
    CONTAINER_PORT,
    CONTAINER_TMPFS_DIR,
    IMAGE_UID,
    ContainerConfig,
    RunSpec,
    bind_mount_user,
    default_server_args,
    make_spec,
)

__all__ = [
    "BASE_IMAGE", "CDI_FOLDERS", "CDI_GPUS", "CONTAINER_MEMORY_DIR", "CONTAINER_MODEL",
    "CONTAINER_PORT", "CONTAINER_TMPFS_DIR", "DEFAULT_IMAGE", "GPU_IMAGE", "HEALTH_POLL_S",
    "IMAGE_UID", "INPUTS_LABEL", "NVIDIA_TOOLS", "PODMAN_SOCKET", "RUN_LABEL", "SUITE_LABEL",
    "ContainerConfig", "ContainerError", "ContainerPool", "ContainerServer", "RunSpec",
    "ServerContainer", "bind_mount_user", "build_image", "client", "default_server_args",
    "engine_available", "engine_url", "gpu_image", "gpu_skip_reason", "image_exists",
    "image_label", "image_skip_reason", "import_rootfs", "is_podman", "make_spec",
    "memory_files", "nvidia_runtime_reason", "prune_old_builds", "remove_suite_containers",
    "run_server", "suite_image", "suite_skip_reason",
]
