"""Container images of a mutated server, for faults whose scenarios run in a container."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from atlas_suite import containers
from atlas_suite.mutation.catalogue import SERVER_PACKAGE

DOCKERFILE = Path("docker/mutation/Dockerfile.mutant")


def engine_skip_reason() -> str:
    """Why no mutated image can be built here ("" when one can)."""
    return containers.suite_skip_reason() or ""


@contextmanager
def mutant_image(project_root: Path, server_copy: Path, fault_id: str,
                 gpu: bool = False) -> Iterator[str]:
    """The suite's CPU (or GPU) image with the mutated server package in it; removed on exit."""
    context = server_copy / "image-context"
    context.mkdir()
    shutil.copytree(server_copy / SERVER_PACKAGE, context / SERVER_PACKAGE,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(project_root / DOCKERFILE, context / "Dockerfile")
    base = containers.gpu_image() if gpu else containers.suite_image()
    tag = f"{base.rsplit(':', 1)[0]}:mutant-{fault_id}"
    containers.build_image(context, "Dockerfile", tag, build_args={"BASE_IMAGE": base})
    try:
        yield tag
    finally:
        containers.client().images.remove(tag, force=True)
