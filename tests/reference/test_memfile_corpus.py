"""The memory-file reader's fuzzing corpus, replayed: every seed (valid files and the damage the
features describe) and every input the fuzzer kept or crashed on (tests/reference/corpus/memfile)
either loads or is refused as corruption, a newer version or another model - nothing else.

``make fuzz-memfile`` runs the coverage-guided fuzzer itself (tests/reference/memfile_fuzz.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_reference import memfile
from tests.reference.memfile_fuzz import (
    CORPUS,
    MODEL,
    corpus_files,
    expected_dims,
    read_both,
    seeds,
)

SEEDS = seeds()


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_seed_loads_or_is_refused_as_documented(name: str) -> None:
    read_both(SEEDS[name])


def test_the_corpus_was_kept() -> None:
    assert len(corpus_files()) >= 20, f"the fuzzer's corpus is missing from {CORPUS}"


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_every_corpus_input_loads_or_is_refused_as_documented(path: Path) -> None:
    read_both(path.read_bytes())


def test_the_valid_seed_loads_and_each_damage_is_refused() -> None:
    assert memfile.decode(SEEDS["valid"], MODEL, expected_dims()).fingerprint
    for name, data in SEEDS.items():
        if name.startswith("valid"):
            continue
        with pytest.raises(memfile.MemoryFileError):
            memfile.decode(data, MODEL, expected_dims())


def test_an_undocumented_exception_would_fail_the_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise IndexError("a reader bug")

    monkeypatch.setattr(memfile, "decode", broken)
    with pytest.raises(IndexError):
        read_both(SEEDS["valid"])
