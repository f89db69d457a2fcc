"""Command line of the reference server: llama-server's flags plus the ATLAS ones.

    atlas-reference-server -m MODEL.gguf --atlas --host 127.0.0.1 --port 8080 [options]
    atlas-reference-server --fetch-model        # download the default test model, print its path
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from atlas_models import fetch_model
from atlas_reference import __version__
from atlas_reference.settings import DEFAULT_MAX_BODY_BYTES, ServerSettings

POOLING = ("mean", "cls", "last")  # llama.cpp's poolings that give one vector per input


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atlas-reference-server",
        description="OpenAI-compatible llama.cpp server with an ATLAS test-time memory.",
    )
    add = parser.add_argument
    add("-m", "--model", type=Path, help="the GGUF model")
    add("--fetch-model", action="store_true",
        help="download the default test model (SmolLM2-135M-Instruct) and print its path")
    add("--host", default="127.0.0.1")
    add("--port", type=int, default=8080)
    add("--atlas", action="store_true", help="enable the ATLAS memory and /v1/atlas/* routes")
    add("-c", "--ctx-size", type=int, default=4096)
    add("-np", "--parallel", type=int, default=4)
    add("-t", "--threads", type=int, default=None)
    add("--api-key", action="append", default=[], help="require this key (repeatable)")
    add("--api-key-file", type=Path, help="a file with one key per line")
    add("--atlas-memory-dir", type=Path, default=Path("./atlas-memory"))
    add("--atlas-memory-file", help="memory to load at start and write on graceful shutdown")
    add("--atlas-memory-persist", action="store_true",
        help="auto-load <model stem>_memory.atlas at start, save it on graceful shutdown")
    add("--atlas-window-size", type=int, default=256)
    add("--atlas-blend-ratio", type=float, default=0.5)
    add("--atlas-memory-budget-mb", type=float, default=512.0)
    add("--rate-limit", type=int, default=None, help="requests per minute per key or client")
    add("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES)
    add("--cuda", action="store_true", help="offload every layer to the GPU (-ngl 999)")
    add("-ngl", "--n-gpu-layers", type=int, default=0)
    add("--cache-ram", type=int, default=0,
        help="MiB of host memory for llama.cpp's prompt cache (0: off, bounded RSS)")
    add("--embeddings", action="store_true",
        help="serve /v1/embeddings as well as completions (llama-server's flag)")
    add("--pooling", choices=POOLING, default="mean",
        help="with --embeddings: how token embeddings become one vector (mean)")
    add("--shutdown-timeout", type=float, default=30.0,
        help="seconds in-flight requests get to finish on SIGTERM")
    add("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _read_api_keys(args: argparse.Namespace) -> tuple[str, ...]:
    keys = list(args.api_key)
    if args.api_key_file:
        text = args.api_key_file.read_text(encoding="utf-8")
        keys += [line.strip() for line in text.splitlines() if line.strip()]
    return tuple(keys)


def settings_from_args(argv: list[str] | None = None) -> ServerSettings:
    """Parse and validate; exit 2 with a clear message on anything wrong."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.fetch_model:
        print(fetch_model())
        raise SystemExit(0)
    if args.model is None:
        parser.error("a model is required: -m MODEL.gguf (or --fetch-model to get the default)")
    if not args.model.is_file():
        parser.error(f"model file not found: {args.model}")
    checks = [
        (1 <= args.port <= 65535 or args.port == 0, "--port must be 0..65535"),
        (args.ctx_size >= 64, "--ctx-size must be at least 64"),
        (args.parallel >= 1, "--parallel must be at least 1"),
        (1 <= args.atlas_window_size <= args.ctx_size,
         "--atlas-window-size must be between 1 and the context size"),
        (0.0 <= args.atlas_blend_ratio <= 1.0, "--atlas-blend-ratio must be between 0 and 1"),
        (args.atlas_memory_budget_mb > 0, "--atlas-memory-budget-mb must be positive"),
        (args.rate_limit is None or args.rate_limit >= 1, "--rate-limit must be at least 1"),
        (args.max_body_bytes >= 1024, "--max-body-bytes must be at least 1024"),
        (args.cache_ram >= 0, "--cache-ram must be 0 or more"),
    ]
    for ok, message in checks:
        if not ok:
            parser.error(message)
    if args.atlas_memory_file:
        from atlas_reference.names import validate_memory_filename

        problem = validate_memory_filename(args.atlas_memory_file)
        if problem:
            parser.error(f"--atlas-memory-file: {problem}")
    try:
        api_keys = _read_api_keys(args)
    except OSError as exc:
        parser.error(f"cannot read --api-key-file: {exc}")
    return ServerSettings(
        model=args.model,
        host=args.host,
        port=args.port,
        atlas=args.atlas,
        ctx_size=args.ctx_size,
        parallel=args.parallel,
        threads=args.threads,
        api_keys=api_keys,
        memory_dir=args.atlas_memory_dir,
        memory_file=args.atlas_memory_file,
        memory_persist=args.atlas_memory_persist,
        window_size=args.atlas_window_size,
        blend_ratio=args.atlas_blend_ratio,
        memory_budget_mb=args.atlas_memory_budget_mb,
        rate_limit=args.rate_limit,
        max_body_bytes=args.max_body_bytes,
        gpu_layers=999 if args.cuda else args.n_gpu_layers,
        cache_ram_mib=args.cache_ram,
        shutdown_timeout_s=args.shutdown_timeout,
        embeddings=args.embeddings,
        pooling=args.pooling,
    )


def main(argv: list[str] | None = None) -> int:
    settings = settings_from_args(argv)
    # The memory's matrices are small; BLAS threads spinning beside llama.cpp's own threads
    # would halve generation speed on a small machine.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per proxied call is noise
    try:
        from atlas_reference.app import serve  # heavy imports only once the flags are valid
    except ModuleNotFoundError as exc:
        if (exc.name or "").startswith("atlas_"):
            raise
        print(f"atlas-reference-server: {exc.name} is not installed; the server needs the "
              "project's 'reference' extra: pip install '.[reference]'", file=sys.stderr)
        return 2
    return serve(settings)


if __name__ == "__main__":
    raise SystemExit(main())
