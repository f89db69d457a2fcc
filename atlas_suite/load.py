"""Many requests at once: a thread pool of plain ``requests`` calls."""

from __future__ import annotations

import collections
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests


@dataclass
class BurstResult:
    """What a burst of identical requests got back."""

    answers: list[tuple[int, str]] = field(default_factory=list)  # (status, body)
    transport_errors: list[str] = field(default_factory=list)  # no HTTP answer at all

    def statuses(self) -> collections.Counter[int]:
        return collections.Counter(status for status, _ in self.answers)

    def bodies(self, status: int) -> list[str]:
        return [body for code, body in self.answers if code == status]

    def summary(self) -> str:
        counts = ", ".join(f"{n} x HTTP {s}" for s, n in sorted(self.statuses().items()))
        errors = f", {len(self.transport_errors)} without an answer" if self.transport_errors \
            else ""
        return (counts or "no answers") + errors


def burst(url: str, body: dict[str, Any], *, count: int, workers: int,
          headers: dict[str, str] | None = None, timeout_s: float = 300) -> BurstResult:
    """POST ``body`` to ``url`` ``count`` times through ``workers`` threads at once."""
    payload = json.dumps(body)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    result = BurstResult()

    def one(_: int) -> None:
        try:
            reply = requests.post(url, data=payload, headers=all_headers, timeout=timeout_s)
            result.answers.append((reply.status_code, reply.text))
        except requests.RequestException as exc:
            result.transport_errors.append(f"{type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, range(count)))
    return result
