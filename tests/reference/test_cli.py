"""The command line refuses bad flags with a clear message and exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from atlas_reference.cli import main, settings_from_args


@pytest.fixture()
def model(tmp_path: Path) -> Path:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF")
    return path


def refusal(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        settings_from_args(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_flags_map_to_settings(model: Path) -> None:
    settings = settings_from_args([
        "-m", str(model), "--atlas", "--port", "9000", "-c", "2048", "-np", "2",
        "--api-key", "a", "--api-key", "b", "--rate-limit", "10", "--atlas-window-size", "64",
        "--atlas-blend-ratio", "0.25", "--atlas-memory-budget-mb", "16", "--cuda",
    ])
    assert settings.atlas and settings.port == 9000 and settings.ctx_size == 2048
    assert settings.parallel == 2 and settings.api_keys == ("a", "b")
    assert settings.rate_limit == 10 and settings.window_size == 64
    assert settings.blend_ratio == 0.25 and settings.memory_budget_mb == 16
    assert settings.gpu_layers == 999


def test_embeddings_are_off_unless_asked_and_pool_by_the_mean(model: Path,
                                                              capsys: pytest.CaptureFixture[str]
                                                              ) -> None:
    assert not settings_from_args(["-m", str(model)]).embeddings
    settings = settings_from_args(["-m", str(model), "--embeddings", "--pooling", "cls"])
    assert settings.embeddings and settings.pooling == "cls"
    assert settings_from_args(["-m", str(model), "--embeddings"]).pooling == "mean"
    assert "--pooling" in refusal(["-m", str(model), "--pooling", "none"], capsys)


def test_api_key_file_adds_keys(model: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("one\n\n two \n")
    settings = settings_from_args(["-m", str(model), "--api-key-file", str(keys)])
    assert settings.api_keys == ("one", "two")


def test_missing_model_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert "model file not found: /nowhere.gguf" in refusal(["-m", "/nowhere.gguf"], capsys)


def test_no_model_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert "a model is required" in refusal([], capsys)


@pytest.mark.parametrize(("flags", "words"), [
    (["--atlas-window-size", "0"], "--atlas-window-size must be between 1"),
    (["--atlas-window-size", "5000"], "--atlas-window-size must be between 1"),
    (["--atlas-blend-ratio", "1.5"], "--atlas-blend-ratio must be between 0 and 1"),
    (["--atlas-memory-budget-mb", "0"], "--atlas-memory-budget-mb must be positive"),
    (["--rate-limit", "0"], "--rate-limit must be at least 1"),
    (["--atlas-memory-file", "../x.atlas"], "--atlas-memory-file: must be a plain file name"),
    (["--port", "70000"], "--port must be 0..65535"),
    (["--ctx-size", "abc"], "invalid int value"),
])
def test_bad_values_are_refused(model: Path, flags: list[str], words: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert words in refusal(["-m", str(model), *flags], capsys)


def test_the_console_entry_point_exits_2_with_the_reason() -> None:
    done = subprocess.run([sys.executable, "-m", "atlas_reference", "-m", "/nowhere.gguf"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "model file not found" in done.stderr


def test_fetch_model_prints_the_cached_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    cached = tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    cached.write_bytes(b"GGUF")  # already fetched: nothing is downloaded
    monkeypatch.setenv("ATLAS_MODEL_DIR", str(tmp_path))
    with pytest.raises(SystemExit) as exit_info:
        settings_from_args(["--fetch-model"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == str(cached)


def test_a_missing_engine_is_named_not_a_traceback(model: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    monkeypatch.delitem(sys.modules, "atlas_reference.app", raising=False)
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if the extra were not installed
    assert main(["-m", str(model)]) == 2
    err = capsys.readouterr().err
    assert "uvicorn is not installed" in err and "'.[reference]'" in err
