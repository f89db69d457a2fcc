"""The .atlas file: bit-exact round trips, corruption, versions, mismatches, atomic saves."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from atlas_reference import memfile
from atlas_reference.features import TokenFeatures
from atlas_reference.memfile import (
    CorruptedMemoryFile,
    MemoryDiskFull,
    MemoryFileError,
    MemoryModelMismatch,
    UnsupportedMemoryFileVersion,
)
from atlas_reference.memory import AtlasMemory, MemoryConfig


def _rechecksum(body: bytes) -> bytes:
    """A genuine file from a body: what a writer of that body would have produced."""
    return body + hashlib.sha256(body).digest()


def _with_header(data: bytes, edit) -> bytes:
    """Re-encode a file with its JSON header changed by ``edit`` (checksum made valid)."""
    (header_len,) = struct.unpack_from("<I", data, 12)
    header = json.loads(data[16 : 16 + header_len])
    edit(header)
    raw = json.dumps(header).encode()
    body = data[:12] + struct.pack("<I", len(raw)) + raw + data[16 + header_len : -32]
    return _rechecksum(body)


@pytest.fixture
def trained(memory: AtlasMemory, features: TokenFeatures, text_ids: np.ndarray) -> AtlasMemory:
    memory.memorize(*features.pairs(text_ids))
    return memory


# -- round trips ----------------------------------------------------------------------------


def test_layout_matches_the_spec(trained: AtlasMemory) -> None:
    data = memfile.encode(trained)
    magic, version, header_len = struct.unpack_from("<8sII", data)
    assert (magic, version) == (b"ATLASMEM", 1)
    header = json.loads(data[16 : 16 + header_len].decode("utf-8"))
    assert header["model_fingerprint"] == trained.model_fingerprint
    assert header["dims"] == {"layers": 2, "key_dim": 64, "hidden_dim": 256, "feature_degree": 2}
    assert header["counters"]["tokens_memorized"] == 256
    region = data[16 + header_len : -32]
    w1 = next(a for a in header["arrays"] if a["name"] == "W1")
    stored = np.frombuffer(region[w1["offset"] : w1["offset"] + w1["nbytes"]], "<f4")
    np.testing.assert_array_equal(stored.reshape(w1["shape"]), trained.state_arrays()["W1"])
    assert data[-32:] == hashlib.sha256(data[:-32]).digest()


def test_save_then_load_continues_bit_exactly(
    trained: AtlasMemory, features: TokenFeatures, other_text_ids: np.ndarray, tmp_path: Path
) -> None:
    path = tmp_path / "session.atlas"
    result = memfile.save(trained, path)
    assert result.bytes == path.stat().st_size and result.fingerprint == trained.fingerprint
    loaded = memfile.load(path, trained.model_fingerprint, trained.dims)
    assert loaded.fingerprint == trained.fingerprint
    assert (loaded.tokens_memorized, loaded.updates, loaded.omega_loss) == (
        trained.tokens_memorized, trained.updates, trained.omega_loss)
    pairs = features.pairs(other_text_ids)
    assert loaded.memorize(*pairs).omega_loss == trained.memorize(*pairs).omega_loss
    assert loaded.fingerprint == trained.fingerprint
    for name, array in trained.state_arrays().items():  # momentum included
        np.testing.assert_array_equal(loaded.state_arrays()[name], array)


def test_save_replaces_the_previous_file(trained, features, other_text_ids, tmp_path) -> None:
    path = tmp_path / "a.atlas"
    memfile.save(trained, path)
    trained.memorize(*features.pairs(other_text_ids))
    memfile.save(trained, path)
    assert memfile.load(path).fingerprint == trained.fingerprint
    assert [p.name for p in tmp_path.iterdir()] == ["a.atlas"]


# -- corruption -----------------------------------------------------------------------------


def test_every_byte_flip_is_corruption(tiny_memory: AtlasMemory) -> None:
    data = memfile.encode(tiny_memory)
    assert memfile.decode(data).fingerprint == tiny_memory.fingerprint
    for offset in range(len(data)):  # magic, version, header, arrays and checksum alike
        flipped = bytearray(data)
        flipped[offset] ^= 0xFF
        with pytest.raises(CorruptedMemoryFile, match="corruption"):
            memfile.decode(bytes(flipped))


def test_byte_flips_across_a_full_size_file(trained: AtlasMemory) -> None:
    data = memfile.encode(trained)
    offsets = {*range(0, 512), 100, *range(512, len(data), 997), *range(len(data) - 40, len(data))}
    for offset in sorted(offsets):
        flipped = bytearray(data)
        flipped[offset] ^= 0x01
        with pytest.raises(CorruptedMemoryFile):
            memfile.decode(bytes(flipped))


def test_corrupted_data_at_offset_100(trained: AtlasMemory, tmp_path: Path) -> None:
    path = tmp_path / "c.atlas"
    memfile.save(trained, path)
    with open(path, "r+b") as handle:  # what the founding document does
        handle.seek(100)
        handle.write(b"CORRUPTED_DATA")
    with pytest.raises(CorruptedMemoryFile, match="corruption"):
        memfile.load(path)


@pytest.mark.parametrize("cut", [0, 1, 8, 15, 16, 47, 100, 1000, -33, -32, -1])
def test_truncation_is_corruption(tiny_memory: AtlasMemory, cut: int) -> None:
    data = memfile.encode(tiny_memory)
    with pytest.raises(CorruptedMemoryFile, match="corruption"):
        memfile.decode(data[:cut])


def test_empty_file_and_wrong_magic(tiny_memory: AtlasMemory, tmp_path: Path) -> None:
    empty = tmp_path / "empty.atlas"
    empty.write_bytes(b"")
    with pytest.raises(CorruptedMemoryFile):
        memfile.load(empty)
    body = b"GGUFMEM!" + memfile.encode(tiny_memory)[8:-32]
    with pytest.raises(CorruptedMemoryFile):
        memfile.decode(_rechecksum(body))


@pytest.mark.parametrize("edit", [
    lambda h: h.update(arrays=h["arrays"][:-1]),
    lambda h: h["arrays"][0].update(offset=h["arrays"][0]["offset"] + 4),
    lambda h: h["arrays"][0].update(nbytes=10**12),
    lambda h: h["arrays"][0].update(shape=[1, 2, 3]),
    lambda h: h["arrays"][1].update(name="W1"),
    lambda h: h["arrays"][2].update(dtype="float64"),
    lambda h: h["config"].update(key_dim=32),
    lambda h: h["config"].update(learning_rate="fast"),
    lambda h: h["config"].pop("seed"),
    lambda h: h["counters"].update(tokens_memorized=-1),
    lambda h: h["counters"].update(omega_loss="low"),
    lambda h: h.update(fingerprint="0" * 64),
    lambda h: h.pop("model_fingerprint"),
    lambda h: h.update(created=None),
])
def test_inconsistent_headers_are_corruption(tiny_memory: AtlasMemory, edit) -> None:
    """Even with a valid checksum, a header that disagrees with itself is corruption."""
    with pytest.raises(CorruptedMemoryFile):
        memfile.decode(_with_header(memfile.encode(tiny_memory), edit))


def test_garbage_with_a_valid_checksum_is_corruption(tiny_memory: AtlasMemory) -> None:
    data = memfile.encode(tiny_memory)
    for header in (b"\xff\xfe not utf8", b"{not json", b"[1, 2]", b"null", b"[" * 100000):
        body = data[:12] + struct.pack("<I", len(header)) + header
        with pytest.raises(CorruptedMemoryFile):
            memfile.decode(_rechecksum(body))
    huge_header_len = data[:12] + struct.pack("<I", 2**32 - 1) + data[16:-32]
    with pytest.raises(CorruptedMemoryFile):
        memfile.decode(_rechecksum(huge_header_len))


def test_random_rechecksummed_mutations_raise_only_memory_file_errors(tiny_memory) -> None:
    data = memfile.encode(tiny_memory)
    rng = np.random.default_rng(5)
    for _ in range(300):
        body = bytearray(data[:-32])
        for offset in rng.integers(8, 16 + 200, size=rng.integers(1, 4)):
            body[offset] = int(rng.integers(0, 256))
        with contextlib.suppress(MemoryFileError):  # success is fine too; others escape
            memfile.decode(_rechecksum(bytes(body)))


# -- versions and mismatches ----------------------------------------------------------------


def test_a_genuine_version_2_file_is_unsupported(tiny_memory: AtlasMemory) -> None:
    body = bytearray(memfile.encode(tiny_memory)[:-32])
    struct.pack_into("<I", body, 8, 2)
    with pytest.raises(UnsupportedMemoryFileVersion, match="unsupported memory file version"):
        memfile.decode(_rechecksum(bytes(body)))


def test_another_models_memory_is_a_mismatch(trained: AtlasMemory) -> None:
    data = memfile.encode(trained)
    with pytest.raises(MemoryModelMismatch, match="model mismatch"):
        memfile.decode(data, expected_model_fingerprint="f" * 64)
    assert memfile.decode(data, trained.model_fingerprint).fingerprint == trained.fingerprint


def test_other_dimensions_are_a_mismatch(trained: AtlasMemory) -> None:
    narrow = AtlasMemory(MemoryConfig(key_dim=32), trained.model_fingerprint)
    with pytest.raises(MemoryModelMismatch, match="model mismatch"):
        memfile.decode(memfile.encode(narrow), trained.model_fingerprint, trained.dims)


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        memfile.load(tmp_path / "absent.atlas")


def test_a_failed_load_leaves_the_memory_in_use_unchanged(trained, tmp_path) -> None:
    before = trained.fingerprint, trained.tokens_memorized, trained.state_arrays()["W1"]
    bad = tmp_path / "bad.atlas"
    bad.write_bytes(b"ATLASMEM" + b"\0" * 100)
    in_use = trained
    with pytest.raises(CorruptedMemoryFile):
        in_use = memfile.load(bad, trained.model_fingerprint, trained.dims)
    assert in_use is trained
    assert (trained.fingerprint, trained.tokens_memorized) == before[:2]
    np.testing.assert_array_equal(trained.state_arrays()["W1"], before[2])


# -- atomic saves ---------------------------------------------------------------------------


def _write_to_dev_full(fd: int, data: bytes) -> None:
    """Send the bytes to /dev/full: the kernel answers ENOSPC, as a full disk would."""
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        os.write(full, data)
    finally:
        os.close(full)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_keeps_the_previous_file(
    trained, features, other_text_ids, tmp_path, monkeypatch
) -> None:
    path = tmp_path / "keep.atlas"
    memfile.save(trained, path)
    saved = trained.fingerprint
    trained.memorize(*features.pairs(other_text_ids))
    monkeypatch.setattr(memfile, "_write_all", _write_to_dev_full)
    with pytest.raises(MemoryDiskFull, match="disk space"):
        memfile.save(trained, path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.atlas"]  # no temp file left
    assert memfile.load(path).fingerprint == saved


def test_an_interrupted_save_keeps_the_previous_file(trained, tmp_path, monkeypatch) -> None:
    path = tmp_path / "keep.atlas"
    memfile.save(trained, path)

    def crash(fd: int, data: bytes) -> None:
        os.write(fd, data[: len(data) // 2])
        raise KeyboardInterrupt  # a kill mid-write, as far as the file system can tell

    monkeypatch.setattr(memfile, "_write_all", crash)
    with pytest.raises(KeyboardInterrupt):
        memfile.save(trained, path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.atlas"]
    assert memfile.load(path).fingerprint == trained.fingerprint


def test_save_into_a_missing_directory_raises_oserror(trained, tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        memfile.save(trained, tmp_path / "nowhere" / "a.atlas")
