"""The load figures as a small text table, for the terminal and the behave report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def _ms(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:,.1f}"


# (summary key, the name every report prints): docs/load-figures.md defines each one
LATENCY_FIGURES = (
    ("latency_ms", "end-to-end latency (e2e)"),
    ("ttft_ms", "time to first token (TTFT)"),
    ("tpot_ms", "time per output token (TPOT)"),
    ("itl_ms", "inter-token latency (ITL, pooled gaps)"),
)
STATISTICS = ("p50", "p90", "p95", "p99", "mean")


def distribution_row(name: str, values: dict[str, Any]) -> tuple[str, str]:
    """One latency figure at p50 / p90 / p95 / p99 / mean."""
    return (f"{name} {' / '.join(STATISTICS)} (ms)",
            " / ".join(_ms(values.get(stat)) for stat in STATISTICS))


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(figure, value) rows of a ``LoadResult.summary()``, for a terminal or a report."""
    errors = summary["errors"]
    kinds = ", ".join(f"{k}: {v}" for k, v in errors["by_type"].items()) or "none"
    statuses = ", ".join(f"{k}: {v}" for k, v in errors["by_status"].items()) or "none"
    arrival = summary.get("arrival") or "constant"
    load = (f"{summary['users']} users (closed loop)" if summary["mode"] == "closed"
            else f"{summary['rate_per_s']:g}/s arrivals, {arrival} (open loop)")
    rows = [
        ("load", load),
        ("duration", f"{summary['duration_s']:.1f} s"),
        ("requests sent / succeeded", f"{summary['requests']} / {summary['succeeded']}"),
        ("warm-up requests (in no figure)", str(summary.get("warmup_requests", 0))),
        ("throughput", f"{summary['requests_per_s']:.2f} requests/s, "
                       f"{summary.get('output_tokens_per_s', summary['tokens_per_s']):.1f} "
                       f"output tokens/s, "
                       f"{summary.get('total_tokens_per_s', summary['tokens_per_s']):.1f} "
                       "total tokens/s"),
    ]
    for key, name in LATENCY_FIGURES:
        values = summary.get(key) or {"count": 0}
        if key == "latency_ms" or values["count"]:
            rows.append(distribution_row(name, values))
    if summary["mode"] == "open":
        late = summary["lateness_ms"]
        rows.append(("send lateness p50 / p95 (ms)", f"{_ms(late['p50'])} / {_ms(late['p95'])}"))
        rows.append(("arrivals not sent (in-flight cap)", str(summary["not_sent"])))
    rows += [("errors by type", kinds), ("error statuses", statuses)]
    return rows


def render_table(rows: Sequence[tuple[str, str]]) -> str:
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)
