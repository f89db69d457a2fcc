"""What the suite sends: workloads that take a base URL and report what they saw, with no
container or process code.

* ``RequestSpec`` and ``Workload``: the requests the load engine sends (request number -> what
  to send); ``completion_workload`` and ``mixed_workload`` build them, ``varied_prompt`` gives
  every request a prompt of its own;
* ``burst``: N identical requests through a thread pool at once (the overload scenarios);
* ``SaveStorm``: clients save one memory file over and over while another keeps changing the
  memory, so that a kill can land in the middle of the saves.
"""

from __future__ import annotations

import collections
import json
import random
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from atlas_suite import routes


class WorkloadError(RuntimeError):
    """A workload could not get going; the message says what it saw."""


@dataclass
class SaveStormReport:
    """What a save storm saw."""

    answered: list[str] = field(default_factory=list)  # fingerprints completed saves answered
    reads: int = 0  # how many times the memory was changed
    cut_off: int = 0  # saves without an answer because the server died under them
    failures: list[str] = field(default_factory=list)  # anything unexpected before the kill

    def summary(self) -> str:
        return (f"{len(self.answered)} saves answered with {len(set(self.answered))} distinct "
                f"fingerprints over {self.reads} memory changes; {self.cut_off} saves cut off"
                + (f"; failures: {self.failures[:3]}" if self.failures else ""))


