"""The memory-file reader under a coverage-guided fuzzer (atheris, libFuzzer for Python).

``python -m tests.reference.memfile_fuzz SECONDS [--keep]`` feeds ``memfile.decode`` (the load path
after the file is read) mutated bytes for SECONDS, starting from seeds: small valid files and
every damage the features describe (flipped bytes and the CORRUPTED_DATA stamp in each region,
the named cuts, a wrong magic, newer versions, forged headers behind a valid trailer, another
memory's arrays, another model). The only answers allowed are a memory or one of the
documented refusals (corruption, unsupported version, model mismatch): any other exception is
a crash, written to ``tests/reference/corpus/memfile/crash-<sha1>`` and replayed by the unit
tests from then on (test_memfile_corpus.py), as every file of that folder is.

Here rather than under scripts/: the suite never imports the reference server.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import tempfile
from pathlib import Path
from typing import Any

from atlas_reference import memfile
from atlas_reference import memory as memory_module
from atlas_reference.memory import AtlasMemory, MemoryConfig
from atlas_suite import memfile as damage

CORPUS = Path(__file__).resolve().parent / "corpus" / "memfile"
MODEL = "f" * 64  # the model fingerprint the reader expects
CONFIG = MemoryConfig(key_dim=4, hidden_dim=8, feature_degree=1, chunk_size=4)
REFUSALS = (memfile.CorruptedMemoryFile, memfile.UnsupportedMemoryFileVersion,
            memfile.MemoryModelMismatch)
MAX_LEN = 8192  # a small memory's file is about 1 KiB: room to grow, not to wander


def expected_dims() -> dict[str, int]:
    return {"key_dim": CONFIG.key_dim, "hidden_dim": CONFIG.hidden_dim}


def read(data: bytes) -> None:
    """Decode ``data`` as the server's load does; documented refusals are fine answers."""
    with contextlib.suppress(*REFUSALS):
        memfile.decode(data, MODEL, expected_dims())


def read_both(data: bytes) -> None:
    """``data`` as it is, then resealed (its last 32 bytes replaced by the SHA-256 of the rest):
    random bytes never pass the checksum, and the header parser, the array table and the
    parameter fingerprint lie behind it."""
    read(data)
    body = data[:-damage.CHECKSUM_SIZE] if len(data) >= damage.CHECKSUM_SIZE else data
    read(body + damage.checksum(body))


def _valid(seed: int = 0, model: str = MODEL) -> bytes:
    return memfile.encode(AtlasMemory(MemoryConfig(**{**CONFIG.__dict__, "seed": seed}), model))


def seeds() -> dict[str, bytes]:
    """Named starting points: valid files and the damage of the features."""
    good = _valid()
    found = {"valid": good, "valid-other-seed": _valid(seed=1),
             "another-model": _valid(model="0" * 64), "emptied": b"",
             "wrong-magic": damage.wrong_magic(good),
             "version-2": damage.with_version(good, 2), "version-0": damage.with_version(good, 0),
             "another-memory-arrays": damage.splice(good, _valid(seed=1)),
             "stamped-at-100": damage.overwrite_at(good, 100)}
    for cut in damage.CUTS:
        found[f"cut {cut}"] = damage.truncate_at(good, cut)
    for part in damage.FORGERIES:
        found[f"forged {part}"] = damage.forge(good, part)
    for harm in damage.HARMS:
        for number, copy in enumerate(damage.region_copies(good, harm)):
            found[f"{harm} {number}"] = copy.data
    return found


def corpus_files() -> list[Path]:
    return sorted(path for path in CORPUS.glob("*") if path.is_file())


def instrument(atheris: Any) -> None:
    """Coverage of the reader guides the mutations: its functions are rewritten in place
    (it is imported already, so instrument_imports would see nothing)."""
    for module in (memfile, memory_module):
        for name, value in list(vars(module).items()):
            if inspect.isfunction(value) and value.__module__ == module.__name__:
                setattr(module, name, atheris.instrument_func(value))


def main(seconds: int, keep: bool = False) -> int:
    """Fuzz for ``seconds``; with ``keep``, the new inputs that reach new code join the
    replayed corpus (commit them), otherwise they stay in a scratch folder."""
    import atheris

    instrument(atheris)

    work = Path(tempfile.mkdtemp(prefix="memfile-fuzz-"))
    for name, data in seeds().items():
        (work / f"seed-{abs(hash(name)) % 10**8}").write_bytes(data)
    CORPUS.mkdir(parents=True, exist_ok=True)

    def one_input(data: bytes) -> None:
        read_both(data)

    args = [sys.argv[0], f"-max_total_time={seconds}", f"-max_len={MAX_LEN}",
            f"-artifact_prefix={CORPUS}/", "-print_final_stats=1",  # crash-<sha1> there
            *((str(CORPUS), str(work)) if keep else (str(work), str(CORPUS)))]
    atheris.Setup(args, one_input)
    atheris.Fuzz()  # exits the process: 0 when nothing crashed
    return 0


if __name__ == "__main__":
    numbers = [arg for arg in sys.argv[1:] if arg.isdigit()]
    sys.exit(main(int(numbers[0]) if numbers else 45, keep="--keep" in sys.argv[1:]))
