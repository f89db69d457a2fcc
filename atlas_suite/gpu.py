"""NVIDIA GPUs through NVML (``pynvml``): whether there is one, and how busy it is under load.

    reason = nvml_skip_reason()          # None when NVML sees a GPU, else why not
    with UtilisationSampler() as sampler:
        ...                              # send a load
    sampler.report.peak_percent          # the highest GPU utilisation seen, 0..100
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any


def _pynvml() -> ModuleType:
    import pynvml  # imported late: machines without the NVIDIA driver still import this module

    return pynvml


@functools.lru_cache(maxsize=1)
def nvml_skip_reason() -> str | None:
    """Why no GPU scenario can run here (pynvml missing, NVML failing, no device), or None."""
    try:
        nvml = _pynvml()
    except ImportError:
        return "pynvml is not installed, so no NVIDIA GPU can be seen"
    try:
        nvml.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound, _DriverNotLoaded, ...
        return f"no NVIDIA GPU: pynvml.nvmlInit() failed ({exc})"
    try:
        count = int(nvml.nvmlDeviceGetCount())
    except Exception as exc:
        return f"no NVIDIA GPU: NVML could not count devices ({exc})"
    finally:
        _shutdown(nvml)
    return None if count > 0 else "no NVIDIA GPU: NVML sees no device"


def gpu_count() -> int:
    """How many GPUs NVML sees (0 when it cannot run)."""
    if nvml_skip_reason():
        return 0
    nvml = _pynvml()
    nvml.nvmlInit()
    try:
        return int(nvml.nvmlDeviceGetCount())
    finally:
        _shutdown(nvml)


def _shutdown(nvml: Any) -> None:
    with contextlib.suppress(Exception):  # NVML was never initialised
        nvml.nvmlShutdown()


@dataclass
class UtilisationReport:
    """GPU utilisation samples (percent of time a kernel ran, per device, 0..100)."""

    samples: list[tuple[float, list[int]]] = field(default_factory=list)  # (seconds, per GPU)
    errors: list[str] = field(default_factory=list)

    @property
    def peak_percent(self) -> int:
        return max((max(values, default=0) for _, values in self.samples), default=0)

    @property
    def busy_samples(self) -> int:
        return sum(1 for _, values in self.samples if any(v > 0 for v in values))

    def summary(self) -> str:
        return (f"{len(self.samples)} samples, {self.busy_samples} with the GPU busy, peak "
                f"{self.peak_percent} %" + (f"; errors: {self.errors[:2]}" if self.errors else ""))


class UtilisationSampler:
    """Samples every GPU's utilisation (``nvmlDeviceGetUtilizationRates``) on a thread, every
    ``interval_s``, from ``start()`` (or ``with``) until ``stop()``."""

    def __init__(self, interval_s: float = 0.1) -> None:
        self.interval_s = interval_s
        self.report = UtilisationReport()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="gpu-sampler")

    def start(self) -> UtilisationSampler:
        self._thread.start()
        return self

    def stop(self) -> UtilisationReport:
        self._stop.set()
        self._thread.join(10)
        return self.report

    def __enter__(self) -> UtilisationSampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        nvml = _pynvml()
        try:
            nvml.nvmlInit()
            handles = [nvml.nvmlDeviceGetHandleByIndex(i)
                       for i in range(int(nvml.nvmlDeviceGetCount()))]
        except Exception as exc:
            self.report.errors.append(f"NVML: {exc}")
            return
        started = time.monotonic()
        try:
            while not self._stop.is_set():
                try:
                    values = [int(nvml.nvmlDeviceGetUtilizationRates(h).gpu) for h in handles]
                    self.report.samples.append((time.monotonic() - started, values))
                except Exception as exc:  # one bad sample does not end the sampling
                    self.report.errors.append(str(exc))
                self._stop.wait(self.interval_s)
        finally:
            _shutdown(nvml)
