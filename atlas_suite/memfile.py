"""Tools for ``.atlas`` memory files that need only the format's envelope (docs/api.md).

Layout: magic ``ATLASMEM`` (8 bytes), version u32 LE (bytes 8..12), header length u32 LE,
a JSON header, the arrays, and a trailing SHA-256 of every byte before it. The damage tools
produce each kind of broken file a server must refuse.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas_suite.targets import Unsupported

MAGIC = b"ATLASMEM"
VERSION_OFFSET = 8
HEADER_LENGTH_OFFSET = 12
PREFIX_SIZE = 16
CHECKSUM_SIZE = 32
FOUNDING_PAYLOAD = b"CORRUPTED_DATA"  # what the founding document writes at offset 100


class NotAnAtlasFile(ValueError):
    """The bytes do not have the envelope of an .atlas file."""


@dataclass(frozen=True)
class Envelope:
    """What the envelope says about a file."""

    version: int
    header_length: int
    header: dict[str, Any]
    checksum_ok: bool
    size: int


def checksum(body: bytes) -> bytes:
    return hashlib.sha256(body).digest()


def read_envelope(data: bytes) -> Envelope:
    """Parse the envelope; raises NotAnAtlasFile when the magic or sizes are wrong."""
    if len(data) < PREFIX_SIZE + CHECKSUM_SIZE or not data.startswith(MAGIC):
        raise NotAnAtlasFile("too short or no ATLASMEM magic")
    version, header_length = struct.unpack_from("<II", data, VERSION_OFFSET)
    header_end = PREFIX_SIZE + header_length
    if header_end > len(data) - CHECKSUM_SIZE:
        raise NotAnAtlasFile(f"header length {header_length} runs past the end")
    header = json.loads(data[PREFIX_SIZE:header_end].decode("utf-8"))
    ok = checksum(data[:-CHECKSUM_SIZE]) == data[-CHECKSUM_SIZE:]
    return Envelope(version, header_length, header, ok, len(data))


def build(header: dict[str, Any], arrays: bytes = b"", version: int = 1) -> bytes:
    """A well-formed file from a header and raw array bytes (used to test these tools)."""
    header_bytes = json.dumps(header, sort_keys=True).encode("utf-8")
    body = MAGIC + struct.pack("<II", version, len(header_bytes)) + header_bytes + arrays
    return body + checksum(body)


def reseal(data: bytes) -> bytes:
    """Recompute the trailing SHA-256, so only a deliberate change remains."""
    body = data[:-CHECKSUM_SIZE]
    return body + checksum(body)


def overwrite_at(data: bytes, offset: int, payload: bytes = FOUNDING_PAYLOAD) -> bytes:
    """Overwrite bytes in place (the size stays the same); the checksum no longer matches."""
    if offset < 0 or offset + len(payload) > len(data):
        raise ValueError(f"cannot write {len(payload)} bytes at {offset} in {len(data)} bytes")
    return data[:offset] + payload + data[offset + len(payload):]


def truncate(data: bytes, size: int) -> bytes:
    if not 0 <= size < len(data):
        raise ValueError(f"cannot truncate {len(data)} bytes to {size}")
    return data[:size]


def wrong_magic(data: bytes) -> bytes:
    return b"NOTATLAS" + data[len(MAGIC):]


def with_version(data: bytes, version: int) -> bytes:
    """A genuine-looking file of another format version: the checksum is recomputed."""
    read_envelope(data)
    patched = data[:VERSION_OFFSET] + struct.pack("<I", version) + data[VERSION_OFFSET + 4:]
    return reseal(patched)


@dataclass(frozen=True)
class Damage:
    """One way to damage a memory file, named in business words in the feature files."""

    kind: str
    amount: int = 0

    PHRASES = {
        "corrupted": r"corrupted at byte (?P<n>\d+)",
        "flipped": r"corrupted by one flipped byte at byte (?P<n>\d+)",
        "truncated": r"truncated to (?P<n>\d+) bytes",
        "cut_short": r"cut short by (?P<n>\d+) bytes",
        "emptied": r"emptied",
        "wrong_magic": r"stamped with a wrong magic",
        "version": r"stamped with format version (?P<n>\d+)",
        "other_model": r"replaced by a memory from another model",
    }
    # for a step parameter type: parse wants no capturing groups
    PATTERN = "|".join(f"(?:{p.replace('(?P<n>', '(?:')})" for p in PHRASES.values())

    @classmethod
    def parse(cls, text: str) -> Damage:
        for kind, pattern in cls.PHRASES.items():
            match = re.fullmatch(pattern, text.strip())
            if match:
                amount = match.groupdict().get("n")
                return cls(kind, int(amount) if amount else 0)
        raise ValueError(f"unknown damage {text!r}; known: {', '.join(cls.PHRASES.values())}")

    @property
    def needs_other_model(self) -> bool:
        return self.kind == "other_model"

    def apply(self, data: bytes) -> bytes:
        if self.kind == "corrupted":
            return overwrite_at(data, self.amount)
        if self.kind == "flipped":
            return flip_byte(data, self.amount)
        if self.kind == "truncated":
            return truncate(data, self.amount)
        if self.kind == "cut_short":
            return truncate(data, len(data) - self.amount)
        if self.kind == "emptied":
            return b""
        if self.kind == "wrong_magic":
            return wrong_magic(data)
        if self.kind == "version":
            return with_version(data, self.amount)
        raise ValueError(f"{self.kind} is not a byte-level damage")

    def apply_to_file(self, path: Path) -> None:
        path.write_bytes(self.apply(path.read_bytes()))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the file's regions, located from its own array table (docs/api.md) -------------------------

FLIP_MASK = 0x01  # a one-bit change: the subtlest damage, a float's last mantissa bit


@dataclass(frozen=True)
class Region:
    """A stretch of a file, ``start`` included, ``end`` excluded, named in product words."""

    label: str
    start: int
    end: int
    array: str | None = None  # the table's name for an array region

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def middle(self) -> int:
        return self.start + self.size // 2

    def __contains__(self, offset: object) -> bool:
        return isinstance(offset, int) and self.start <= offset < self.end


def _array_table(header: dict[str, Any]) -> list[tuple[str, int, int]]:
    table = header.get("arrays")
    if not isinstance(table, list) or not table:
        raise NotAnAtlasFile("the header has no table of arrays")
    entries = []
    for entry in table:
        if not isinstance(entry, dict):
            raise NotAnAtlasFile(f"an array table entry is not an object: {entry!r}")
        name, offset, nbytes = entry.get("name"), entry.get("offset"), entry.get("nbytes")
        if not (isinstance(name, str) and isinstance(offset, int) and isinstance(nbytes, int)
                and offset >= 0 and nbytes > 0):
            raise NotAnAtlasFile(f"an array table entry lacks name, offset or nbytes: {entry!r}")
        entries.append((name, offset, nbytes))
    return sorted(entries, key=lambda e: e[1])


def layout(data: bytes) -> list[Region]:
    """Every region of a well-formed file, in file order: the prefix fields, the header, each
    array of the header's table (at the offsets it gives), the trailer."""
    envelope = read_envelope(data)
    header_end = PREFIX_SIZE + envelope.header_length
    trailer = len(data) - CHECKSUM_SIZE
    regions = [Region("the magic", 0, len(MAGIC)),
               Region("the format version", VERSION_OFFSET, HEADER_LENGTH_OFFSET),
               Region("the header length", HEADER_LENGTH_OFFSET, PREFIX_SIZE),
               Region("the header", PREFIX_SIZE, header_end)]
    for name, offset, nbytes in _array_table(envelope.header):
        start = header_end + offset
        if start + nbytes > trailer:
            raise NotAnAtlasFile(f"array {name} runs past the trailer")
        regions.append(Region(f"the {name} array", start, start + nbytes, array=name))
    regions.append(Region("the trailer", trailer, len(data)))
    return regions


