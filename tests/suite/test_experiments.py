"""The load experiments against stand-in servers: what they send, what they make of it."""

from __future__ import annotations

import itertools
import math
from typing import Any

from atlas_suite import routes
from atlas_suite.calibration import trivial_server
from atlas_suite.experiments.cycles import save_load_cycles
from atlas_suite.experiments.overhead import overhead_pairs
from atlas_suite.experiments.scaling import context_scaling, scaling_lengths
from atlas_suite.load_engine import LoadEngine


def _completion(body: dict[str, Any], **atlas: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"choices": [{"text": "ok"}],
                              "usage": {"completion_tokens": 1,
                                        "prompt_tokens": len(body["prompt"].split())}}
    if body.get("atlas"):
        answer["atlas"] = atlas
    return answer


def test_overhead_pairs_pairs_every_atlas_request_with_a_plain_one_and_reads_the_updates() -> None:
    seen: list[bool] = []

    def handler(path: str, body: Any) -> Any:
        seen.append("atlas" in body)
        return _completion(body, memory_update_ms=3.0)

    with trivial_server(handler=handler) as server:
        result = overhead_pairs(LoadEngine(timeout_s=10), on_url=server.url, off_url=server.url,
                                model="m", pairs=12, tokens=2, warmup=2)
    assert result.pairs_complete == 12 and len(result.diff_ms) == 12
    assert seen.count(True) == seen.count(False) == 14  # the warm-up pairs too
    assert result.memory_update_ms == [3.0] * 12
    figures = result.figures()
    assert figures["pairs_complete"] == 12 and math.isfinite(figures["paired_median_ms"])
    assert dict(result.table())["pairs complete"] == "12 of 12"


def _memory_server(load_gives_back: bool) -> Any:
    learned = itertools.count()
    state = {"fingerprint": "fp-0"}

    def handler(path: str, body: Any) -> Any:
        if path == routes.COMPLETIONS:
            state["fingerprint"] = f"fp-{next(learned) + 1}"
            return _completion(body)
        if path == routes.MEMORY_SAVE:
            return {"filename": body["filename"], "fingerprint": state["fingerprint"]}
        return {"fingerprint": state["fingerprint"] if load_gives_back else "something else"}

    return handler


def test_save_load_cycles_count_fingerprints_and_distinct_states() -> None:
    with trivial_server(handler=_memory_server(load_gives_back=True)) as server:
        result = save_load_cycles(server.url, model="m", cycles=10, filename="c.atlas",
                                  learn_every=3, cpu_clock=lambda: 1.0)
    assert len(result.cycles) == 10 and not result.failed
    assert result.wrong_fingerprints == 0 and result.distinct_saved_states == 4
    assert [c.learned for c in result.cycles[:4]] == [True, False, False, True]
    assert result.cpu_ms() == [0.0] * 10
    assert result.figures()["cycles_done"] == 10


def test_a_load_that_changes_the_memory_is_counted_against_every_cycle() -> None:
    with trivial_server(handler=_memory_server(load_gives_back=False)) as server:
        result = save_load_cycles(server.url, model="m", cycles=4, filename="c.atlas",
                                  learn_every=1)
    assert result.wrong_fingerprints == 4 and result.cpu_ms() is None


def test_context_scaling_fits_a_linear_server_as_linear() -> None:
    def handler(path: str, body: Any) -> Any:
        tokens = len(body["prompt"].split())
        return _completion(body, tokens_memorized=tokens, memory_update_ms=0.5 * tokens + 2)

    lengths = scaling_lengths(16, 300)
    with trivial_server(handler=handler) as server:
        result = context_scaling(LoadEngine(timeout_s=10), server.url, "m", lengths=lengths,
                                 repeats=2)
    assert lengths == [16, 32, 64, 128, 256, 266]
    update = result.fits["memory update"]
    assert result.update_key == "update_ms" and len(result.points) == 2 * len(lengths)
    assert update.r2 > 0.999 and abs(update.slope - 0.5) < 1e-6
    assert abs(update.slope_ratio - 1.0) < 1e-6
    assert result.figures()["statistic"] == "minimum of the repeats"
