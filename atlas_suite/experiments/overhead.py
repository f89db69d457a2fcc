"""ATLAS overhead: the same completion with ATLAS on and off, in interleaved pairs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atlas_suite import routes
from atlas_suite.load_engine import LoadEngine, interleaved_pairs
from atlas_suite.load_result import LoadResult
from atlas_suite.stats import distribution, percentile
from atlas_suite.workloads import RequestSpec, Workload

OVERHEAD_PROMPT = "The capital of France is"
WARMUP_PAIRS = 10
METHOD = ("median of per-pair differences (ATLAS on - ATLAS off), pairs interleaved one "
          "request at a time, order alternating; numpy.percentile 'linear'")


@dataclass
class OverheadResult:
    """Both series of a paired run, pair by pair (``off_ms[i]`` and ``on_ms[i]`` belong
    together), and the server's own memory update times."""

    pairs_sent: int
    off_ms: list[float]
    on_ms: list[float]
    memory_update_ms: list[float]
    result: LoadResult

    @property
    def pairs_complete(self) -> int:
        return len(self.off_ms)

    @property
    def diff_ms(self) -> list[float]:
        return [on - off for off, on in zip(self.off_ms, self.on_ms, strict=True)]

    @property
    def paired_median_ms(self) -> float:
        return percentile(self.diff_ms, 50)

    @property
    def median_difference_ms(self) -> float:
        return percentile(self.on_ms, 50) - percentile(self.off_ms, 50)

    def figures(self) -> dict[str, Any]:
        return {"pairs_sent": self.pairs_sent, "pairs_complete": self.pairs_complete,
                "atlas_off_ms": distribution(self.off_ms),
                "atlas_on_ms": distribution(self.on_ms),
                "paired_difference_ms": distribution(self.diff_ms),
                "paired_median_ms": self.paired_median_ms,
                "difference_of_medians_ms": self.median_difference_ms,
                "memory_update_ms": distribution(self.memory_update_ms), "method": METHOD,
                "errors": self.result.summary()["errors"]}

    def table(self) -> list[tuple[str, str]]:
        return [("pairs complete", f"{self.pairs_complete} of {self.pairs_sent}"),
                ("ATLAS off p50 (ms)", f"{percentile(self.off_ms, 50):.2f}"),
                ("ATLAS on p50 (ms)", f"{percentile(self.on_ms, 50):.2f}"),
                ("median of paired differences (ms)", f"{self.paired_median_ms:.2f}"),
                ("difference of medians (ms)", f"{self.median_difference_ms:.2f}"),
                ("memory update p50 (ms)", f"{percentile(self.memory_update_ms, 50):.2f}")]


def _same_request(url: str, body: dict[str, Any], label: str) -> Workload:
    spec = RequestSpec(url + routes.COMPLETIONS, body, label=label, keep_payload=True)
    return lambda _: spec


def overhead_pairs(engine: LoadEngine, *, on_url: str, off_url: str, model: str, pairs: int,
                   tokens: int, prompt: str = OVERHEAD_PROMPT,
                   warmup: int = WARMUP_PAIRS) -> OverheadResult:
    """``pairs`` pairs of the same ``tokens``-token completion, one request at a time: with
    ATLAS on ``on_url`` and without the atlas object on ``off_url`` (the same server, or a plain
    one), the order inside a pair alternating; ``warmup`` pairs before them are not counted."""
    off = _same_request(off_url, routes.completion_body(model, prompt, max_tokens=tokens),
                        "ATLAS off")
    on = _same_request(on_url, routes.completion_body(model, prompt, max_tokens=tokens,
                                                      atlas=routes.atlas_extension()),
                       "ATLAS on")
    paired = interleaved_pairs(engine, off, on, pairs, warmup=warmup)
    result: LoadResult = paired["result"]
    updates = [s.atlas["memory_update_ms"] for s in result.succeeded
               if s.atlas and isinstance(s.atlas.get("memory_update_ms"), (int, float))]
    return OverheadResult(pairs, paired["first_ms"], paired["second_ms"], updates, result)
