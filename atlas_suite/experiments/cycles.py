"""Save and load cycles: the default memory saved to a file and loaded back, over and over."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from atlas_suite import routes
from atlas_suite.stats import distribution, percentile
from atlas_suite.workloads import varied_prompt

SECONDS_PER_CYCLE = 0.25  # the deadline: 50 times the 5 ms a cycle takes on the reference
MIN_DEADLINE_S = 60.0


@dataclass
class Cycle:
    """One save and load, timed by the client; ``server_cpu_ms`` is the server process's CPU
    time over the cycle, when the suite can read its process."""

    cycle: int
    learned: bool  # a short ATLAS completion changed the memory first
    save_ms: float
    load_ms: float
    save_status: int
    load_status: int
    server_cpu_ms: float | None = None
    learn_status: int | None = None
    saved_fingerprint: str | None = None
    same_fingerprint: bool | None = None  # the load gave back the fingerprint just saved
    error: str | None = None

    @property
    def cycle_ms(self) -> float:
        return self.save_ms + self.load_ms


@dataclass
class CyclesResult:
    """Every cycle that ran before the count or the deadline."""

    asked: int
    filename: str
    learn_every: int
    cycles: list[Cycle] = field(default_factory=list)

    @property
    def failed(self) -> list[Cycle]:
        return [c for c in self.cycles if c.error is not None]

    @property
    def wrong_fingerprints(self) -> int:
        return sum(1 for c in self.cycles if c.same_fingerprint is False)

    @property
    def distinct_saved_states(self) -> int:
        return len({c.saved_fingerprint for c in self.cycles if c.saved_fingerprint})

    def cycle_ms(self) -> list[float]:
        return [c.cycle_ms for c in self.cycles]

    def cpu_ms(self) -> list[float] | None:
        """The server's CPU time per cycle, or None when any cycle lacks it."""
        cpu = [c.server_cpu_ms for c in self.cycles]
        return [v for v in cpu if v is not None] if cpu and None not in cpu else None

    def window(self) -> int:
        """How many cycles the first and last medians are taken over."""
        return min(100, max(1, len(self.cycles) // 2))

    def figures(self) -> dict[str, Any]:
        cycle_ms, window = self.cycle_ms(), self.window()
        return {"cycles_asked": self.asked, "cycles_done": len(self.cycles),
                "filename": self.filename, "learn_every": self.learn_every,
                "save_ms": distribution([c.save_ms for c in self.cycles]),
                "load_ms": distribution([c.load_ms for c in self.cycles]),
                "cycle_ms": distribution(cycle_ms),
                "first_window_median_ms": percentile(cycle_ms[:window], 50),
                "last_window_median_ms": percentile(cycle_ms[-window:], 50),
                "failed_cycles": len(self.failed), "wrong_fingerprints": self.wrong_fingerprints,
                "distinct_saved_states": self.distinct_saved_states,
                "cycles": [asdict(c) for c in self.cycles]}

    def table(self) -> list[tuple[str, str]]:
        figures, window = self.figures(), self.window()
        save, load = figures["save_ms"], figures["load_ms"]
        return [("cycles done", f"{len(self.cycles)} of {self.asked}"),
                ("save p50 / p95 (ms)", f"{save['p50'] or 0:.2f} / {save['p95'] or 0:.2f}"),
                ("load p50 / p95 (ms)", f"{load['p50'] or 0:.2f} / {load['p95'] or 0:.2f}"),
                (f"median of first / last {window} cycles (ms)",
                 f"{figures['first_window_median_ms']:.2f} / "
                 f"{figures['last_window_median_ms']:.2f}")]


def _one_cycle(client: httpx.Client, number: int, filename: str, learn: dict[str, Any] | None,
               cpu_clock: Callable[[], float | None]) -> Cycle:
    learn_status = client.post(routes.COMPLETIONS, json=learn).status_code if learn else None
    cpu_before, started = cpu_clock(), time.perf_counter()
    saved = client.post(routes.MEMORY_SAVE, json={"filename": filename})
    middle = time.perf_counter()
    loaded = client.post(routes.MEMORY_LOAD, json={"filename": filename})
    ended, cpu_after = time.perf_counter(), cpu_clock()
    cycle = Cycle(number, learn is not None, (middle - started) * 1000.0,
                  (ended - middle) * 1000.0, saved.status_code, loaded.status_code,
                  None if cpu_before is None or cpu_after is None else cpu_after - cpu_before,
                  learn_status)
    if saved.status_code == 200 and loaded.status_code == 200:
        cycle.saved_fingerprint = saved.json()["fingerprint"]
        cycle.same_fingerprint = loaded.json()["fingerprint"] == cycle.saved_fingerprint
    else:
        cycle.error = (saved.text if saved.status_code != 200 else loaded.text)[:300]
    return cycle


def save_load_cycles(base_url: str, *, model: str, cycles: int, filename: str, learn_every: int,
                     headers: Mapping[str, str] | None = None,
                     cpu_clock: Callable[[], float | None] = lambda: None) -> CyclesResult:
    """Save the default memory to ``filename`` and load it back, ``cycles`` times, one request
    at a time; every ``learn_every`` cycles a one-token ATLAS completion changes the memory
    first. Stops at the count, or after ``cycles`` x 0.25 s (60 s at least), so that a server
    whose saves or loads take seconds is stopped in minutes, not hours."""
    result = CyclesResult(cycles, filename, learn_every)
    deadline = time.monotonic() + max(MIN_DEADLINE_S, cycles * SECONDS_PER_CYCLE)
    with httpx.Client(base_url=base_url, headers=dict(headers or {}), timeout=60,
                      trust_env=False) as client:
        for number in range(cycles):
            if time.monotonic() > deadline:
                break
            learn = routes.completion_body(model, varied_prompt(24, number), max_tokens=1,
                                           atlas=routes.atlas_extension()) \
                if number % learn_every == 0 else None
            result.cycles.append(_one_cycle(client, number, filename, learn, cpu_clock))
    return result
