"""What the reference server runs with: the command line decides it, the app only reads it.

A module of its own so that the app and its state depend on the settings, not on the command
line that parses them (the command line starts the app).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    """Everything the command line decides; the app reads nothing else."""

    model: Path
    host: str = "127.0.0.1"
    port: int = 8080
    atlas: bool = False
    ctx_size: int = 4096
    parallel: int = 4
    threads: int | None = None
    api_keys: tuple[str, ...] = ()
    memory_dir: Path = Path("./atlas-memory")
    memory_file: str | None = None
    memory_persist: bool = False
    window_size: int = 256
    blend_ratio: float = 0.5
    memory_budget_mb: float = 512.0
    rate_limit: int | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    gpu_layers: int = 0
    cache_ram_mib: int = 0
    shutdown_timeout_s: float = 30.0
    warmup_tokens: int = 16
    embeddings: bool = False  # serve /v1/embeddings (llama-server's --embeddings)
    pooling: str = "mean"  # how token embeddings become one vector (--pooling)
    extra: dict = field(default_factory=dict)
