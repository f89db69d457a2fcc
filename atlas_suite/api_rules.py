"""The rules of the ATLAS API that hold at the edges: range ends, counters across operations,
and the Prometheus exposition agreeing with the JSON metrics.

Steps stay thin; the arithmetic and the wording of failures live here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from atlas_suite import jsonpaths
from atlas_suite.atlas import AtlasApi, atlas_extension, expect_ok
from atlas_suite.http import Exchange
from atlas_suite.server import ManagedServer
from atlas_suite.targets import Unsupported

CONTEXT_SIZE = "the context size"
WINDOW_PATTERN = r"the context size(?: [+-] \d+)?|-?\d+"
# A prompt clearly longer than the completion, so counting one part alone shows.
LONG_PROMPT = ("Once upon a time, in a small fishing village by a cold grey sea, an old "
               "lighthouse keeper wrote down every ship that passed, its flag, its cargo and "
               "the hour it went by, and one stormy night he saw")


@dataclass(frozen=True)
class WindowSize:
    """A window size as a scenario says it: a number, or relative to the server's context."""

    offset: int  # added to the context size, or the number itself when ``relative`` is False
    relative: bool
    text: str

    @classmethod
    def parse(cls, text: str) -> WindowSize:
        text = text.strip()
        if text.startswith(CONTEXT_SIZE):
            rest = text[len(CONTEXT_SIZE):].replace(" ", "")
            return cls(int(rest) if rest else 0, True, text)
        return cls(int(text), False, text)

    def resolve(self, context_size: int | None) -> int:
        if not self.relative:
            return self.offset
        if context_size is None:
            raise LookupError(f'"{self.text}" needs the server\'s context size, which the suite '
                              "only knows for servers it starts (-c)")
        return context_size + self.offset


def context_size(server: ManagedServer) -> int | None:
    """The ``-c`` the suite started the server with; None for a server it did not start."""
    return server.config.ctx_size if server.started_by_suite else None


# -- the request extension --------------------------------------------------------------------
def tokens_counted_problem(body: dict[str, Any]) -> str | None:
    """Why ``atlas.tokens_memorized`` does not count this request's prompt and completion.

    A server may count positions (one fewer than tokens) and may re-tokenise the completion, so
    the count must exceed the prompt's tokens by at least half the completion's, and never
    exceed the request's total: the prompt alone, the completion alone, or the memory's running
    total all fall outside.
    """
    usage, memorized = body.get("usage") or {}, body["atlas"]["tokens_memorized"]
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return f"the answer has no usage to compare with: {body.get('usage')!r}"
    if completion < 4:
        return (f"the completion had only {completion} tokens, too few to tell whether they "
                "were counted; the prompt invites a long continuation")
    low, high = prompt + completion // 2, prompt + completion
    if not low <= memorized <= high:
        return (f"tokens_memorized is {memorized}, but this request had {prompt} prompt and "
                f"{completion} completion tokens: counting both gives between {low} and {high}")
    return None


# -- counters across operations ----------------------------------------------------------------
def metric_value(document: Any, path: str) -> float:
    """The number at ``path``; a per-label counter that never counted yet reads 0."""
    values = jsonpaths.find_all(document, path)
    if not values:
        parent = path.rsplit(".", 1)[0]
        if "." in path and jsonpaths.exists(document, parent):
            return 0.0
        raise jsonpaths.PathNotFound(f'nothing at "{path}" in the answer: {document}')
    value = values[0]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AssertionError(f'"{path}" is {value!r}, not a number')
    return float(value)


def growth(read: Callable[[], float], action: Callable[[], Any]) -> float:
    """How much a reading grows across ``action``."""
    before = read()
    action()
    return read() - before


def refused_completion(atlas: AtlasApi) -> Exchange:
    """A completion the server must refuse: an ATLAS window size of 0."""
    reply = atlas.complete("A refused request.", atlas=atlas_extension(window_size=0))
    if reply.status != 400:
        raise AssertionError(f"expected a window size of 0 to be refused with 400, but the "
                             f"server answered {reply.status}: {reply.text[:300]}")
    return reply


REQUESTS: dict[str, Callable[[AtlasApi], Any]] = {
    "a plain completion": lambda a: expect_ok(a.complete("Count me."), "answer a completion"),
    "a completion with ATLAS": lambda a: expect_ok(
        a.complete("Count me too.", atlas=atlas_extension()), "answer an ATLAS completion"),
    "a streamed completion": lambda a: a.complete_streaming("Count me as a stream."),
    "a refused completion": refused_completion,
}
REQUEST_PATTERN = "|".join(re.escape(name) for name in REQUESTS)


def timed_completions(atlas: AtlasApi, count: int, max_tokens: int = 8) -> list[float]:
    """Send ``count`` plain completions one after another; answers each one's duration in ms,
    as the client saw it (the server's own measurement can only be shorter)."""
    durations = []
    for number in range(count):
        started = time.perf_counter()
        expect_ok(atlas.complete(f"Request number {number} of a timed series:",
                                 max_tokens=max_tokens), "answer a completion")
        durations.append((time.perf_counter() - started) * 1000.0)
    return durations


def latency_problem(latency_ms: dict[str, Any], durations_ms: list[float]) -> str | None:
    """Why the median latency a quiet server reports is not the timed completions' in ms.

    On a server that served little else, most of its requests are the timed completions, so
    its median is one of theirs: no longer than the longest the client saw, and not ten times
    shorter than the shortest (seconds instead of milliseconds are a thousand times smaller).
    """
    p50 = latency_ms.get("p50")
    low, high = min(durations_ms) / 10.0, max(durations_ms) + 1.0
    if isinstance(p50, bool) or not isinstance(p50, (int, float)) or not low <= p50 <= high:
        return (f"latency_ms.p50 is {p50!r}, but the completions the client timed took "
                f"{', '.join(f'{d:.0f}' for d in durations_ms)} ms: the median must lie "
                f"between {low:.1f} and {high:.1f} ms")
    return None


# -- Prometheus ---------------------------------------------------------------------------------
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)")


def prometheus_samples(text: str) -> dict[str, float]:
    """Sample name (with its labels, as exposed) -> value."""
    samples = {}
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match and not line.startswith("#"):
            samples[match.group(1)] = float(match.group(2))
    return samples


def prometheus_value(text: str, sample: str) -> float:
    """A sample's value; a labelled counter that never counted yet is absent and reads 0."""
    samples = prometheus_samples(text)
    if sample in samples:
        return samples[sample]
    name = sample.split("{", 1)[0]
    declared = {f"# TYPE {name} counter", f"# TYPE {name.removesuffix('_total')} counter"}
    if "{" in sample and any(line.strip() in declared for line in text.splitlines()):
        return 0.0
    family = name.removesuffix("_total")
    if not any(found.split("{", 1)[0].removesuffix("_total") == family for found in samples):
        # the contract names no Prometheus metrics: other names are the server's choice
        raise Unsupported(f'the server exposes no Prometheus metric "{name}" (docs/api.md names '
                          "the reference server's); the comparison needs the same names")
    raise AssertionError(f'no Prometheus sample "{sample}"; the exposition has: '
                         f"{', '.join(sorted(samples)[:40])}")