def region_of(regions: list[Region], offset: int) -> str:
    """The label of the region holding ``offset`` ("between regions" for unlisted bytes)."""
    for region in regions:
        if offset in region:
            return region.label
    return "between regions"


@dataclass(frozen=True)
class RegionName:
    """A region as a feature file names it: "the header", "the first array", "the momentum
    array" (the first array whose table name is, or contains, the word)."""

    phrase: str

    FIXED = ("the magic", "the format version", "the header length", "the header",
             "the trailer")
    PATTERN = r"the (?:magic|format version|header length|header|trailer|[A-Za-z0-9_]+ array)"

    def locate(self, data: bytes) -> Region:
        """The region in this file; LookupError when the file has no such array."""
        regions = layout(data)
        if self.phrase in self.FIXED:
            return next(r for r in regions if r.label == self.phrase)
        arrays = [r for r in regions if r.array is not None]
        word = self.phrase.removeprefix("the ").removesuffix(" array")
        if word == "first":
            return arrays[0]
        if word == "last":
            return arrays[-1]
        exact = [r for r in arrays if r.array == word]
        close = [r for r in arrays if word.lower() in (r.array or "").lower()]
        if exact or close:
            return (exact or close)[0]
        raise LookupError(f"the file's array table has no array named like {word!r} "
                          f"(it lists {', '.join(str(r.array) for r in arrays)})")


