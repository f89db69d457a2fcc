"""Named memories and their files: the only code that touches the memory folder.

The default memory always exists. A request's ``memory_file`` names another memory: it is read
from that file in the memory folder on first use (or created empty), and written back after each
request that updates it, so a named memory is a file-backed session.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from atlas_reference import memfile
from atlas_reference.errors import ApiError
from atlas_reference.memory import AtlasMemory, MemoryConfig
from atlas_reference.names import validate_memory_filename
from atlas_reference.params import DEFAULT_MEMORY

log = logging.getLogger("atlas.store")

# EFBIG is what a file-size limit (RLIMIT_FSIZE, a quota) gives: for a client, disk space too.
DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


@dataclass(frozen=True)
class FileOutcome:
    filename: str
    memory: str
    bytes: int
    fingerprint: str
    tokens_memorized: int
    elapsed_ms: float


def _file_error(exc: Exception, filename: str) -> ApiError:
    """Translate a memory-file failure into the contract's status and words."""
    if isinstance(exc, memfile.MemoryModelMismatch):
        return ApiError(409, f"model mismatch: {exc}", param="filename")
    if isinstance(exc, memfile.UnsupportedMemoryFileVersion):
        return ApiError(400, str(exc), param="filename")
    if isinstance(exc, memfile.CorruptedMemoryFile):
        return ApiError(400, f"memory file {filename} failed its corruption check: {exc}",
                        param="filename")
    if isinstance(exc, memfile.MemoryDiskFull) or (
            isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS):
        return ApiError(507, f"not enough disk space to save {filename}; "
                             "the previous file is intact", param="filename")
    if isinstance(exc, FileNotFoundError):
        return ApiError(404, f"memory file {filename} not found", param="filename")
    return ApiError(500, f"memory file {filename}: {exc}", param="filename")


class MemoryStore:
    def __init__(self, directory: Path, config: MemoryConfig, model_fingerprint: str) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.model_fingerprint = model_fingerprint
        self._memories: dict[str, AtlasMemory] = {DEFAULT_MEMORY: self._new_memory()}
        self._sources: dict[str, str | None] = {DEFAULT_MEMORY: None}
        self._lock = threading.Lock()  # guards the registry, not the memories' maths

    # -- registry ---------------------------------------------------------------------------

    def _new_memory(self) -> AtlasMemory:
        return AtlasMemory(self.config, self.model_fingerprint)

    def names(self) -> list[str]:
        return list(self._memories)

    def get(self, name: str) -> AtlasMemory:
        try:
            return self._memories[name]
        except KeyError:
            raise ApiError(404, f"no memory named {name!r} is loaded", param="memory") from None

    def source(self, name: str) -> str | None:
        return self._sources.get(name)

    def open_named(self, filename: str) -> AtlasMemory:
        """The memory a request's ``memory_file`` names: loaded once, or created empty."""
        with self._lock:
            if filename in self._memories:
                return self._memories[filename]
            path = self.path(filename)
            if path.exists():
                try:
                    memory = self._read(path)
                except Exception as exc:  # noqa: BLE001 - every failure gets its status
                    raise _file_error(exc, filename) from exc
            else:
                memory = self._new_memory()
            self._memories[filename] = memory
            self._sources[filename] = filename if path.exists() else None
            return memory

    def totals(self) -> tuple[int, int]:
        memories = list(self._memories.values())
        return (sum(m.tokens_memorized for m in memories), sum(m.updates for m in memories))

    def configure_all(self, **changes: int | float) -> None:
        self.config = replace(self.config, **changes)
        for memory in self._memories.values():
            memory.configure(**changes)

    # -- files ------------------------------------------------------------------------------

    def path(self, filename: str) -> Path:
        problem = validate_memory_filename(filename)
        if problem:
            raise ApiError(400, f"filename {problem}", param="filename")
        return self.directory / filename

    def _read(self, path: Path) -> AtlasMemory:
        memory = memfile.load(path, expected_model_fingerprint=self.model_fingerprint,
                              expected_dims=self._new_memory_dims())
        memory.configure(**{k: getattr(self.config, k) for k in _TUNABLE})
        return memory

    def _new_memory_dims(self) -> dict[str, int]:
        return self._memories[DEFAULT_MEMORY].dims

    def save(self, filename: str, memory_name: str = DEFAULT_MEMORY) -> FileOutcome:
        path = self.path(filename)
        memory = self.get(memory_name)
        started = time.perf_counter()
        try:
            result = memfile.save(memory, path)
        except Exception as exc:  # noqa: BLE001
            raise _file_error(exc, filename) from exc
        return FileOutcome(filename, memory_name, result.bytes, result.fingerprint,
                           memory.tokens_memorized, _ms_since(started))

    def load(self, filename: str, memory_name: str = DEFAULT_MEMORY) -> FileOutcome:
        """Replace a memory with a file's contents; on any failure the memory is untouched."""
        path = self.path(filename)
        self.get(memory_name)  # 404 for an unknown memory before touching the file
        started = time.perf_counter()
        try:
            memory = self._read(path)
        except Exception as exc:  # noqa: BLE001
            raise _file_error(exc, filename) from exc
        with self._lock:
            self._memories[memory_name] = memory
            self._sources[memory_name] = filename
        return FileOutcome(filename, memory_name, path.stat().st_size, memory.fingerprint,
                           memory.tokens_memorized, _ms_since(started))

    def write_back(self, memory_name: str) -> None:
        """After a request updated a named memory, keep its file in step."""
        if memory_name == DEFAULT_MEMORY:
            return
        try:
            memfile.save(self._memories[memory_name], self.path(memory_name))
            self._sources[memory_name] = memory_name
        except Exception:  # the request already succeeded; the next one retries the write
            log.exception("could not write memory %s back to its file", memory_name)

    def list_files(self) -> list[dict]:
        files = []
        for entry in sorted(self.directory.iterdir()):
            if entry.is_file() and validate_memory_filename(entry.name) is None:
                stat = entry.stat()
                files.append({"name": entry.name, "bytes": stat.st_size,
                              "modified": round(stat.st_mtime, 3)})
        return files

    def delete(self, filename: str) -> None:
        path = self.path(filename)
        try:
            path.unlink()
        except FileNotFoundError:
            raise ApiError(404, f"memory file {filename} not found", param="filename") from None
        with self._lock:
            if self._sources.get(filename) == filename and filename in self._memories:
                self._sources[filename] = None

    def reset(self, memory_name: str = DEFAULT_MEMORY) -> AtlasMemory:
        memory = self.get(memory_name)
        memory.reset()
        return memory


_TUNABLE = ("learning_rate", "momentum", "weight_decay", "newton_schulz_steps")


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)
