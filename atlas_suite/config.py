"""What a server is started with: one frozen dataclass whose fields map one-to-one to CLI flags."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

# field name -> CLI flag, for the fields that take a value
_VALUE_FLAGS: dict[str, str] = {
    "ctx_size": "-c",
    "parallel": "-np",
    "threads": "-t",
    "rate_limit": "--rate-limit",
    "memory_budget_mb": "--atlas-memory-budget-mb",
    "memory_file": "--atlas-memory-file",
    "window_size": "--atlas-window-size",
    "blend_ratio": "--atlas-blend-ratio",
    "pooling": "--pooling",
}
# field name -> CLI flag, for the boolean switches
_SWITCH_FLAGS: dict[str, str] = {"atlas": "--atlas", "persist": "--atlas-memory-persist",
                                 "embeddings": "--embeddings"}

MODELS = ("default", "tiny")


@dataclass(frozen=True)
class ServerConfig:
    """One server configuration; equal configurations share one running server.

    ``fsize_limit_kb`` is not a flag: the suite applies RLIMIT_FSIZE to the child process so that
    writes beyond it fail with EFBIG (a full disk, without privileges). ``model`` picks the
    default model or the tiny random one ("a model other than the default").
    """

    atlas: bool = True
    api_keys: tuple[str, ...] = ()
    api_key_file: tuple[str, ...] = ()  # keys the pool writes to a file for --api-key-file
    rate_limit: int | None = None
    memory_budget_mb: int | None = None
    parallel: int | None = 4
    ctx_size: int | None = 4096
    threads: int | None = None
    persist: bool = False
    memory_file: str | None = None
    window_size: int | None = None
    blend_ratio: float | None = None
    fsize_limit_kb: int | None = None
    model: str = "default"
    embeddings: bool = False
    pooling: str | None = None

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        for name in ("api_keys", "api_key_file"):
            if isinstance(getattr(self, name), str):  # a lone string splits into characters
                raise TypeError(f"{name} must be a tuple of strings")

    def with_(self, **changes: object) -> ServerConfig:
        """A copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def to_args(self) -> list[str]:
        """The CLI flags of this configuration, in a stable order."""
        args: list[str] = []
        for name, flag in _SWITCH_FLAGS.items():
            if getattr(self, name):
                args.append(flag)
        for key in self.api_keys:
            args += ["--api-key", key]
        for name, flag in _VALUE_FLAGS.items():
            value = getattr(self, name)
            if value is not None:
                args += [flag, str(value)]
        return args

    def label(self) -> str:
        """A short, file-name-safe description, for log names and messages (keys hidden)."""
        parts = ["atlas" if self.atlas else "openai"]
        defaults = ServerConfig()
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "atlas" or value == getattr(defaults, field.name):
                continue
            if field.name in ("api_keys", "api_key_file"):
                value = f"{len(value)}keys"
            parts.append(f"{field.name}={value}")
        return "_".join(str(p) for p in parts).replace("/", "-")
