"""The ``.atlas`` memory file, format version 1 (see docs/api.md).

Layout, little-endian: magic ``ATLASMEM`` (8 bytes), format version (u32), header length H
(u32), H bytes of UTF-8 JSON header, the float32 arrays at the offsets the header's table gives
(relative to the end of the header), then the SHA-256 of every byte before it (32 bytes).

Readers check, in order: size and magic, checksum, version, then the header and its array table
(any inconsistency is corruption), then model and dimensions. Whatever is wrong with a file,
only the ``MemoryFileError`` family escapes ``decode`` (plus FileNotFoundError from ``load``).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
import struct
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .memory import (
    LAYERS,
    STATE_NAMES,
    AtlasMemory,
    MemoryConfig,
    MemoryState,
    expected_shapes,
)

MAGIC = b"ATLASMEM"
VERSION = 1
_PREFIX = struct.Struct("<8sII")  # magic, version, header length
_CHECKSUM_LEN = 32
_MIN_SIZE = _PREFIX.size + _CHECKSUM_LEN
_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


class MemoryFileError(Exception):
    """Base of every error a memory file can cause."""


class CorruptedMemoryFile(MemoryFileError):
    def __init__(self, detail: str) -> None:
        super().__init__(f"memory file corruption: {detail}")


class UnsupportedMemoryFileVersion(MemoryFileError):
    def __init__(self, version: int) -> None:
        super().__init__(f"unsupported memory file version {version} (this reader knows {VERSION})")
        self.version = version


class MemoryModelMismatch(MemoryFileError):
    def __init__(self, detail: str) -> None:
        super().__init__(f"memory file model mismatch: {detail}")


class MemoryDiskFull(MemoryFileError):
    def __init__(self, detail: str) -> None:
        super().__init__(f"not enough disk space to save the memory: {detail}")


@dataclass(frozen=True)
class SaveResult:
    path: Path
    bytes: int
    fingerprint: str  # the parameters' fingerprint as written


# -- encoding -------------------------------------------------------------------------------


def _dims(config: MemoryConfig) -> dict[str, int]:
    return {"layers": LAYERS, "key_dim": config.key_dim, "hidden_dim": config.hidden_dim,
            "feature_degree": config.feature_degree}


def encode_state(state: MemoryState, created: float | None = None) -> bytes:
    blobs, table, offset = [], [], 0
    for name in STATE_NAMES:
        blob = np.ascontiguousarray(state.arrays[name], dtype="<f4").tobytes()
        table.append({"name": name, "dtype": "float32", "shape": list(state.arrays[name].shape),
                      "offset": offset, "nbytes": len(blob)})
        blobs.append(blob)
        offset += len(blob)
    header = {
        "model_fingerprint": state.model_fingerprint,
        "config": state.config.to_dict(),
        "dims": _dims(state.config),
        "counters": {"tokens_memorized": state.tokens_memorized, "updates": state.updates,
                     "omega_loss": state.omega_loss},
        "fingerprint": state.fingerprint,
        "created": time.time() if created is None else created,
        "arrays": table,
    }
    header_bytes = json.dumps(header, sort_keys=True, allow_nan=False).encode("utf-8")
    body = _PREFIX.pack(MAGIC, VERSION, len(header_bytes)) + header_bytes + b"".join(blobs)
    return body + hashlib.sha256(body).digest()


def encode(memory: AtlasMemory) -> bytes:
    """The memory's current state (parameters, momentum, counters) as a version-1 file."""
    return encode_state(memory.snapshot())


# -- decoding -------------------------------------------------------------------------------


def read_envelope(data: bytes) -> tuple[int, bytes, memoryview]:
    """Check size, magic, checksum and version; return (version, header bytes, array region)."""
    if len(data) < _MIN_SIZE:
        raise CorruptedMemoryFile(f"file too short ({len(data)} bytes)")
    magic, version, header_len = _PREFIX.unpack_from(data, 0)
    if magic != MAGIC:
        raise CorruptedMemoryFile("bad magic")
    body = memoryview(data)[:-_CHECKSUM_LEN]
    if hashlib.sha256(body).digest() != bytes(data[-_CHECKSUM_LEN:]):
        raise CorruptedMemoryFile("checksum does not match the contents")
    if version != VERSION:
        raise UnsupportedMemoryFileVersion(version)
    header_end = _PREFIX.size + header_len
    if header_end > len(body):
        raise CorruptedMemoryFile("header length runs past the end of the file")
    return version, bytes(body[_PREFIX.size:header_end]), body[header_end:]


def _parse_header(raw: bytes) -> dict:
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CorruptedMemoryFile(f"unreadable header ({exc.__class__.__name__})") from None
    if not isinstance(header, dict):
        raise CorruptedMemoryFile("header is not a JSON object")
    return header


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _counters(header: dict) -> tuple[int, int, float | None]:
    counters = header.get("counters")
    if not isinstance(counters, dict):
        raise CorruptedMemoryFile("counters missing")
    tokens, updates = counters.get("tokens_memorized"), counters.get("updates")
    loss = counters.get("omega_loss")
    if not (_is_int(tokens) and _is_int(updates) and tokens >= 0 and updates >= 0):
        raise CorruptedMemoryFile("bad counters")
    if loss is not None and (isinstance(loss, bool) or not isinstance(loss, (int, float))
                             or not math.isfinite(loss)):
        raise CorruptedMemoryFile("bad omega_loss")
    return tokens, updates, None if loss is None else float(loss)


