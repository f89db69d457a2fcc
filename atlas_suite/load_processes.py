"""The load engine spread over worker processes, for loads one Python process cannot time.

One event loop timestamps every chunk it reads; past some aggregate chunk rate (measured by
``calibration.measure_engine_ceiling``) its timestamps fall behind the chunks. Then the users are
split over ``processes`` worker processes, each a ``LoadEngine`` with its own event loop: they
start together (each signals ready, then all wait for one go), and their samples are merged on
the machine's monotonic clock (``time.perf_counter``, shared by every process on Linux).
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from atlas_suite.load_engine import LoadEngine
from atlas_suite.load_result import LoadResult
from atlas_suite.workloads import RequestSpec, cycling

START_TIMEOUT_S = 120.0


def shares(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` as evenly as integers allow (larger shares first)."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _worker(specs: tuple[RequestSpec, ...], users: int, requests: int, engine_options: dict,
            ready: Any, go: Any, results: Any) -> None:
    engine = LoadEngine(**engine_options)
    ready.put(True)
    go.wait()
    results.put(engine.closed_loop(cycling(*specs), users, requests=requests))


def merge(results: Sequence[LoadResult]) -> LoadResult:
    """One result from several processes' runs: samples on the earliest start's clock."""
    t0 = min(r.started_at for r in results)
    samples = [replace(s, sent_s=s.sent_s + (r.started_at - t0)) for r in results
               for s in r.samples]
    end = max(r.started_at + r.duration_s for r in results)
    return LoadResult("closed", samples, end - t0, users=sum(r.users or 0 for r in results),
                      stopped_by=",".join(sorted({r.stopped_by for r in results})),
                      started_at=t0)


def closed_loop_processes(specs: Sequence[RequestSpec], users: int, *, requests: int,
                          processes: int, **engine_options: Any) -> LoadResult:
    """A closed loop of ``users`` users and ``requests`` requests over ``processes`` processes
    (one: the ordinary engine in this process); never more processes than users."""
    processes = min(processes, users)
    if processes <= 1:
        return LoadEngine(**engine_options).closed_loop(cycling(*specs), users,
                                                        requests=requests)
    context = multiprocessing.get_context("spawn")  # no fork of a process with threads
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    workers = [context.Process(target=_worker, daemon=True,
                               args=(tuple(specs), n_users, n_requests, engine_options,
                                     ready, go, results))
               for n_users, n_requests in zip(shares(users, processes),
                                              shares(requests, processes), strict=True)]
    for worker in workers:
        worker.start()
    try:
        for _ in workers:
            ready.get(timeout=START_TIMEOUT_S)
        go.set()
        collected = [results.get(timeout=START_TIMEOUT_S + 3600.0) for _ in workers]
    except queue.Empty as error:
        raise RuntimeError("a load worker process did not start or did not finish") from error
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
    return merge(collected)
