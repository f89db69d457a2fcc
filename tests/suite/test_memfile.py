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


# -- regions located from the file's own array table -------------------------------------------

TABLE = [{"name": "W1", "dtype": "float32", "shape": [4, 4], "offset": 0, "nbytes": 64},
         {"name": "b1", "dtype": "float32", "shape": [4], "offset": 64, "nbytes": 16},
         {"name": "momentum_W1", "dtype": "float32", "shape": [4, 4], "offset": 80, "nbytes": 64}]
REAL_HEADER = {"model_fingerprint": "ab" * 32, "fingerprint": "cd" * 32, "arrays": TABLE,
               "counters": {"tokens_memorized": 12, "updates": 3}}


def _file(seed: int = 0) -> bytes:
    return memfile.build(REAL_HEADER, bytes((i * 7 + seed) % 256 for i in range(144)))


def test_layout_follows_the_array_table() -> None:
    data = _file()
    regions = memfile.layout(data)
    labels = [r.label for r in regions]
    assert labels == ["the magic", "the format version", "the header length", "the header",
                      "the W1 array", "the b1 array", "the momentum_W1 array", "the trailer"]
    header_end = memfile.PREFIX_SIZE + memfile.read_envelope(data).header_length
    w1, b1, momentum = regions[4:7]
    assert (w1.start, w1.end) == (header_end, header_end + 64)
    assert (b1.start, momentum.start, momentum.end) == (header_end + 64, header_end + 80,
                                                          header_end + 144)
    assert regions[-1].start == len(data) - 32 and regions[-1].end == len(data)
    # the regions tile the whole file
    assert all(a.end == b.start for a, b in zip(regions, regions[1:], strict=False))


def test_layout_refuses_a_file_without_a_table() -> None:
    with pytest.raises(memfile.NotAnAtlasFile):
        memfile.layout(memfile.build({"model_fingerprint": "x"}, b"\0" * 8))


@pytest.mark.parametrize(("phrase", "label"), [
    ("the header", "the header"), ("the trailer", "the trailer"),
    ("the first array", "the W1 array"), ("the last array", "the momentum_W1 array"),
    ("the momentum array", "the momentum_W1 array"), ("the b1 array", "the b1 array"),
    ("the format version", "the format version")])
def test_region_names(phrase: str, label: str) -> None:
    assert memfile.RegionName(phrase).locate(_file()).label == label


def test_an_array_the_table_does_not_list_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="W1, b1, momentum_W1"):
        memfile.RegionName("the velocity array").locate(_file())


def test_flip_changes_exactly_one_byte_in_the_region() -> None:
    data = _file()
    region = memfile.RegionName("the momentum array").locate(data)
    damaged = memfile.flip_byte(data, region.middle)
    changed = [i for i, (a, b) in enumerate(zip(data, damaged, strict=True)) if a != b]
    assert changed == [region.middle]
    assert len(damaged) == len(data)
    assert not memfile.read_envelope(damaged).checksum_ok


def test_stamp_stays_in_the_file_and_covers_the_region() -> None:
    data = _file()
    trailer = memfile.RegionName("the trailer").locate(data)
    damaged = memfile.stamp(data, trailer)
    assert len(damaged) == len(data)
    at = damaged.index(memfile.FOUNDING_PAYLOAD)
    assert trailer.start <= at and at + 14 <= len(data)
    magic = memfile.stamp(data, memfile.RegionName("the magic").locate(data))
    assert magic.startswith(memfile.FOUNDING_PAYLOAD)


@pytest.mark.parametrize(("cut", "where"), [
    ("inside the header", "the header"), ("inside the first array", "the W1 array"),
    ("inside the last array", "the momentum_W1 array")])
def test_cuts_inside_regions(cut: str, where: str) -> None:
    data = _file()
    size = len(memfile.truncate_at(data, cut))
    assert memfile.region_of(memfile.layout(data), size) == where


def test_cuts_at_the_end() -> None:
    data = _file()
    assert len(memfile.truncate_at(data, "just before the trailer")) == len(data) - 32
    assert len(memfile.truncate_at(data, "inside the trailer")) == len(data) - 16
    assert len(memfile.truncate_at(data, "one byte short")) == len(data) - 1
    with pytest.raises(ValueError, match="one byte short"):
        memfile.truncate_at(data, "in half")


