#!/usr/bin/env python3
"""A live terminal view of a running ATLAS server: rate, latency, memory, active requests.

    scripts/atlas-monitor.py                                  # http://127.0.0.1:8080, every 1 s
    scripts/atlas-monitor.py --url http://127.0.0.1:8080 --interval 2 --duration 600
    scripts/atlas-monitor.py --once                           # one frame, then exit

It polls ``GET /v1/atlas/status`` and ``GET /v1/atlas/metrics`` (a plain OpenAI server without
them shows only /health) and redraws one table in place (rich.live). Rates are differences
between two polls: requests/s from ``requests.total``, tokens/s from ``tokens_generated``.
Latency percentiles are the server's own (over its recent requests). The server's RSS and CPU
come from psutil when its process is known (``--pid``, or found by its port). It stops after
``--duration`` seconds (an hour by default) or on Ctrl-C.
"""

# ruff: noqa: E402 - the repository root goes on sys.path first
from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psutil
from rich.console import Console
from rich.live import Live
from rich.table import Table

from atlas_suite import routes
from atlas_suite.resources import pid_listening_on


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    parser.add_argument("--duration", type=float, default=3600.0, help="stop after (s)")
    parser.add_argument("--once", action="store_true", help="print one frame and exit")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--pid", type=int, default=None, help="the server's process id")
    return parser.parse_args(argv)


class Poller:
    """One poll of the server, and the rates against the previous poll."""

    def __init__(self, url: str, api_key: str | None, pid: int | None) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.url = url.rstrip("/")
        self.client = httpx.Client(base_url=self.url, headers=headers, timeout=5.0,
                                   trust_env=False)
        self.previous: tuple[float, dict[str, Any]] | None = None
        self.process = None
        pid = pid or pid_listening_on(url)
        if pid is not None:
            with contextlib.suppress(psutil.Error):
                self.process = psutil.Process(pid)
                self.process.cpu_percent(None)

    def poll(self) -> dict[str, Any]:
        view: dict[str, Any] = {"url": self.url, "time": time.strftime("%H:%M:%S")}
        try:
            view["health"] = self.client.get(routes.HEALTH).status_code
            status = self.client.get(routes.ATLAS_STATUS)
            metrics = self.client.get(routes.ATLAS_METRICS)
        except httpx.HTTPError as exc:
            view["error"] = f"{type(exc).__name__}: {exc}"
            return view
        if status.status_code == 200:
            view["status"] = status.json()
        if metrics.status_code == 200:
            view["metrics"] = metrics.json()
            now = time.monotonic()
            if self.previous is not None:
                then, before = self.previous
                view["rates"] = rates(before, view["metrics"], now - then)
            self.previous = (now, view["metrics"])
        if self.process is not None:
            with contextlib.suppress(psutil.Error):
                view["rss_mb"] = self.process.memory_info().rss / 2**20
                view["cpu_percent"] = self.process.cpu_percent(None)
        return view

    def close(self) -> None:
        self.client.close()


def rates(before: dict[str, Any], after: dict[str, Any], seconds: float) -> dict[str, float]:
    """Requests, tokens and errors per second between two metrics answers."""
    seconds = max(seconds, 1e-6)

    def delta(*path: str) -> float:
        a, b = before, after
        for key in path:
            a, b = a.get(key, {}) if isinstance(a, dict) else {}, \
                b.get(key, {}) if isinstance(b, dict) else {}
        return float(b or 0) - float(a or 0)

    return {"requests_per_s": delta("requests", "total") / seconds,
            "tokens_per_s": delta("throughput", "tokens_generated") / seconds,
            "errors_per_s": delta("errors", "total") / seconds}




def _fmt(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    return f"{value}{unit}"


def render(view: dict[str, Any]) -> Table:
    """The table for one poll (a plain server shows what it has)."""
    table = Table(title=f"ATLAS server {view['url']}  ({view['time']})", show_header=False,
                  title_justify="left")
    table.add_column("figure", style="bold")
    table.add_column("value")
    if "error" in view:
        table.add_row("server", f"[red]not answering: {view['error']}[/red]")
        return table
    table.add_row("health", "ok" if view.get("health") == 200 else f"HTTP {view.get('health')}")
    status, metrics = view.get("status"), view.get("metrics")
    if status is None and metrics is None:
        table.add_row("ATLAS", "no /v1/atlas routes (a plain OpenAI server)")
    if metrics is not None:
        req, lat, tp = metrics["requests"], metrics["latency_ms"], metrics["throughput"]
        rate = view.get("rates", {})
        table.add_row("requests", f"{req['total']} total, {req['active']} active, "
                                  f"{req['rejected']} rejected, {req.get('atlas', 0)} ATLAS")
        table.add_row("rate", f"{_fmt(rate.get('requests_per_s'), ' req/s', 2)}, "
                              f"{_fmt(rate.get('tokens_per_s'), ' tokens/s')}, "
                              f"{_fmt(rate.get('errors_per_s'), ' errors/s', 2)}")
        table.add_row("latency p50 / p95 / p99", f"{_fmt(lat['p50'])} / {_fmt(lat['p95'])} / "
                                                 f"{_fmt(lat['p99'])} ms (last "
                                                 f"{lat.get('count', '?')} requests)")
        table.add_row("generation speed", _fmt(tp.get("tokens_per_second"), " tokens/s"))
        errors = metrics.get("errors", {})
        kinds = ", ".join(f"{k}: {v}" for k, v in errors.get("by_type", {}).items()) or "none"
        table.add_row("errors by type", kinds)
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(req.get("by_status", {}).items()))
        table.add_row("answers by status", statuses or "none")
        mem = metrics.get("memory", {})
        table.add_row("ATLAS memories", f"{mem.get('memories')} memories, "
                                        f"{mem.get('tokens_memorized')} tokens memorised, "
                                        f"{mem.get('updates')} updates, update p50 "
                                        f"{_fmt(mem.get('update_ms_p50'), ' ms', 2)}")
    if status is not None:
        memory = status.get("memory", {})
        table.add_row("default memory", f"{_fmt(memory.get('bytes', 0) / 2**20, ' MB', 2)}, "
                                        f"loss {_fmt(memory.get('omega_loss'), '', 4)}")
        table.add_row("uptime", _fmt(status.get("uptime_seconds"), " s", 0))
    if "rss_mb" in view:
        table.add_row("server process", f"RSS {_fmt(view['rss_mb'], ' MB', 0)}, CPU "
                                        f"{_fmt(view['cpu_percent'], ' %', 0)} (100 % = a core)")
    return table


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    poller = Poller(args.url, args.api_key, args.pid)
    try:
        if args.once:
            poller.poll()  # a first poll, so the frame has rates
            time.sleep(min(args.interval, 1.0))
            Console().print(render(poller.poll()))
            return 0
        deadline = time.monotonic() + args.duration
        with Live(render(poller.poll()), refresh_per_second=4, screen=False) as live:
            while time.monotonic() < deadline:
                time.sleep(args.interval)
                live.update(render(poller.poll()))
    except KeyboardInterrupt:
        pass
    finally:
        poller.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
