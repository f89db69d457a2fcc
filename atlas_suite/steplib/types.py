"""Typed step parameters, registered once with ``behave.register_type``.

Use them in step patterns as ``{status:Status}``, ``{value:JSON}``, ``{n:Int}``,
``{x:Number}``, ``{size:ByteSize}``, ``{method:Method}``, ``{kind:JsonKind}``,
``{damage:Damage}``, ``{region:Region}``, ``{cut:Cut}``, ``{part:ForgedPart}``, ``{harm:Harm}``,
``{values:Numbers}``, ``{axis:SweepAxis}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import parse
from behave import register_type

from atlas_suite.memfile import CUTS, FORGERIES, HARMS, Damage, RegionName

JSON_LITERAL = (
    r'true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|"(?:[^"\\]|\\.)*"|\[.*\]|\{.*\}'
)
_UNITS = {"b": 1, "byte": 1, "bytes": 1, "kb": 1024, "kib": 1024, "mb": 1024**2,
          "mib": 1024**2, "gb": 1024**3, "gib": 1024**3}
BYTE_SIZE = r"\d+(?:\.\d+)? ?(?:[KMG]i?B|B|bytes?)"
JSON_KINDS = {"string": str, "number": (int, float), "integer": int, "boolean": bool,
              "list": list, "object": dict}


@parse.with_pattern(r"[1-5]\d\d")
def parse_status(text: str) -> int:
    """An HTTP status code: 200, 404, ..."""
    return int(text)


@parse.with_pattern(JSON_LITERAL)
def parse_json(text: str) -> Any:
    """A JSON literal: true, null, 3, 0.5, "text", [1, 2], {"a": 1}."""
    return json.loads(text)


@parse.with_pattern(r"-?\d+")
def parse_int(text: str) -> int:
    """A whole number."""
    return int(text)


@parse.with_pattern(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
def parse_number(text: str) -> float:
    """A number: 3, 0.25, 1e-3."""
    return float(text)


@parse.with_pattern(BYTE_SIZE)
def parse_byte_size(text: str) -> int:
    """A size in bytes: "512 bytes", "64 KiB", "9 MiB" (KB and MB count 1024 too)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?) ?([A-Za-z]+)", text.strip())
    if not match:
        raise ValueError(f"not a size: {text!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


@parse.with_pattern(r"GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS")
def parse_method(text: str) -> str:
    """An HTTP method in capitals."""
    return text


@parse.with_pattern("|".join(JSON_KINDS))
def parse_json_kind(text: str) -> str:
    """A JSON kind: string, number, integer, boolean, list, object."""
    return text


@parse.with_pattern(Damage.PATTERN)
def parse_damage(text: str) -> Damage:
    """A way to damage a memory file: "corrupted at byte 100", "truncated to 50 bytes",
    "cut short by 32 bytes", "emptied", "stamped with a wrong magic",
    "stamped with format version 2", "replaced by a memory from another model"."""
    return Damage.parse(text)


def is_json_kind(value: Any, kind: str) -> bool:
    if kind in ("number", "integer") and isinstance(value, bool):
        return False  # JSON true is not a number, though Python's bool is an int
    return isinstance(value, JSON_KINDS[kind])


_REGISTERED: dict[str, Callable[[str], Any]] = {}


def _register(**parsers: Callable[[str], Any]) -> None:
    _REGISTERED.update(parsers)
    register_type(**parsers)


def registered() -> dict[str, Callable[[str], Any]]:
    """Every typed parameter this module registers, by name (for docs/steps.md)."""
    return dict(_REGISTERED)


_register(
    Status=parse_status, JSON=parse_json, Int=parse_int, Number=parse_number,
    ByteSize=parse_byte_size, Method=parse_method, JsonKind=parse_json_kind,
    Damage=parse_damage,
)


@parse.with_pattern(r"text|chat")
def parse_kind(text: str) -> str:
    """A completion kind: "text" (/v1/completions) or "chat" (/v1/chat/completions)."""
    return text


_register(Kind=parse_kind)

_NUMBER = r"\d+(?:\.\d+)?"


@parse.with_pattern(rf"{_NUMBER}(?:\s*(?:,|\band\b)\s*{_NUMBER})*")
def parse_numbers(text: str) -> list[float]:
    """A list of numbers separated by commas or "and": "0.5, 1, 2" or "1, 2 and 4"."""
    return [float(n) for n in re.findall(_NUMBER, text)]


@parse.with_pattern(r"rate|concurrency")
def parse_sweep_axis(text: str) -> str:
    """What a sweep steps up: the request "rate" (open loops) or the "concurrency" (users)."""
    return text


_register(Numbers=parse_numbers, SweepAxis=parse_sweep_axis)


@parse.with_pattern(r'[^"]*')
def parse_maybe_empty(text: str) -> str:
    """Text between double quotes that may be empty ("")."""
    return text


_register(MaybeEmpty=parse_maybe_empty)


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(re.escape(word) for word in words)


@parse.with_pattern(RegionName.PATTERN)
def parse_region(text: str) -> RegionName:
    """A region of a memory file, located from the file's own array table: "the magic",
    "the format version", "the header length", "the header", "the trailer", "the first array",
    "the last array", or "the NAME array" (the first array whose name is or contains NAME,
    as "the momentum array")."""
    return RegionName(text)


@parse.with_pattern(_alternatives(CUTS))
def parse_cut(text: str) -> str:
    """Where a memory file is cut short: "inside the header", "inside the first array",
    "inside the last array", "just before the trailer", "inside the trailer", "one byte short"."""
    return text


@parse.with_pattern(_alternatives(FORGERIES))
def parse_forged_part(text: str) -> str:
    """The part of a memory file changed under a recomputed trailer: "header length",
    "array table", "first array", "model fingerprint"."""
    return text


@parse.with_pattern(_alternatives(HARMS))
def parse_harm(text: str) -> str:
    """How each region of a memory file is harmed: "one flipped byte" or
    "the CORRUPTED_DATA stamp"."""
    return text


_register(Region=parse_region, Cut=parse_cut, ForgedPart=parse_forged_part, Harm=parse_harm)
