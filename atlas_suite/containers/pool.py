"""The containers of one run, as the container steps use them: one pooled container per
configuration, shared by the scenarios whose state allows it; fresh ones for lifecycle
scenarios; all removed at the end (the run's ``container_pool`` fixture, atlas_suite/steplib/
fixtures.py, does that).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
from pathlib import Path

from atlas_suite.containers.container import ContainerServer, run_server
from atlas_suite.containers.engine import RUN_LABEL, ContainerError, remove_suite_containers
from atlas_suite.containers.spec import ContainerConfig


class ContainerPool:
    """Containers for one run: one pooled container per configuration, shared by scenarios
    whose state allows it; fresh ones for lifecycle scenarios; all removed at the end.

    Containers carry ``atlas-suite=1`` and ``atlas-suite-run=<this run>``: ``remove_all``
    removes this run's only, so runs beside each other on one engine leave each other alone.
    Each container's log is written to ``log_dir`` when it is removed.
    """

    def __init__(self, log_dir: Path, startup_timeout_s: float = 180.0) -> None:
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
        live = [server for server in self._started if not server.removed]
        for server in live:
            self.discard(server)
        try:
            leftovers = remove_suite_containers(self.run_id) if self._started else 0
        except Exception:  # no engine any more
            leftovers = 0
        shutil.rmtree(self.root, ignore_errors=True)
        return len(live) + leftovers

