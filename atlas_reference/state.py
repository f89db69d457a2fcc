"""The server's state: built once at start-up, shared by every route."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from atlas_reference import __version__
from atlas_reference.engine import Engine
from atlas_reference.features import TokenFeatures
from atlas_reference.limits import MemoryAdmission, SlidingWindowRateLimiter
from atlas_reference.memory import MemoryConfig
from atlas_reference.metrics import Metrics
from atlas_reference.params import DEFAULT_MEMORY
from atlas_reference.settings import ServerSettings
from atlas_reference.store import MemoryStore

log = logging.getLogger("atlas.server")


@dataclass
class ServerState:
    settings: ServerSettings
    metrics: Metrics = field(default_factory=Metrics)
    engine: Engine | None = None
    features: TokenFeatures | None = None
    store: MemoryStore | None = None
    admission: MemoryAdmission | None = None
    rate_limiter: SlidingWindowRateLimiter | None = None
    window_size: int = 256
    blend_ratio: float = 0.5
    ready: bool = False
    failure: str | None = None
    model_context_length: int = 0
    # Memory maths runs here, off the event loop, so one long update never stalls other requests.
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="atlas-mem"))

    def __post_init__(self) -> None:
        s = self.settings
        self.window_size = s.window_size
        self.blend_ratio = s.blend_ratio
        if s.rate_limit:
            self.rate_limiter = SlidingWindowRateLimiter(s.rate_limit)

    # -- start-up, in a worker thread so /health can answer 503 meanwhile --------------------

    def load(self) -> None:
        s = self.settings
        started = time.perf_counter()
        self.engine = Engine(s.model, ctx_size=s.ctx_size, parallel=s.parallel,
                             threads=s.threads, gpu_layers=s.gpu_layers,
                             cache_ram_mib=s.cache_ram_mib,
                             pooling=s.pooling if s.embeddings else None)
        self.model_context_length = _gguf_context_length(s.model) or s.ctx_size
        if s.atlas:
            config = MemoryConfig(window_size=s.window_size)
            self.features = TokenFeatures.from_gguf(
                s.model, key_dim=config.key_dim, feature_degree=config.feature_degree,
                seed=config.seed)
            self.store = MemoryStore(s.memory_dir, config, self.features.model_fingerprint)
            self.admission = MemoryAdmission(int(s.memory_budget_mb * 2**20),
                                             queue_limit=s.parallel)
            self._load_startup_memory()
        # Measured, never a constant: status reports a real rate from the first request on.
        self.metrics.record_generation_rate(self.engine.warm_up(s.warmup_tokens))
        log.info("ready in %.2f s (%.1f tokens/s measured)", time.perf_counter() - started,
                 self.metrics.tokens_per_second)

    def persistent_memory_file(self) -> str | None:
        s = self.settings
        if s.memory_file:
            return s.memory_file
        if s.memory_persist:
            return f"{s.model.stem}_memory.atlas"
        return None

    def _load_startup_memory(self) -> None:
        filename = self.persistent_memory_file()
        if not filename or self.store is None:
            return
        path = self.store.path(filename)
        if not path.exists():
            log.info("no %s yet: starting with a fresh memory", filename)
            return
        try:
            self.store.load(filename)
            log.info("loaded memory from %s", filename)
        except Exception as exc:  # noqa: BLE001 - keep the bad file for inspection, start fresh
            aside = path.with_name(f"{path.name}.rejected-{int(time.time())}")
            path.rename(aside)
            log.error("could not load %s (%s); kept it as %s and started fresh",
                      filename, getattr(exc, "message", exc), aside.name)

    def shutdown(self) -> None:
        filename = self.persistent_memory_file()
        if self.ready and self.store is not None and filename:
            try:
                self.store.save(filename, DEFAULT_MEMORY)
                log.info("saved memory to %s", filename)
            except Exception as exc:  # noqa: BLE001
                log.error("could not save memory to %s: %s", filename,
                          getattr(exc, "message", exc))
        self.executor.shutdown(wait=True)
        if self.engine is not None:
            self.engine.stop()

    async def run_blocking(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    # -- views --------------------------------------------------------------------------------

    def config_view(self) -> dict:
        c = self.store.config
        return {
            "window_size": self.window_size, "blend_ratio": self.blend_ratio,
            "blend_supported": False,  # this engine cannot alter llama.cpp's forward pass
            "learning_rate": c.learning_rate, "momentum": c.momentum,
            "weight_decay": c.weight_decay, "newton_schulz_steps": c.newton_schulz_steps,
            "feature_degree": c.feature_degree, "chunk_size": c.chunk_size, "layers": 2,
            "key_dim": c.key_dim, "hidden_dim": c.hidden_dim, "seed": c.seed,
        }

    def memory_view(self, name: str = DEFAULT_MEMORY) -> dict:
        memory = self.store.get(name)
        return {
            "name": name, "layers": memory.layers, "key_dim": memory.config.key_dim,
            "hidden_dim": memory.config.hidden_dim, "parameters": memory.parameters,
            "bytes": memory.nbytes, "tokens_memorized": memory.tokens_memorized,
            "updates": memory.updates, "omega_loss": memory.omega_loss,
            "fingerprint": memory.fingerprint, "source": self.store.source(name),
        }

    def status_view(self) -> dict:
        s = self.settings
        m = self.metrics
        return {
            "status": "ok",
            "uptime_seconds": round(m.uptime_seconds, 3),
            "atlas": {"enabled": True, "version": __version__},
            "model": {"name": s.model.stem,
                      "embedding_length": self.features.embedding_length,
                      "context_length": self.model_context_length},
            "memory": self.memory_view(),
            "config": self.config_view(),
            "performance": {
                "tokens_per_second": m.tokens_per_second,
                "requests_total": m.requests_total,
                "requests_active": m.requests_active,
                "requests_rejected": self.admission.rejected,
                "latency_ms": m.latency(),
            },
            "limits": {"parallel": s.parallel, "ctx_size": s.ctx_size,
                       "memory_budget_mb": s.memory_budget_mb, "rate_limit_rpm": s.rate_limit,
                       "max_body_bytes": s.max_body_bytes,
                       "admission_queue": s.parallel},  # the queue it promises: docs/api.md
        }


def _gguf_context_length(model: Path) -> int | None:
    """The model's trained context length from its GGUF metadata."""
    try:
        from gguf import GGUFReader

        reader = GGUFReader(str(model))
        for name, field_ in reader.fields.items():
            if name.endswith(".context_length"):
                return int(field_.parts[field_.data[0]][0])
    except Exception:  # noqa: BLE001 - informative only
        return None
    return None