def _config(header: dict) -> MemoryConfig:
    try:
        config = MemoryConfig.from_dict(header.get("config"))
    except (TypeError, ValueError) as exc:
        raise CorruptedMemoryFile(f"bad config ({exc})") from None
    if header.get("dims") != _dims(config):
        raise CorruptedMemoryFile("dims disagree with the config")
    return config


def _arrays(header: dict, config: MemoryConfig, region: memoryview) -> dict[str, np.ndarray]:
    """Read the table; entries must be exactly the expected arrays, tiling the region."""
    table = header.get("arrays")
    shapes = expected_shapes(config)
    if not isinstance(table, list) or len(table) != len(shapes):
        raise CorruptedMemoryFile("bad array table")
    arrays, cursor = {}, 0
    for entry in table:
        if not isinstance(entry, dict):
            raise CorruptedMemoryFile("bad array table entry")
        name, offset, nbytes = entry.get("name"), entry.get("offset"), entry.get("nbytes")
        if name not in shapes or name in arrays or entry.get("dtype") != "float32":
            raise CorruptedMemoryFile(f"unexpected array {name!r}")
        shape = shapes[name]
        if entry.get("shape") != list(shape) or nbytes != 4 * math.prod(shape):
            raise CorruptedMemoryFile(f"array {name} has the wrong shape")
        if not _is_int(offset) or offset != cursor:  # contiguous, in table order
            raise CorruptedMemoryFile(f"array {name} at a bad offset")
        cursor += nbytes
        if cursor > len(region):
            raise CorruptedMemoryFile(f"array {name} runs past the end of the file")
        raw = region[offset:cursor]
        arrays[name] = np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)
    if cursor != len(region):
        raise CorruptedMemoryFile("unexpected bytes after the arrays")
    return arrays


def _check_expected(
    header: dict, config: MemoryConfig,
    expected_model_fingerprint: str | None, expected_dims: Mapping[str, int] | None,
) -> None:
    found = header.get("model_fingerprint")
    if not isinstance(found, str):
        raise CorruptedMemoryFile("model fingerprint missing")
    if expected_model_fingerprint is not None and found != expected_model_fingerprint:
        raise MemoryModelMismatch(
            f"file is for model {found[:12]}, this server runs {expected_model_fingerprint[:12]}")
    dims = _dims(config)
    for key, want in (expected_dims or {}).items():
        if dims.get(key) != want:
            raise MemoryModelMismatch(f"{key} is {dims.get(key)} in the file, expected {want}")


def decode(
    data: bytes,
    expected_model_fingerprint: str | None = None,
    expected_dims: Mapping[str, int] | None = None,
) -> AtlasMemory:
    """A new AtlasMemory from a file's bytes; never touches any existing memory."""
    _, raw_header, region = read_envelope(data)
    header = _parse_header(raw_header)
    config = _config(header)
    tokens, updates, loss = _counters(header)
    arrays = _arrays(header, config, region)
    if not isinstance(header.get("created"), (int, float)) or isinstance(header["created"], bool):
        raise CorruptedMemoryFile("bad creation time")
    _check_expected(header, config, expected_model_fingerprint, expected_dims)
    state = MemoryState(config, header["model_fingerprint"], arrays, tokens, updates, loss, "")
    memory = AtlasMemory.from_state(state)
    if memory.fingerprint != header.get("fingerprint"):
        raise CorruptedMemoryFile("parameters do not match the recorded fingerprint")
    return memory


def load(
    path: str | os.PathLike[str],
    expected_model_fingerprint: str | None = None,
    expected_dims: Mapping[str, int] | None = None,
) -> AtlasMemory:
    """Read and decode a file; a missing file raises FileNotFoundError."""
    data = Path(path).read_bytes()
    return decode(data, expected_model_fingerprint, expected_dims)


# -- atomic save ----------------------------------------------------------------------------


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte to fd (os.write may write less than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable; some filesystems refuse to fsync a directory, which is fine."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def save(memory: AtlasMemory, path: str | os.PathLike[str]) -> SaveResult:
    """Write atomically: temp file in the same directory, fsync, rename, fsync the directory.

    On any failure the temp file is removed and the previous file at ``path`` is untouched;
    a full disk (ENOSPC/EDQUOT) raises MemoryDiskFull.
    """
    state = memory.snapshot()
    data = encode_state(state)
    target = Path(path)
    directory = target.parent
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
        try:
            os.fchmod(fd, 0o644)  # mkstemp makes 0600; a memory file is an ordinary file
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        tmp = None
    except BaseException as exc:
        if tmp is not None:
            _remove_quietly(tmp)
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
            raise MemoryDiskFull(str(exc)) from exc
        raise
    _fsync_dir(directory)
    return SaveResult(target, len(data), state.fingerprint)


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