@pytest.mark.parametrize("part", list(memfile.FORGERIES))
def test_forgeries_carry_a_valid_trailer_over_a_real_change(part: str) -> None:
    data = _file()
    forged = memfile.forge(data, part)
    assert forged != data
    assert forged[-32:] == memfile.checksum(forged[:-32])


def test_forged_header_length_is_one_less() -> None:
    forged = memfile.forge(_file(), "header length")
    assert (struct.unpack_from("<I", forged, 12)[0]
            == memfile.read_envelope(_file()).header_length - 1)


def test_forged_array_table_claims_bytes_the_file_lacks() -> None:
    data = _file()
    forged = memfile.forge(data, "array table")
    header = memfile.read_envelope(forged).header
    assert header["arrays"][-1]["nbytes"] == 68
    assert forged.endswith(memfile.checksum(forged[:-32]))
    assert forged[-32 - 144:-32] == data[-32 - 144:-32]  # the arrays themselves are untouched


def test_forged_model_fingerprint_changes_only_that() -> None:
    header = memfile.read_envelope(memfile.forge(_file(), "model fingerprint")).header
    assert header["model_fingerprint"] != REAL_HEADER["model_fingerprint"]
    assert {k: v for k, v in header.items() if k != "model_fingerprint"} == {
        k: v for k, v in REAL_HEADER.items() if k != "model_fingerprint"}


def test_splice_puts_the_donor_arrays_under_this_header() -> None:
    ours, donor = _file(0), _file(1)
    spliced = memfile.splice(ours, donor)
    assert memfile.read_envelope(spliced).checksum_ok
    assert spliced[:-32 - 144] == ours[:-32 - 144]
    assert spliced[-32 - 144:-32] == donor[-32 - 144:-32]
    with pytest.raises(ValueError, match="same arrays"):
        memfile.splice(ours, ours)


def test_region_copies_damage_every_region_once() -> None:
    data = _file()
    for harm in memfile.HARMS:
        copies = memfile.region_copies(data, harm)
        assert len(copies) == len(memfile.layout(data))
        assert all(c.data != data and len(c.data) == len(data) for c in copies)
        assert any("momentum_W1" in c.what for c in copies)


def test_sweep_covers_every_region_and_is_deterministic() -> None:
    data = _file()
    offsets = memfile.sweep_offsets(data, 64)
    assert offsets == memfile.sweep_offsets(data, 64)
    assert len(offsets) >= 64 and len(set(offsets)) == len(offsets)
    assert all(0 <= o < len(data) for o in offsets)
    for region in memfile.layout(data):
        assert {region.start, region.end - 1} <= set(offsets), region.label
    copies = memfile.flipped_copies(data, offsets[:3])
    assert copies[0].what == "byte 0 (the magic)"
    assert all(c.data != data for c in copies)


def test_format_problems_of_a_good_file_and_of_bad_ones() -> None:
    data = _file()
    assert memfile.format_problems(data, 1) == []
    assert memfile.format_problems(data, 2) == ["the version field is 1, not 2"]
    assert memfile.format_problems(memfile.flip_byte(data, 40), 1) == [
        "the trailer is not the SHA-256 of every byte before it"]
    gap = dict(REAL_HEADER, arrays=[dict(TABLE[0]), dict(TABLE[2], offset=80)])
    problems = memfile.format_problems(memfile.build(gap, bytes(144)), 1)
    assert problems and "the W1 array ends" in problems[0]
    assert memfile.format_problems(b"NOTATLAS", 1)[0].startswith("not a readable memory file")


def test_resealed_arrays_are_not_asked_of_a_file_without_a_parameter_fingerprint() -> None:
    from atlas_suite.targets import Unsupported

    plain = memfile.build({"arrays": [{"name": "w", "offset": 0, "nbytes": 8}]}, b"\x00" * 8)
    with pytest.raises(Unsupported, match="no fingerprint of its parameters"):
        memfile.splice(plain, plain)


def test_a_held_file_sees_an_in_place_rewrite_but_not_a_replacement(tmp_path) -> None:
    import os

    path = tmp_path / "kept.atlas"
    path.write_bytes(b"A" * 64)
    held = memfile.HeldFile(path)
    replacement = tmp_path / "kept.atlas.tmp"
    replacement.write_bytes(b"B" * 64)
    os.replace(replacement, path)
    assert held.change_seen() is None
    held.close()
    held = memfile.HeldFile(path)
    path.write_bytes(b"C" * 10)  # truncate and rewrite in place
    assert "rewritten in place" in (held.change_seen() or "")
    held.close()
