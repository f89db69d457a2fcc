"""The typed step parameters parse what feature files write."""

from __future__ import annotations

import parse
import pytest

from atlas_suite.memfile import Damage
from atlas_suite.steplib import types


def _match(type_name: str, text: str) -> object:
    result = parse.parse(f"value {{v:{type_name}}}", f"value {text}",
                         extra_types=types.registered())
    if result is None:
        raise ValueError(f"{text!r} is not a {type_name}")
    return result["v"]


@pytest.mark.parametrize(("text", "value"), [
    ("true", True), ("null", None), ("3", 3), ("-0.1", -0.1), ("1e-3", 0.001),
    ('"big"', "big"), ("[1, 2]", [1, 2]), ('{"enabled": true, "window_size": 0}',
                                          {"enabled": True, "window_size": 0})])
def test_json(text: str, value: object) -> None:
    assert _match("JSON", text) == value


@pytest.mark.parametrize("text", ["big", "enabled", "a string"])
def test_json_rejects_bare_words(text: str) -> None:
    with pytest.raises(ValueError):
        _match("JSON", text)


@pytest.mark.parametrize(("text", "size"), [
    ("9 MiB", 9 * 1024**2), ("64 KiB", 65536), ("64 KB", 65536), ("512 bytes", 512),
    ("1.5 MB", 1572864)])
def test_byte_size(text: str, size: int) -> None:
    assert _match("ByteSize", text) == size


def test_status_is_a_three_digit_code() -> None:
    assert _match("Status", "404") == 404
    with pytest.raises(ValueError):
        _match("Status", "40")


def test_damage() -> None:
    assert _match("Damage", "corrupted at byte 100") == Damage("corrupted", 100)
    assert _match("Damage", "emptied") == Damage("emptied")


def test_json_kind_does_not_count_booleans_as_numbers() -> None:
    assert types.is_json_kind(3, "integer")
    assert not types.is_json_kind(True, "integer")
    assert not types.is_json_kind(True, "number")


def test_maybe_empty_and_kind() -> None:
    assert _match("MaybeEmpty", "") == ""
    assert _match("Kind", "chat") == "chat"
