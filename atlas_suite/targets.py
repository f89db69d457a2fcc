"""Which server the suite tests, read from behave userdata (``-D name=value``).

* ``target=reference`` (default): start the reference server as a process.
* ``target=command``: start ``command=`` (a template with ``{port}``, ``{model}``,
  ``{memory_dir}``, ``{host}``); the configuration's flags are appended.
* ``target=url``: a server that is already running at ``base_url``; only its own configuration
  is available.
"""

from __future__ import annotations

import importlib.metadata
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from atlas_models import fetch_model
from atlas_suite.config import ServerConfig

TARGETS = ("reference", "command", "url")
PROFILES = ("atlas", "openai")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
REFERENCE_PACKAGE = "atlas_reference"  # started as `python -m`, never imported
DISTRIBUTION = "atlas-acceptance"
REFERENCE_MISSING = (
    "target=reference needs the reference server, an optional extra ({missing} not installed): "
    "pip install '.[reference]' (make setup does); or test another server with "
    "-D target=command or -D target=url")


class Unsupported(Exception):
    """The target cannot do what a scenario needs; the scenario is skipped with this reason."""


@dataclass(frozen=True)
class TargetSettings:
    """The target, as the userdata describes it."""

    target: str = "reference"
    profile: str = "atlas"
    model: str | None = None
    tiny_model: str | None = None
    command: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    memory_dir: Path | None = None
    host: str = "127.0.0.1"
    startup_timeout_s: float = 120.0
    log_dir: Path = Path("reports/logs")
    hardware: bool = False  # @hardware scenarios: absolute time bounds for a dedicated machine

    @classmethod
    def from_userdata(cls, userdata: Mapping[str, str]) -> TargetSettings:
        def text(name: str) -> str | None:
            value = userdata.get(name)
            return str(value).strip() or None if value is not None else None

        memory_dir = text("memory_dir")
        settings = cls(
            target=text("target") or "reference",
            profile=text("profile") or "atlas",
            model=text("model"),
            tiny_model=text("tiny_model"),
            command=text("command"),
            base_url=(text("base_url") or "").rstrip("/") or None,
            api_key=text("api_key"),
            memory_dir=Path(memory_dir) if memory_dir else None,
            host=text("host") or "127.0.0.1",
            startup_timeout_s=float(text("startup_timeout") or 120),
            log_dir=Path(text("log_dir") or "reports/logs"),
            hardware=(text("hardware") or "no").lower() in ("1", "yes", "true", "on"),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, got {self.target!r}")
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}, got {self.profile!r}")
        if self.host not in LOCAL_HOSTS:
            raise ValueError(f"the suite only talks to the local machine, not host={self.host}")
        if self.target == "reference" and (missing := reference_missing()):
            raise ValueError(REFERENCE_MISSING.format(missing=", ".join(missing)))
        if self.target == "command" and not self.command:
            raise ValueError("target=command needs -D command='... {port} ... {model} ...'")
        if self.target == "url":
            if not self.base_url:
                raise ValueError("target=url needs -D base_url=http://127.0.0.1:PORT")
            if urlsplit(self.base_url).hostname not in LOCAL_HOSTS:
                raise ValueError(f"the suite only talks to the local machine, not {self.base_url}")

    @property
    def atlas(self) -> bool:
        """Whether the target claims the ATLAS extension."""
        return self.profile == "atlas"

    def default_config(self) -> ServerConfig:
        """The configuration the Background's server runs with."""
        return ServerConfig(atlas=self.atlas, parallel=4, ctx_size=4096)

    def can_start_servers(self) -> bool:
        return self.target != "url"


def default_model_path() -> Path:
    """The default test model, downloaded once into ~/.cache by the neutral models package."""
    return Path(fetch_model())


def make_tiny_model(out_dir: Path) -> Path:
    """Generate the tiny random-weight GGUF (another model); a child process keeps gguf and
    numpy's start-up out of the run."""
    out = out_dir / "atlas-tiny.gguf"
    if not out.is_file():
        subprocess.run(
            [sys.executable, "-m", "atlas_models.tiny", str(out)],
            check=True, capture_output=True, text=True, timeout=120,
        )
    return out


def reference_missing() -> list[str]:
    """The reference server's requirements (the ``reference`` extra) not installed here.

    Read from the installed metadata, not by importing: the suite never imports the server."""
    try:
        requires = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:  # a checkout that was never installed
        return []
    wanted = [re.split(r"[\s;<>=!~\[(]", r, maxsplit=1)[0] for r in requires
              if re.search(r"""extra\s*==\s*["']reference["']""", r)]
    missing = []
    for name in wanted:
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    return missing


class ModelPaths:
    """Resolves ``ServerConfig.model`` ("default" / "tiny") to a file, once per run."""

    def __init__(self, settings: TargetSettings) -> None:
        self._settings = settings
        self._paths: dict[str, Path] = {}
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def path(self, model: str) -> Path:
        if model not in self._paths:
            self._paths[model] = self._resolve(model)
        return self._paths[model]

    def _resolve(self, model: str) -> Path:
        if model == "default":
            return Path(self._settings.model) if self._settings.model else default_model_path()
        if self._settings.tiny_model:
            return Path(self._settings.tiny_model)
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="atlas-suite-models-")
        return make_tiny_model(Path(self._scratch.name))

    def loaded(self, model: str) -> Path:
        """The file a server of this target loaded for ``model``; Unsupported where the suite
        cannot know it (a url target started without ``-D model=PATH``)."""
        if not self._settings.can_start_servers() and not (
                model == "default" and self._settings.model):
            raise Unsupported("the suite does not know which model file the url target "
                              "loaded (give it with -D model=PATH)")
        return self.path(model)

    def cleanup(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None


def server_argv(
    settings: TargetSettings, config: ServerConfig, *, port: int, model: Path, memory_dir: Path
) -> list[str]:
    """The command line that starts a server of ``config`` for a process target."""
    if settings.target == "reference":
        base = [
            sys.executable, "-m", REFERENCE_PACKAGE, "-m", str(model),
            "--host", settings.host, "--port", str(port), "--atlas-memory-dir", str(memory_dir),
        ]
    elif settings.target == "command":
        assert settings.command is not None
        template = settings.command.format(
            port=port, model=shlex.quote(str(model)), memory_dir=shlex.quote(str(memory_dir)),
            host=settings.host,
        )
        base = shlex.split(template)
    else:
        raise Unsupported("the url target runs a server the suite did not start")
    # a template may already hold a switch like --atlas; repeating it helps nobody
    extra = [a for a in config.to_args() if not (a.startswith("--") and a in base
                                                  and a in ("--atlas", "--atlas-memory-persist"))]
    return base + extra


def listed_model(listing: object, model: Path) -> str | None:
    """The id in a ``/v1/models`` answer that names ``model`` (by its file name, with or
    without ``.gguf``, as servers differ on path, name or stem), or None."""
    data = listing.get("data") if isinstance(listing, dict) else None
    for entry in data if isinstance(data, list) else []:
        ident = entry.get("id") if isinstance(entry, dict) else None
        if isinstance(ident, str) and Path(ident).name in (model.name, model.stem):
            return ident
    return None
