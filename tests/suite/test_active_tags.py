"""Runtime skips as behave active tags: the short tags of the feature files as aliases, the
active tags themselves, which reason wins, and that a check is asked only when a scenario
names its category."""

from __future__ import annotations

from typing import Any

import pytest
from behave.tag_matcher import ActiveTagMatcher

from atlas_suite import containers, gpu, kube, tagrules
from atlas_suite.targets import TargetSettings
from atlas_suite.traceability import is_not_claimed

ATLAS = TargetSettings.from_userdata({})
OPENAI = TargetSettings.from_userdata({"profile": "openai"})


@pytest.fixture
def nothing_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with no cluster, no GPU and no container engine."""
    monkeypatch.setattr(kube, "skip_reason", lambda: "no k8s")
    monkeypatch.setattr(gpu, "nvml_skip_reason", lambda: "no gpu")
    monkeypatch.setattr(containers, "suite_skip_reason", lambda image=None: "no engine")
    monkeypatch.setattr(containers, "gpu_skip_reason", lambda: "no nvidia runtime")


@pytest.fixture
def everything_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with a cluster, a GPU, an engine with the image and the NVIDIA runtime."""
    monkeypatch.setattr(kube, "skip_reason", lambda: None)
    monkeypatch.setattr(gpu, "nvml_skip_reason", lambda: None)
    monkeypatch.setattr(containers, "suite_skip_reason", lambda image=None: None)
    monkeypatch.setattr(containers, "gpu_skip_reason", lambda: None)


def test_the_matcher_is_behaves() -> None:
    matcher = tagrules.SuiteTagMatcher(ATLAS)
    assert isinstance(matcher, ActiveTagMatcher)
    assert matcher.should_skip_with_tags(["memory", "smoke"]) is False
    assert matcher.skip_reason is None


def test_short_tags_stand_for_active_tags() -> None:
    assert tagrules.active_tags(["atlas", "req.API-STATUS"]) == [
        "atlas", "req.API-STATUS", "use.with_profile=atlas"]
    assert "use.with_gpu_engine=yes" in tagrules.active_tags(["docker", "gpu"])
    assert "use.with_gpu_engine=yes" not in tagrules.active_tags(["gpu"])


@pytest.mark.usefixtures("nothing_here")
def test_which_reason_wins() -> None:
    assert tagrules.skip_reason({"docker", "atlas"}, ATLAS) == "no engine"
    assert tagrules.skip_reason({"docker", "gpu"}, ATLAS) == "no gpu"
    assert tagrules.skip_reason({"k8s", "gpu"}, ATLAS) == "no k8s"
    assert tagrules.skip_reason({"hardware", "k8s"}, ATLAS) == tagrules.HARDWARE_REASON
    assert is_not_claimed(tagrules.skip_reason({"docker", "atlas", "hardware"}, OPENAI))
    assert tagrules.skip_reason({"memory"}, ATLAS) is None


def test_a_plain_openai_target_skips_atlas_scenarios_as_not_claimed() -> None:
    reason = tagrules.skip_reason({"atlas"}, OPENAI)
    assert reason == ("not claimed by profile=openai: a plain OpenAI server, without the ATLAS "
                      "extension")
    assert tagrules.skip_reason({"atlas"}, ATLAS) is None
    assert is_not_claimed(tagrules.skip_reason({"use.with_profile=openai"}, ATLAS))
    assert tagrules.skip_reason({"not.with_profile=atlas"}, OPENAI) is None


def test_hardware_runs_only_when_asked() -> None:
    dedicated = TargetSettings.from_userdata({"hardware": "yes"})
    assert tagrules.skip_reason({"hardware"}, dedicated) is None
    assert "-D hardware=yes" in (tagrules.skip_reason({"hardware"}, ATLAS) or "")


@pytest.mark.usefixtures("everything_here")
def test_a_gpu_container_needs_the_nvidia_runtime_too(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tagrules.skip_reason({"docker", "gpu", "k8s", "atlas"}, ATLAS) is None
    monkeypatch.setattr(containers, "gpu_skip_reason", lambda: "no nvidia runtime")
    assert tagrules.skip_reason({"docker", "gpu"}, ATLAS) == "no nvidia runtime"
    assert tagrules.skip_reason({"docker"}, ATLAS) is None


@pytest.mark.usefixtures("everything_here")
def test_negated_active_tags_say_which_tag_excludes_the_run() -> None:
    reason = tagrules.skip_reason({"not.with_gpu=yes"}, ATLAS)
    assert reason == "gpu is yes on this run, which @not.with_gpu=yes excludes"
    assert tagrules.skip_reason({"use.with_cluster=no"}, ATLAS) == \
        "cluster is yes on this run, which @use.with_cluster=no excludes"


@pytest.mark.usefixtures("nothing_here")
def test_negated_active_tags_run_where_the_thing_is_missing() -> None:
    assert tagrules.skip_reason({"not.with_gpu=yes"}, ATLAS) is None
    assert tagrules.skip_reason({"use.with_engine=yes"}, ATLAS) == "no engine"


def test_unknown_categories_are_left_alone() -> None:
    assert tagrules.skip_reason({"use.with_os=plan9"}, ATLAS) is None


def test_a_check_is_asked_only_for_a_category_a_scenario_names(
        monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def never(name: str) -> Any:
        def check(*args: Any) -> str:
            asked.append(name)
            return f"no {name}"
        return check

    monkeypatch.setattr(kube, "skip_reason", never("k8s"))
    monkeypatch.setattr(gpu, "nvml_skip_reason", never("gpu"))
    monkeypatch.setattr(containers, "suite_skip_reason", never("engine"))
    monkeypatch.setattr(containers, "gpu_skip_reason", never("gpu engine"))
    matcher = tagrules.SuiteTagMatcher(ATLAS)
    assert not matcher.should_skip_with_tags(["atlas", "memory", "req.MEM-CORRUPT"])
    assert asked == []
    assert matcher.should_skip_with_tags(["gpu", "docker"]) and matcher.skip_reason == "no gpu"
    assert "engine" not in asked, "the first category that excludes decides; no more checks"
