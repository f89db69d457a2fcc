"""The damage tools, on a synthetic envelope (no server, no reference code)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from atlas_suite import memfile
from atlas_suite.memfile import Damage

HEADER = {"model_fingerprint": "f" * 64, "arrays": [{"name": "w", "shape": [64]}]}


@pytest.fixture()
def good() -> bytes:
    return memfile.build(HEADER, bytes(range(256)) * 2)


def test_build_makes_a_valid_envelope(good: bytes) -> None:
    envelope = memfile.read_envelope(good)
    assert envelope.version == 1
    assert envelope.checksum_ok
    assert envelope.header == HEADER
    assert good[:8] == b"ATLASMEM"


def test_founding_corruption_keeps_size_and_breaks_checksum(good: bytes) -> None:
    damaged = Damage.parse("corrupted at byte 100").apply(good)
    assert len(damaged) == len(good)
    assert damaged[100:114] == b"CORRUPTED_DATA"
    assert not memfile.read_envelope(damaged).checksum_ok


def test_new_version_keeps_a_valid_checksum(good: bytes) -> None:
    damaged = Damage.parse("stamped with format version 2").apply(good)
    assert struct.unpack_from("<I", damaged, 8)[0] == 2
    assert memfile.read_envelope(damaged).checksum_ok
    assert damaged[12:-32] == good[12:-32]


@pytest.mark.parametrize(("phrase", "size"), [
    ("truncated to 50 bytes", 50), ("cut short by 32 bytes", None), ("emptied", 0)])
def test_truncations(good: bytes, phrase: str, size: int | None) -> None:
    damaged = Damage.parse(phrase).apply(good)
    assert len(damaged) == (len(good) - 32 if size is None else size)


def test_wrong_magic(good: bytes) -> None:
    damaged = Damage.parse("stamped with a wrong magic").apply(good)
    assert damaged[8:] == good[8:]
    with pytest.raises(memfile.NotAnAtlasFile):
        memfile.read_envelope(damaged)


def test_other_model_is_not_a_byte_damage(good: bytes) -> None:
    damage = Damage.parse("replaced by a memory from another model")
    assert damage.needs_other_model
    with pytest.raises(ValueError):
        damage.apply(good)


def test_unknown_damage_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="emptied"):
        Damage.parse("set on fire")


def test_overwrite_past_the_end_is_refused(good: bytes) -> None:
    with pytest.raises(ValueError):
        memfile.overwrite_at(good, len(good) - 3)


def test_apply_to_file(tmp_path: Path, good: bytes) -> None:
    path = tmp_path / "a.atlas"
    path.write_bytes(good)
    before = memfile.sha256_of(path)
    Damage.parse("corrupted at byte 100").apply_to_file(path)
    assert memfile.sha256_of(path) != before
