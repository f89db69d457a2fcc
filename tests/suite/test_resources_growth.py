"""RSS growth per completed request: a leak stands out of the allocator's breathing."""

from __future__ import annotations

from atlas_suite.resources import ResourceMonitor, ResourceSample


def _monitor(rss_at: list[float]) -> ResourceMonitor:
    monitor = ResourceMonitor()
    monitor.samples = [ResourceSample(t_s=float(t), rss_mb=v) for t, v in enumerate(rss_at)]
    return monitor  # its clock starts at 0.0, as the load's does below


def test_a_server_that_keeps_12_kb_of_every_request_is_seen_at_that_rate() -> None:
    done = [i / 4 for i in range(1, 400)]  # 4 requests a second
    rss = [400.0 + 4 * t * 12 / 1024 for t in range(100)]
    growth = _monitor(rss).growth_per_request(done)
    assert abs(growth["kb_per_request"] - 12) < 0.2
    assert growth["growth_kb"] > growth["noise_kb"]


def test_a_flat_server_breathing_by_two_mb_shows_growth_inside_its_spread() -> None:
    done = [i / 2 for i in range(1, 200)]
    rss = [395.0 + (2.0 if (t // 7) % 2 else 0.0) for t in range(100)]  # a 2 MB sawtooth
    growth = _monitor(rss).growth_per_request(done)
    assert growth["growth_kb"] < growth["noise_kb"]


def test_no_request_completed_after_the_warm_up_gives_no_figure() -> None:
    growth = _monitor([400.0] * 10).growth_per_request([0.5])
    assert growth["requests"] == 0 and growth["kb_per_request"] != growth["kb_per_request"]