def flip_byte(data: bytes, offset: int, mask: int = FLIP_MASK) -> bytes:
    """The same file with one byte changed (XOR ``mask``)."""
    if not 0 <= offset < len(data):
        raise ValueError(f"offset {offset} is outside the {len(data)} bytes")
    return data[:offset] + bytes([data[offset] ^ mask]) + data[offset + 1:]


def stamp(data: bytes, region: Region, payload: bytes = FOUNDING_PAYLOAD) -> bytes:
    """The founding document's stamp written in the middle of a region (starting at the
    region's start when it is shorter than the stamp; never past the end of the file)."""
    start = max(region.start, region.middle - len(payload) // 2)
    start = min(start, len(data) - len(payload))
    return overwrite_at(data, start, payload)


CUTS = {
    "inside the header": lambda regions, size: _named(regions, "the header").middle,
    "inside the first array": lambda regions, size: _arrays(regions)[0].middle,
    "inside the last array": lambda regions, size: _arrays(regions)[-1].middle,
    "just before the trailer": lambda regions, size: size - CHECKSUM_SIZE,
    "inside the trailer": lambda regions, size: size - CHECKSUM_SIZE // 2,
    "one byte short": lambda regions, size: size - 1,
}


def _named(regions: list[Region], label: str) -> Region:
    return next(r for r in regions if r.label == label)


def _arrays(regions: list[Region]) -> list[Region]:
    return [r for r in regions if r.array is not None]


def truncate_at(data: bytes, cut: str) -> bytes:
    """The file cut at a point named in product words (see ``CUTS``)."""
    if cut not in CUTS:
        raise ValueError(f"unknown cut {cut!r}; known: {', '.join(CUTS)}")
    return truncate(data, CUTS[cut](layout(data), len(data)))


def _with_header(data: bytes, header: dict[str, Any]) -> bytes:
    """The file with another JSON header, the arrays unchanged, the trailer recomputed."""
    envelope = read_envelope(data)
    arrays = data[PREFIX_SIZE + envelope.header_length:-CHECKSUM_SIZE]
    return build(header, arrays, envelope.version)


def _forge_header_length(data: bytes) -> bytes:
    # one byte shorter: the header loses its closing brace, still valid UTF-8 but not JSON, and
    # the arrays gain a byte in front
    length = read_envelope(data).header_length - 1
    patched = (data[:HEADER_LENGTH_OFFSET] + struct.pack("<I", length)
               + data[PREFIX_SIZE:])
    return reseal(patched)


def _forge_array_table(data: bytes) -> bytes:
    header = read_envelope(data).header
    last = max(header["arrays"], key=lambda entry: entry["offset"])
    last["nbytes"] += 4  # the table now claims 4 bytes the file does not hold
    return _with_header(data, header)


def require_parameter_fingerprint(data: bytes) -> None:
    """Refuse (as unsupported) a file whose header records no fingerprint of its parameters.

    With a valid trailer, other parameters under a header are only detectable against a
    fingerprint the header records; the contract lists the header's fields without it, so a
    server that omits it is not failed for what it cannot see (docs/decisions.md)."""
    if not read_envelope(data).header.get("fingerprint"):
        raise Unsupported("the memory file's header records no fingerprint of its parameters, "
                          "so resealed arrays cannot be told from a valid file")


def _forge_first_array(data: bytes) -> bytes:
    require_parameter_fingerprint(data)
    return reseal(flip_byte(data, _arrays(layout(data))[0].middle))


def _forge_model_fingerprint(data: bytes) -> bytes:
    header = read_envelope(data).header
    found = str(header.get("model_fingerprint", ""))
    if not found:
        raise NotAnAtlasFile("the header records no model_fingerprint")
    header["model_fingerprint"] = found[:-1] + ("0" if found[-1] != "0" else "1")
    return _with_header(data, header)


FORGERIES = {
    "header length": _forge_header_length,
    "array table": _forge_array_table,
    "first array": _forge_first_array,
    "model fingerprint": _forge_model_fingerprint,
}


def forge(data: bytes, part: str) -> bytes:
    """Change one part of the file and recompute a valid trailer over the change, so only the
    reader's checks behind the checksum can tell (see ``FORGERIES``)."""
    if part not in FORGERIES:
        raise ValueError(f"unknown part {part!r}; known: {', '.join(FORGERIES)}")
    return FORGERIES[part](data)


def splice(data: bytes, donor: bytes) -> bytes:
    """This file's prefix and header around ``donor``'s arrays, with a valid trailer: a file
    whose header describes one memory and whose arrays hold another."""
    require_parameter_fingerprint(data)
    ours, theirs = layout(data), layout(donor)
    ours_arrays = [(r.array, r.size) for r in _arrays(ours)]
    if ours_arrays != [(r.array, r.size) for r in _arrays(theirs)]:
        raise ValueError("the two files do not hold the same arrays")
    start, donor_start = _arrays(ours)[0].start, _arrays(theirs)[0].start
    body = data[:start] + donor[donor_start:-CHECKSUM_SIZE]
    if body[start:] == data[start:-CHECKSUM_SIZE]:
        raise ValueError("the two files hold the same arrays: nothing would change")
    return body + checksum(body)


# -- many damaged copies of one file, for scenarios that load each in turn ----------------------


@dataclass(frozen=True)
class DamagedCopy:
    """One damaged copy of a file and, in product words, what was done to it."""

    what: str
    data: bytes


HARMS = ("one flipped byte", "the CORRUPTED_DATA stamp")


def region_copies(data: bytes, harm: str) -> list[DamagedCopy]:
    """One copy per region of the file (every array of its table included), each harmed in
    that region only: ``harm`` is one of ``HARMS``."""
    if harm not in HARMS:
        raise ValueError(f"unknown harm {harm!r}; known: {', '.join(HARMS)}")
    copies = []
    for region in layout(data):
        if harm == HARMS[0]:
            copies.append(DamagedCopy(f"{region.label}: byte {region.middle} flipped",
                                      flip_byte(data, region.middle)))
        else:
            copies.append(DamagedCopy(f"{region.label}: CORRUPTED_DATA written in it",
                                      stamp(data, region)))
    return copies


def sweep_offsets(data: bytes, count: int) -> list[int]:
    """At least ``count`` distinct offsets spread over the whole file, deterministic: the first,
    middle and last byte of every region, then evenly spaced offsets over the file."""
    if count < 1:
        raise ValueError("a sweep needs at least one offset")
    offsets: set[int] = set()
    for region in layout(data):
        offsets.update((region.start, region.middle, region.end - 1))
    step = len(data) / count
    offsets.update(min(len(data) - 1, int(i * step + step / 2)) for i in range(count))
    return sorted(offsets)


def flipped_copies(data: bytes, offsets: list[int]) -> list[DamagedCopy]:
    """One copy per offset with that single byte flipped, labelled with its region."""
    regions = layout(data)
    return [DamagedCopy(f"byte {offset} ({region_of(regions, offset)})", flip_byte(data, offset))
            for offset in offsets]


def format_problems(data: bytes, version: int) -> list[str]:
    """How a saved file departs from the format ``version`` envelope (docs/api.md): magic,
    version field, a JSON header whose array table tiles the bytes up to the trailer, and a
    trailer that is the SHA-256 of every byte before it. Empty for a conforming file."""
    try:
        envelope = read_envelope(data)
        regions = layout(data)
    except (NotAnAtlasFile, ValueError) as exc:
        return [f"not a readable memory file: {exc}"]
    problems = []
    if envelope.version != version:
        problems.append(f"the version field is {envelope.version}, not {version}")
    if not envelope.checksum_ok:
        problems.append("the trailer is not the SHA-256 of every byte before it")
    gaps = [f"{a.label} ends at {a.end} but {b.label} starts at {b.start}"
            for a, b in zip(regions, regions[1:], strict=False) if a.end != b.start]
    problems.extend(gaps)
    return problems


# -- atomic replacement, seen by a reader that holds the previous file -------------------------


class HeldFile:
    """A memory file opened and read whole, as a backup tool holds it while the server saves.

    A save by temporary file and rename leaves the held file as it was; a save that truncates
    and rewrites the file in place changes what the holder reads, which is exactly the window
    in which a crash leaves a broken file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = open(path, "rb")  # noqa: SIM115 - held open on purpose; close() ends it
        self.digest = hashlib.sha256(self._handle.read()).hexdigest()

    def change_seen(self) -> str | None:
        """What the holder sees changed since it opened the file, or None when nothing did."""
        self._handle.seek(0)
        now = self._handle.read()
        if hashlib.sha256(now).hexdigest() == self.digest:
            return None
        return (f"a reader that opened {self.path.name} before the save now reads {len(now)} "
                "different bytes: the file was rewritten in place instead of replaced by a "
                "complete new file, so a crash mid-save would leave it broken")

    def close(self) -> None:
        self._handle.close()
