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
