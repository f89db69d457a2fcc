"""The ATLAS request extension and configuration changes are validated field by field."""

from __future__ import annotations

import pytest

from atlas_reference.errors import ApiError
from atlas_reference.names import validate_memory_filename
from atlas_reference.params import parse_atlas_extension, validate_config_change

DEFAULTS = {"ctx_size": 4096, "default_window": 256, "default_blend": 0.5}


def test_absent_or_disabled_extension_means_plain_openai() -> None:
    assert parse_atlas_extension(None, **DEFAULTS) is None
    assert parse_atlas_extension({"enabled": False}, **DEFAULTS) is None


def test_enabled_extension_takes_server_defaults() -> None:
    options = parse_atlas_extension({"enabled": True}, **DEFAULTS)
    assert (options.window_size, options.blend_ratio, options.memory) == (256, 0.5, "default")


@pytest.mark.parametrize(("raw", "param"), [
    ({"enabled": True, "window_size": 0}, "atlas.window_size"),
    ({"enabled": True, "window_size": 4097}, "atlas.window_size"),
    ({"enabled": True, "window_size": 1.5}, "atlas.window_size"),
    ({"enabled": True, "window_size": True}, "atlas.window_size"),
    ({"enabled": True, "blend_ratio": 1.01}, "atlas.blend_ratio"),
    ({"enabled": True, "blend_ratio": "x"}, "atlas.blend_ratio"),
    ({"enabled": 1}, "atlas.enabled"),
    ({"enabled": True, "colour": "blue"}, "atlas.colour"),
    ({"enabled": True, "memory_file": "../x.atlas"}, "atlas.memory_file"),
    ({"enabled": False, "memory_file": "/etc/passwd"}, "atlas.memory_file"),
    ("on", "atlas"),
])
def test_invalid_extension_names_the_field(raw: object, param: str) -> None:
    with pytest.raises(ApiError) as refused:
        parse_atlas_extension(raw, **DEFAULTS)
    assert refused.value.status == 400
    assert refused.value.param == param


@pytest.mark.parametrize(("change", "param"), [
    ({"window_size": 0}, "window_size"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"momentum": 1.0}, "momentum"),
    ({"newton_schulz_steps": 21}, "newton_schulz_steps"),
    ({"key_dim": 32}, "key_dim"),
])
def test_invalid_config_change_names_the_field(change: dict, param: str) -> None:
    with pytest.raises(ApiError) as refused:
        validate_config_change(change, ctx_size=4096)
    assert refused.value.param == param


@pytest.mark.parametrize("name", ["", ".atlas", "a/b.atlas", "..x.atlas", "/abs.atlas",
                                  "noext", "-lead.atlas", "x" * 130 + ".atlas", 7])
def test_bad_memory_file_names(name: object) -> None:
    assert validate_memory_filename(name) is not None


@pytest.mark.parametrize("name", ["a.atlas", "Session_1.v2-final.atlas", "9.atlas"])
def test_good_memory_file_names(name: str) -> None:
    assert validate_memory_filename(name) is None
