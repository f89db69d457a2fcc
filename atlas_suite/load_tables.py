"""The load figures as a small text table, for the terminal and the behave report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def _ms(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:,.1f}"


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(figure, value) rows of a ``LoadResult.summary()``, for a terminal or a report."""
    lat, ttft, itl = summary["latency_ms"], summary["ttft_ms"], summary["itl_ms"]
    errors = summary["errors"]
    kinds = ", ".join(f"{k}: {v}" for k, v in errors["by_type"].items()) or "none"
    statuses = ", ".join(f"{k}: {v}" for k, v in errors["by_status"].items()) or "none"
    load = (f"{summary['users']} users (closed loop)" if summary["mode"] == "closed"
            else f"{summary['rate_per_s']:g}/s arrivals (open loop)")
    rows = [
        ("load", load),
        ("duration", f"{summary['duration_s']:.1f} s"),
        ("requests sent / succeeded", f"{summary['requests']} / {summary['succeeded']}"),
        ("throughput", f"{summary['requests_per_s']:.2f} requests/s, "
                       f"{summary['tokens_per_s']:.1f} tokens/s"),
        ("latency p50 / p95 / p99 (ms)", f"{_ms(lat['p50'])} / {_ms(lat['p95'])} / "
                                         f"{_ms(lat['p99'])}"),
    ]
    if ttft["count"]:
        rows.append(("time to first token p50 / p95 (ms)", f"{_ms(ttft['p50'])} / "
                                                           f"{_ms(ttft['p95'])}"))
    if itl["count"]:
        rows.append(("inter-token latency p50 / p95 (ms)", f"{_ms(itl['p50'])} / "
                                                           f"{_ms(itl['p95'])}"))
    if summary["mode"] == "open":
        late = summary["lateness_ms"]
        rows.append(("send lateness p50 / p95 (ms)", f"{_ms(late['p50'])} / {_ms(late['p95'])}"))
        rows.append(("arrivals not sent (in-flight cap)", str(summary["not_sent"])))
    rows += [("errors by type", kinds), ("error statuses", statuses)]
    return rows


def render_table(rows: Sequence[tuple[str, str]]) -> str:
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)
