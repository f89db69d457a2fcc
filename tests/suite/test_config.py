"""ServerConfig -> CLI flags, userdata -> target settings, target -> command line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from atlas_suite.config import ServerConfig
from atlas_suite.server import free_port, redact
from atlas_suite.targets import TargetSettings, Unsupported, server_argv


def test_default_config_flags() -> None:
    assert ServerConfig().to_args() == ["--atlas", "-c", "4096", "-np", "4"]


def test_every_field_maps_to_its_flag() -> None:
    config = ServerConfig(atlas=True, api_keys=("k1", "k2"), rate_limit=3, memory_budget_mb=1,
                          parallel=2, ctx_size=2048, threads=2, persist=True,
                          memory_file="boot.atlas", window_size=64, blend_ratio=0.7,
                          fsize_limit_kb=64)
    assert config.to_args() == [
        "--atlas", "--atlas-memory-persist", "--api-key", "k1", "--api-key", "k2",
        "-c", "2048", "-np", "2", "-t", "2", "--rate-limit", "3",
        "--atlas-memory-budget-mb", "1", "--atlas-memory-file", "boot.atlas",
        "--atlas-window-size", "64", "--atlas-blend-ratio", "0.7"]


def test_fsize_limit_and_model_are_not_flags() -> None:
    assert ServerConfig(fsize_limit_kb=64, model="tiny").to_args() == ServerConfig().to_args()


def test_configs_are_hashable_pool_keys() -> None:
    assert {ServerConfig(): 1}[ServerConfig().with_()] == 1
    assert ServerConfig(rate_limit=3) != ServerConfig()


def test_label_hides_keys() -> None:
    label = ServerConfig(api_keys=("secret",)).label()
    assert "secret" not in label and "1keys" in label


def test_bad_model_and_lone_string_key_are_refused() -> None:
    with pytest.raises(ValueError):
        ServerConfig(model="huge")
    with pytest.raises(TypeError):
        ServerConfig(api_keys="secret")  # type: ignore[arg-type]


def test_userdata_defaults() -> None:
    settings = TargetSettings.from_userdata({"model": "", "base_url": ""})
    assert (settings.target, settings.profile, settings.model) == ("reference", "atlas", None)
    assert settings.default_config() == ServerConfig(atlas=True, parallel=4, ctx_size=4096)


def test_openai_profile_starts_without_atlas() -> None:
    settings = TargetSettings.from_userdata({"profile": "openai"})
    assert not settings.atlas and "--atlas" not in settings.default_config().to_args()


@pytest.mark.parametrize("userdata", [
    {"target": "nope"}, {"profile": "claude"}, {"target": "command"}, {"target": "url"},
    {"target": "url", "base_url": "http://example.com:8080"}, {"host": "0.0.0.0"}])
def test_invalid_userdata(userdata: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        TargetSettings.from_userdata(userdata)


def test_reference_argv() -> None:
    argv = server_argv(TargetSettings(), ServerConfig(rate_limit=3), port=8080,
                       model=Path("/m.gguf"), memory_dir=Path("/mem"))
    assert argv[:3] == [sys.executable, "-m", "atlas_reference"]
    assert argv[3:] == ["-m", "/m.gguf", "--host", "127.0.0.1", "--port", "8080",
                        "--atlas-memory-dir", "/mem", "--atlas", "-c", "4096", "-np", "4",
                        "--rate-limit", "3"]


def test_command_argv_fills_placeholders_and_does_not_repeat_switches() -> None:
    settings = TargetSettings(target="command", command=(
        "./llama-server -m {model} --host {host} --port {port} --atlas "
        "--atlas-memory-dir {memory_dir}"))
    argv = server_argv(settings, ServerConfig(), port=9000, model=Path("/a b/m.gguf"),
                       memory_dir=Path("/mem"))
    assert argv == ["./llama-server", "-m", "/a b/m.gguf", "--host", "127.0.0.1", "--port",
                    "9000", "--atlas", "--atlas-memory-dir", "/mem", "-c", "4096", "-np", "4"]


def test_url_target_cannot_start_servers() -> None:
    settings = TargetSettings(target="url", base_url="http://127.0.0.1:1")
    with pytest.raises(Unsupported):
        server_argv(settings, ServerConfig(), port=1, model=Path("m"), memory_dir=Path("d"))


def test_redact_hides_api_keys() -> None:
    assert redact(["x", "--api-key", "secret", "-c", "1"]) == ["x", "--api-key", "***", "-c", "1"]


def test_free_port_is_bindable() -> None:
    import socket

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
