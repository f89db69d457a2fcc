"""Load reports people look at: the figures as JSON, a PNG plot, both attached to the HTML report.

Plots use matplotlib's Agg backend (no display needed). Files go to ``reports/load/`` by default
(``-D load_report_dir=DIR`` changes it), named after the scenario.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: files only, never a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from atlas_suite.load_result import LoadResult  # noqa: E402
from atlas_suite.resources import ResourceMonitor  # noqa: E402

DEFAULT_DIR = Path("reports/load")


def slug(text: str, limit: int = 90) -> str:
    """A file-name-safe version of a scenario name."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:limit] or "load"


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def write_json(path: Path, figures: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_clean(figures), indent=2, sort_keys=True, allow_nan=False) + "\n",
                    encoding="utf-8")
    return path


# -- plots --------------------------------------------------------------------------------------
def plot_load(path: Path, title: str, result: LoadResult,
              resources: ResourceMonitor | None = None) -> Path:
    """Latency p50/p95/p99 over time, requests and tokens per second, and (when sampled) the
    server's RSS and CPU."""
    timeline = result.timeline()
    with_resources = resources is not None and bool(resources.series("rss_mb")[0])
    rows = 3 if with_resources else 2
    fig, axes = plt.subplots(rows, 1, figsize=(9, 2.8 * rows), sharex=True)
    t = [row["t_s"] for row in timeline]
    ax = axes[0]
    for key, style in (("p50_ms", "-"), ("p95_ms", "--"), ("p99_ms", ":")):
        ax.plot(t, [_nan(row[key]) for row in timeline], style, marker=".",
                label=key.replace("_ms", ""))
    ax.set_ylabel("latency (ms)")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    ax = axes[1]
    ax.plot(t, [row["requests_per_s"] for row in timeline], marker=".", label="requests/s")
    ax.set_ylabel("requests / s")
    ax.grid(alpha=0.3)
    twin = ax.twinx()
    twin.plot(t, [row["tokens_per_s"] for row in timeline], color="tab:orange", marker=".",
              label="tokens/s")
    twin.set_ylabel("tokens / s", color="tab:orange")
    errors = sum(row["errors"] for row in timeline)
    ax.set_title(f"throughput ({errors} errors)", fontsize=9)
    if with_resources:
        assert resources is not None
        ax = axes[2]
        times, rss = resources.series("rss_mb")
        ax.plot(times, rss, label="RSS (MB)")
        ax.set_ylabel("server RSS (MB)")
        ax.grid(alpha=0.3)
        twin = ax.twinx()
        times, cpu = resources.series("cpu_percent")
        twin.plot(times, cpu, color="tab:red", alpha=0.6, label="CPU %")
        twin.set_ylabel("CPU % (100 = one core)", color="tab:red")
    axes[-1].set_xlabel("seconds since the start of the load")
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def plot_xy(path: Path, title: str, series: dict[str, tuple[Sequence[float], Sequence[float]]],
            *, xlabel: str, ylabel: str, fits: dict[str, dict[str, float]] | None = None,
            kind: str = "line", separate: bool = False) -> Path:
    """One or more series against a shared x axis (``separate``: one panel each, for series of
    different scales); ``fits`` adds fitted straight lines."""
    if separate:
        fig, axes = plt.subplots(len(series), 1, figsize=(9, 3.2 * len(series)), sharex=True)
        for ax, (name, xy) in zip(axes, series.items(), strict=True):
            _draw(ax, {name: xy}, fits, kind)
            ax.set_ylabel(name)
        axes[-1].set_xlabel(xlabel)
        fig.suptitle(title, fontsize=10)
        return _save(fig, path)
    fig, ax = plt.subplots(figsize=(9, 4))
    _draw(ax, series, fits, kind)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def _draw(ax: Any, series: dict[str, tuple[Sequence[float], Sequence[float]]],
          fits: dict[str, dict[str, float]] | None, kind: str) -> None:
    for name, (xs, ys) in series.items():
        if kind == "scatter":
            ax.scatter(xs, ys, s=12, alpha=0.6, label=name)
        else:
            ax.plot(xs, ys, marker=".", markersize=3, linewidth=0.8, label=name)
        fit = (fits or {}).get(name)
        if fit and xs and math.isfinite(fit.get("slope", math.nan)):
            lo, hi = min(xs), max(xs)
            ax.plot([lo, hi], [fit["intercept"] + fit["slope"] * lo,
                               fit["intercept"] + fit["slope"] * hi], "--", linewidth=1,
                    label=f"{name} fit (R² {fit['r2']:.3f})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def plot_histogram(path: Path, title: str, values: Sequence[float], *, xlabel: str,
                   marks: dict[str, float] | None = None) -> Path:
    """A histogram of ``values`` with vertical marks (a median, a bound)."""
    fig, ax = plt.subplots(figsize=(9, 3.5))
    finite = [v for v in values if math.isfinite(v)]
    if finite:
        ax.hist(finite, bins=min(60, max(10, len(finite) // 5)), alpha=0.8)
    for i, (name, x) in enumerate((marks or {}).items()):
        ax.axvline(x, linestyle="--", color=f"C{i + 1}", label=f"{name} = {x:.2f}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    ax.grid(alpha=0.3)
    if marks:
        ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def plot_pairs(path: Path, title: str, labels: tuple[str, str], first: Sequence[float],
               second: Sequence[float], diffs: Sequence[float], paired_median: float) -> Path:
    """Interleaved pairs: both latencies by pair number, and the histogram of the differences."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6))
    pairs = list(range(1, len(first) + 1))
    top.plot(pairs, first, ".", markersize=4, label=labels[0])
    top.plot(pairs, second, ".", markersize=4, label=labels[1])
    top.set_xlabel("pair")
    top.set_ylabel("latency (ms)")
    top.grid(alpha=0.3)
    top.legend(fontsize=8)
    finite = [d for d in diffs if math.isfinite(d)]
    if finite:
        lo, hi = (float(v) for v in np.percentile(finite, [1, 99]))
        bottom.hist([min(max(d, lo), hi) for d in finite], bins=40, alpha=0.8)
    bottom.axvline(paired_median, linestyle="--", color="C3",
                   label=f"median of the differences = {paired_median:.2f} ms")
    bottom.set_xlabel(f"{labels[1]} - {labels[0]} per pair (ms; 1st-99th percentile shown)")
    bottom.set_ylabel("pairs")
    bottom.grid(alpha=0.3)
    bottom.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


# -- the HTML report ------------------------------------------------------------------------------
def attach_file(context: Any, caption: str, path: Path) -> None:
    """Attach a PNG (shown inline) or a JSON/text file to the scenario in the HTML report
    (behave-html-pretty-formatter's ``embed``, given the path: it reads the file when it writes
    the report) and the JSON formatter (``embedding``, given the bytes now)."""
    data = path.read_bytes()
    png = path.suffix.lower() == ".png"
    runner = getattr(context, "_runner", None)
    for formatter in getattr(runner, "formatters", []):
        embed = getattr(formatter, "embed", None)
        if callable(embed):  # a Path is read when the report is written: later checks show
            embed("image/png" if png else "text", path.resolve(), caption,
                  download_button=True, filename=path.name)
        elif hasattr(formatter, "embedding"):
            formatter.embedding("image/png" if png else "application/json", data)
    print(f"{caption}: {path}", file=sys.stderr)


def report_dir(context: Any) -> Path:
    userdata = getattr(getattr(context, "config", None), "userdata", {}) or {}
    return Path(str(userdata.get("load_report_dir") or DEFAULT_DIR))


def publish(context: Any, name: str, figures: dict[str, Any], plot: Any) -> tuple[Path, Path]:
    """Write ``figures`` to ``<dir>/<name>.json``, draw ``plot(png_path)``, attach both."""
    directory = report_dir(context)
    json_path = write_json(directory / f"{name}.json", figures)
    png_path = plot(directory / f"{name}.png")
    attach_file(context, f"load figures ({json_path.name})", json_path)
    attach_file(context, f"load plot ({png_path.name})", png_path)
    return json_path, png_path
