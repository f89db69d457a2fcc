"""What a server uses while it is under load: RSS and CPU (psutil), GPU (pynvml), ATLAS memory.

``ResourceMonitor`` samples in a background thread, every ``interval_s``, until it is stopped:

* the server process and its children (psutil): resident memory (RSS) and CPU percent, where
  100 % is one core fully busy (so 2 cores read up to 200 %);
* every NVIDIA GPU (pynvml), when one is visible: utilisation % and memory used;
* the server's own view (``GET /v1/atlas/status`` and ``/v1/atlas/metrics``), when a URL is given:
  the default memory's bytes, the number of memories, requests in flight.

``summary()`` gives the figures the scenarios bound: peak and final RSS, the RSS slope (least
squares over the samples after a warm-up share, in MB per hour: a leak shows as a steady slope),
CPU mean and peak, GPU peaks, ATLAS memory peak.
"""

from __future__ import annotations

import bisect
import contextlib
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil

from atlas_suite import routes
from atlas_suite.gpu import nvml_skip_reason
from atlas_suite.stats import distribution, linear_fit, percentile

MB = 1024 * 1024


def gpu_unavailable_reason() -> str | None:
    """None when NVML sees at least one NVIDIA GPU, else why GPU figures cannot be taken."""
    return nvml_skip_reason()