class SaveStorm:
    """Several clients save one memory file over and over while another keeps changing the
    memory with ATLAS completions, until ``freeze`` stops the changes so that the caller can kill
    the server in the middle of the saves, and ``finish`` collects what happened.

    Every state of the memory is answered by a completed save before the memory changes again,
    and ``freeze`` waits until the latest state was answered: whatever file a kill leaves
    behind, its fingerprint must be one that a completed save answered.
    """

    def __init__(self, base_url: str, filename: str, read_body: Callable[[int], dict[str, Any]],
                 *, savers: int = 4, headers: Mapping[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.filename = filename
        self.read_body = read_body
        self.savers = savers
        self.headers = dict(headers or {})
        self.report = SaveStormReport()
        self._cond = threading.Condition()
        self._generation = 0  # memory changes so far
        self._saved_generation = -1  # the latest change a save answered
        self._frozen = False  # no more changes: the kill comes
        self._stopping = False
        self._threads = [threading.Thread(target=self._save_loop, daemon=True,
                                          name=f"save-storm-{i}") for i in range(savers)]
        self._threads.append(threading.Thread(target=self._read_loop, daemon=True,
                                              name="save-storm-reader"))

    def start(self) -> SaveStorm:
        for thread in self._threads:
            thread.start()
        return self

    def freeze(self, min_saves: int, min_reads: int = 2, timeout_s: float = 120.0) -> None:
        """Wait until ``min_saves`` saves answered over ``min_reads`` memory changes and the
        latest change was saved; then stop changing the memory (saves go on)."""
        def ready() -> bool:
            return bool(self.report.failures) or (
                len(self.report.answered) >= min_saves and self._generation >= min_reads
                and self._saved_generation >= self._generation)

        with self._cond:
            done = self._cond.wait_for(ready, timeout_s)
            if not done or self.report.failures:
                self._stopping = True
                self._cond.notify_all()
                raise WorkloadError(f"the save storm did not get going within {timeout_s:.0f} "
                                     f"s: {self.report.summary()}")
            self._frozen = True

    def finish(self, timeout_s: float = 60.0) -> SaveStormReport:
        """Stop every client (the server is gone, or should stop being asked) and report."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout_s)
        return self.report

    def _post(self, session: Any, path: str, body: dict[str, Any]) -> Any:
        return session.post(f"{self.base_url}{path}", json=body, headers=self.headers,
                            timeout=60)

    def _read_loop(self) -> None:
        with requests.Session() as session, self._cond:
            while True:
                self._cond.wait_for(lambda: self._stopping or (
                    not self._frozen and self._saved_generation >= self._generation))
                if self._stopping:
                    return
                try:  # the lock is held: no save starts while the memory changes
                    reply = self._post(session, routes.COMPLETIONS,
                                       self.read_body(self._generation))
                except requests.RequestException as exc:
                    reply, error = None, f"{type(exc).__name__}: {exc}"
                if reply is None or reply.status_code != 200:
                    if reply is not None:
                        error = f"HTTP {reply.status_code} {reply.text[:300]}"
                    self.report.failures.append(f"a completion failed: {error}")
                    self._cond.notify_all()
                    return
                self._generation += 1
                self.report.reads += 1
                self._cond.notify_all()

    def _save_loop(self) -> None:
        body = {"filename": self.filename}
        with requests.Session() as session:
            while True:
                with self._cond:
                    if self._stopping:
                        return
                    generation = self._generation
                try:
                    reply = self._post(session, routes.MEMORY_SAVE, body)
                except requests.RequestException as exc:
                    with self._cond:
                        if self._frozen:  # the kill came while this save was in flight
                            self.report.cut_off += 1
                        else:
                            self.report.failures.append(f"a save got no answer: {exc}")
                            self._cond.notify_all()
                    return
                with self._cond:
                    if reply.status_code != 200:
                        if not self._frozen:
                            self.report.failures.append(
                                f"a save failed: HTTP {reply.status_code} {reply.text[:300]}")
                        self._cond.notify_all()
                        return
                    self.report.answered.append(str(reply.json()["fingerprint"]))
                    self._saved_generation = max(self._saved_generation, generation)
                    self._cond.notify_all()


# -- what to send --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RequestSpec:
    """One request: an absolute URL, a JSON body (or none), a label to group figures by."""

    url: str
    body: Any = None
    method: str = "POST"
    label: str = "request"
    # keep the parsed JSON answer (a stream: its events) on the sample; small answers only
    keep_payload: bool = False

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and self.body.get("stream") is True


Workload = Callable[[int], RequestSpec]  # request number (0, 1, ...) -> what to send


def cycling(*specs: RequestSpec) -> Workload:
    """A workload that sends ``specs`` in turn."""
    if not specs:
        raise ValueError("a workload needs at least one request")
    return lambda i: specs[i % len(specs)]


_WORD_TEXT = """
river harbour market bread morning lantern window garden letter mountain station winter summer
village forest candle bridge island engine doctor teacher kitchen silver orange yellow quiet
gentle rapid ancient modern simple careful distant narrow walked carried opened painted counted
followed noticed answered travelled gathered the a of and to in on with under over near across
before after while because
"""
_WORDS = tuple(_WORD_TEXT.split())


def varied_prompt(approx_tokens: int, seed: int) -> str:
    """English-like words, about ``approx_tokens`` tokens, different for every ``seed``.

    Every prompt starts differently, so the engine's prompt cache cannot reuse an earlier one:
    each request pays its whole prompt, as distinct users would.
    """
    rng = random.Random(seed)
    words = [f"Note {seed}:"]
    while len(words) < max(approx_tokens - 3, 2):  # about one token a word; the note is ~4
        words.append(rng.choice(_WORDS))
    return " ".join(words)


def completion_workload(base_url: str, model: str, *, max_tokens: int, atlas: bool = True,
                        stream: bool = False, prompt_tokens: int = 24, chat: bool = False,
                        label: str | None = None) -> Workload:
    """Completions of ``max_tokens`` tokens, each with its own short prompt (seeded by number)."""
    path = routes.completion_path(chat)
    name = label or ("atlas" if atlas else "plain") + ("-stream" if stream else "")

    def make(i: int) -> RequestSpec:
        body = routes.completion_body(model, varied_prompt(prompt_tokens, i),
                                      max_tokens=max_tokens, stream=stream, chat=chat,
                                      atlas=routes.atlas_extension() if atlas else None)
        return RequestSpec(base_url.rstrip("/") + path, body, label=name)

    return make


def mixed_workload(base_url: str, model: str, *, max_tokens: int, prompt_tokens: int = 24
                   ) -> Workload:
    """ATLAS, streamed ATLAS and plain completions in turn (the soak's and the script's mix)."""
    kinds = [completion_workload(base_url, model, max_tokens=max_tokens, atlas=atlas,
                                 stream=stream, prompt_tokens=prompt_tokens)
             for atlas, stream in ((True, False), (True, True), (False, False))]
    return lambda i: kinds[i % len(kinds)](i)


# -- the burst of the fault scenarios ---------------------------------------------------------
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