def pid_listening_on(url: str) -> int | None:
    """The process listening on the URL's port, when this user may see it."""
    port = urlsplit(url).port or 80
    with contextlib.suppress(psutil.Error, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                return conn.pid
    return None


def gpu_process_ids() -> set[int]:
    """The ids of the processes that hold memory on any GPU (empty when none or no GPU)."""
    if gpu_unavailable_reason() is not None:
        return set()
    import pynvml

    pynvml.nvmlInit()
    try:
        pids: set[int] = set()
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            for proc in pynvml.nvmlDeviceGetComputeRunningProcesses(handle):
                pids.add(int(proc.pid))
        return pids
    finally:
        pynvml.nvmlShutdown()


def process_tree(pid: int) -> set[int]:
    """``pid`` and its live descendants."""
    try:
        return {pid, *(child.pid for child in psutil.Process(pid).children(recursive=True))}
    except psutil.Error:
        return {pid}


@dataclass
class ResourceSample:
    t_s: float
    rss_mb: float | None = None
    cpu_percent: float | None = None
    gpu_util_percent: float | None = None
    gpu_memory_mb: float | None = None
    atlas_memory_mb: float | None = None
    memories: int | None = None
    requests_active: int | None = None


@dataclass
class ResourceMonitor:
    """Samples a process (``pid``), the GPUs and a server's status (``base_url``) until stopped.

    Use it as a context manager around the load. Missing sources are simply not sampled; why
    each one is missing is in ``unavailable``.
    """

    pid: int | None = None
    base_url: str | None = None
    interval_s: float = 0.5
    gpu: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    status_every: int = 2  # poll the server's status every N-th sample (it is an HTTP request)
    samples: list[ResourceSample] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    crashed: bool = False  # the process disappeared while it was being watched
    cpu_seconds: float | None = None  # CPU time (user + system) the process used meanwhile

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._process: psutil.Process | None = None
        self._children: dict[int, psutil.Process] = {}
        self._gpus: list[Any] = []
        self._nvml = None
        self._t0 = 0.0
        self._cpu0: float | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> ResourceMonitor:
        if self.pid is None:
            self.unavailable["process"] = ("the suite did not start this server (target=url), "
                                           "so its process is unknown: no RSS or CPU figures")
        else:
            try:
                self._process = psutil.Process(self.pid)
                self._process.cpu_percent(None)  # the first reading only starts the clock
                self._cpu0 = self._cpu_total()
            except psutil.Error as exc:
                self.unavailable["process"] = f"process {self.pid} cannot be read: {exc}"
        if self.gpu:
            self._open_gpus()
        else:
            self.unavailable["gpu"] = "GPU sampling was not asked for"
        if self.base_url is None:
            self.unavailable["atlas"] = "no server URL: no ATLAS memory figures"
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="resource-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> ResourceMonitor:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(max(5.0, 4 * self.interval_s))
        if self._process is not None and self._cpu0 is not None:
            with contextlib.suppress(psutil.Error):
                self.cpu_seconds = self._cpu_total() - self._cpu0
        if self._nvml is not None:
            with contextlib.suppress(Exception):
                self._nvml.nvmlShutdown()
            self._nvml = None
        return self

    def __enter__(self) -> ResourceMonitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _cpu_total(self) -> float:
        """User and system CPU seconds of the process and its live children."""
        assert self._process is not None
        times = self._process.cpu_times()
        total = times.user + times.system
        for child in self._process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
        return total

    def _open_gpus(self) -> None:
        reason = gpu_unavailable_reason()
        if reason is not None:
            self.unavailable["gpu"] = reason
            return
        import pynvml

        pynvml.nvmlInit()
        self._nvml = pynvml
        self._gpus = [pynvml.nvmlDeviceGetHandleByIndex(i)
                      for i in range(pynvml.nvmlDeviceGetCount())]

    # -- sampling -------------------------------------------------------------------------------
    def _run(self) -> None:
        client = httpx.Client(timeout=5.0, headers=self.headers, trust_env=False) \
            if self.base_url else None
        n = 0
        try:
            while True:
                self.samples.append(self.sample_once(client, with_status=n % self.status_every
                                                     == 0))
                n += 1
                if self._stop.wait(self.interval_s):
                    break
        finally:
            if client is not None:
                client.close()

    def sample_once(self, client: httpx.Client | None = None,
                    with_status: bool = True) -> ResourceSample:
        sample = ResourceSample(round(time.perf_counter() - self._t0, 3))
        self._sample_process(sample)
        self._sample_gpus(sample)
        if client is not None and with_status:
            self._sample_status(client, sample)
        return sample

    def _sample_process(self, sample: ResourceSample) -> None:
        if self._process is None:
            return
        try:
            rss = self._process.memory_info().rss
            cpu = self._process.cpu_percent(None)
            for child in self._process.children(recursive=True):
                known = self._children.setdefault(child.pid, child)
                with contextlib.suppress(psutil.Error):
                    rss += known.memory_info().rss
                    cpu += known.cpu_percent(None)
        except psutil.NoSuchProcess:
            self.crashed = True
            self._process = None
            return
        except psutil.Error:
            return
        sample.rss_mb = rss / MB
        sample.cpu_percent = cpu

    def _sample_gpus(self, sample: ResourceSample) -> None:
        if not self._gpus or self._nvml is None:
            return
        try:
            util = [self._nvml.nvmlDeviceGetUtilizationRates(h).gpu for h in self._gpus]
            used = [self._nvml.nvmlDeviceGetMemoryInfo(h).used for h in self._gpus]
        except Exception:  # a GPU that vanished or a driver hiccup: skip this reading
            return
        sample.gpu_util_percent = float(max(util))
        sample.gpu_memory_mb = sum(used) / MB

    def _sample_status(self, client: httpx.Client, sample: ResourceSample) -> None:
        assert self.base_url is not None
        try:
            status = client.get(self.base_url + routes.ATLAS_STATUS).json()
            metrics = client.get(self.base_url + routes.ATLAS_METRICS).json()
            memories = int(metrics["memory"]["memories"])
            sample.memories = memories
            # every memory has the default memory's dimensions, so its size
            sample.atlas_memory_mb = float(status["memory"]["bytes"]) * max(memories, 1) / MB
            sample.requests_active = int(status["performance"]["requests_active"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return

    # -- figures ---------------------------------------------------------------------------------
    def series(self, name: str) -> tuple[list[float], list[float]]:
        """(times, values) of one field, for the samples that have it."""
        pairs = [(s.t_s, getattr(s, name)) for s in self.samples if getattr(s, name) is not None]
        return [t for t, _ in pairs], [float(v) for _, v in pairs]

    def rss_slope_mb_per_hour(self, warmup_share: float = 0.2) -> float:
        """Least-squares slope of RSS over the samples after the first ``warmup_share`` of the
        run (allocations while a server warms up are not a leak)."""
        times, rss = self.series("rss_mb")
        if len(times) < 3:
            return math.nan
        start = times[0] + warmup_share * (times[-1] - times[0])
        kept = [(t, v) for t, v in zip(times, rss, strict=True) if t >= start]
        fit = linear_fit([t for t, _ in kept], [v for _, v in kept])
        return fit["slope"] * 3600.0

    def growth_per_request(self, done_at: Sequence[float], warmup_share: float = 0.2
                           ) -> dict[str, float | int]:
        """Least-squares slope of RSS (KB) against the number of requests completed so far,
        over the samples after the warm-up share. ``done_at``: completion times on the
        ``time.perf_counter`` clock (``LoadResult.done_at()``).

        Measured in work, not in time: a server that keeps a little of every request shows the
        same KB per request on a busy machine as on a quiet one, where an RSS slope per hour
        halves when the machine serves half as many requests. Beside the slope: ``growth_kb``,
        what the fit grew over the window, and ``noise_kb``, the spread (5th to 95th
        percentile) of RSS around the fit: allocators breathe by a few MB, and growth inside
        that band on a short run is not evidence of a leak."""
        done = sorted(done_at)
        times, rss = self.series("rss_mb")
        start = times[0] + warmup_share * (times[-1] - times[0]) if times else 0.0
        points = [(bisect.bisect_right(done, self._t0 + t), v * 1024.0)
                  for t, v in zip(times, rss, strict=True) if t >= start]
        if len(points) < 3 or points[-1][0] == points[0][0]:
            return {"kb_per_request": math.nan, "requests": 0, "samples": len(points)}
        counts, kbs = [n for n, _ in points], [kb for _, kb in points]
        fit = linear_fit(counts, kbs)
        residuals = [kb - (fit["intercept"] + fit["slope"] * n) for n, kb in points]
        requests = counts[-1] - counts[0]
        return {"kb_per_request": fit["slope"], "samples": len(points), "requests": requests,
                "growth_kb": fit["slope"] * requests,
                "noise_kb": percentile(residuals, 95) - percentile(residuals, 5)}

    def summary(self, warmup_share: float = 0.2) -> dict[str, Any]:
        _, rss = self.series("rss_mb")
        _, cpu = self.series("cpu_percent")
        _, gpu_util = self.series("gpu_util_percent")
        _, gpu_mem = self.series("gpu_memory_mb")
        _, atlas = self.series("atlas_memory_mb")
        return {
            "samples": len(self.samples), "interval_s": self.interval_s,
            "duration_s": self.samples[-1].t_s if self.samples else 0.0,
            "rss_mb": {"start": rss[0] if rss else None, "end": rss[-1] if rss else None,
                       "peak": max(rss) if rss else None,
                       "slope_mb_per_hour": self.rss_slope_mb_per_hour(warmup_share),
                       "slope_warmup_share": warmup_share},
            "cpu_percent": distribution(cpu), "cpu_count": psutil.cpu_count(),
            "cpu_seconds": self.cpu_seconds,
            "gpu_util_percent": distribution(gpu_util),
            "gpu_memory_mb": {"peak": max(gpu_mem) if gpu_mem else None},
            "atlas_memory_mb": {"peak": max(atlas) if atlas else None,
                                "end": atlas[-1] if atlas else None},
            "crashed": self.crashed, "unavailable": dict(self.unavailable),
        }

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary(), "samples": [vars(s) for s in self.samples]}
