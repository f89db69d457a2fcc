"""Runtime skips as behave active tags, each with its reason in words.

behave's ``ActiveTagMatcher`` decides: a scenario runs when every category its active tags name
(``@use.with_CATEGORY=VALUE``, ``@not.with_CATEGORY=VALUE``) has a value it allows on this run.
The categories and this run's values:

| category | value on this run | the feature files' tag | counts as |
|---|---|---|---|
| ``profile`` | the target's profile: ``atlas`` or ``openai`` | ``@atlas`` | ``@use.with_profile=atlas`` |
| ``hardware`` | ``yes`` with ``-D hardware=yes`` (absolute time bounds) | ``@hardware`` | ``@use.with_hardware=yes`` |
| ``cluster`` | ``yes`` when a Kubernetes cluster answers (KUBECONFIG or ~/.kube/config) | ``@k8s`` | ``@use.with_cluster=yes`` |
| ``gpu`` | ``yes`` when NVML (pynvml) sees an NVIDIA GPU | ``@gpu`` | ``@use.with_gpu=yes`` |
| ``engine`` | ``yes`` when a container engine answers on DOCKER_HOST and the image is built | ``@docker`` | ``@use.with_engine=yes`` |
| ``gpu_engine`` | ``yes`` when the engine can run the GPU image on a GPU | ``@docker`` with ``@gpu`` | ``@use.with_gpu_engine=yes`` |

The feature files keep the short tags (traceability and the mutation catalogue read them); the
active tags themselves work too (``@not.with_gpu=yes``: only where there is no GPU).
behave's own skip reason is only "category (but: value)", so each category also says why in
words (``Condition.explain``); when several categories exclude a scenario, the first in the
table's order gives the reason. Each value is asked only when a scenario names its category,
and once per run (the checks are cached).
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from behave.tag_matcher import ActiveTagMatcher

from atlas_suite import containers, gpu, kube
from atlas_suite.targets import TargetSettings
from atlas_suite.traceability import not_claimed_reason

# the suite's short tags and the active tags they stand for
ALIASES = {"atlas": "use.with_profile=atlas", "hardware": "use.with_hardware=yes",
           "k8s": "use.with_cluster=yes", "gpu": "use.with_gpu=yes",
           "docker": "use.with_engine=yes"}
GPU_CONTAINER = "use.with_gpu_engine=yes"  # @docker and @gpu together: the GPU image on a GPU
HARDWARE_REASON = ("absolute time bounds for a dedicated machine: run them with -D hardware=yes "
                   "(the default run judges the same requirement on same-run comparisons)")


@dataclass(frozen=True)
class Condition:
    """One category: its value on this run, and why a scenario it excludes is skipped."""

    value: Callable[[], str]
    why_not: Callable[[str], str | None]  # the reason in words, given the value; None: none

    def explain(self, category: str, value: str, tags: Iterable[str]) -> str:
        """The skip reason: the condition's own words, else which tags exclude which value."""
        return self.why_not(value) or (
            f"{category} is {value} on this run, which "
            f"{' '.join('@' + t for t in tags)} excludes")


def _yes(available: bool) -> str:
    return "yes" if available else "no"


def _profile_reason(profile: str) -> str:
    if profile != "atlas":
        return not_claimed_reason(profile, "a plain OpenAI server, without the ATLAS extension")
    return not_claimed_reason(profile, "a scenario for a plain OpenAI server only")


def conditions(settings: TargetSettings) -> dict[str, Condition]:
    """The categories in the order their reasons win (the module's table)."""
    return {
        "profile": Condition(lambda: settings.profile, _profile_reason),
        "hardware": Condition(lambda: _yes(settings.hardware),
                              lambda value: HARDWARE_REASON if value == "no" else None),
        "cluster": Condition(lambda: _yes(kube.skip_reason() is None),
                             lambda _: kube.skip_reason()),
        "gpu": Condition(lambda: _yes(gpu.nvml_skip_reason() is None),
                         lambda _: gpu.nvml_skip_reason()),
        "engine": Condition(lambda: _yes(containers.suite_skip_reason() is None),
                            lambda _: containers.suite_skip_reason()),
        "gpu_engine": Condition(lambda: _yes(containers.gpu_skip_reason() is None),
                                lambda _: containers.gpu_skip_reason()),
    }


def active_tags(tags: Iterable[str]) -> list[str]:
    """``tags`` with the active tag each short tag stands for added."""
    tags = [str(tag) for tag in tags]
    added = [ALIASES[tag] for tag in tags if tag in ALIASES]
    if "docker" in tags and "gpu" in tags:
        added.append(GPU_CONTAINER)
    return tags + added


class RunValues:
    """behave's value provider: a category's value, asked only when a scenario names it."""

    def __init__(self, conditions: dict[str, Condition]) -> None:
        self.conditions = conditions

    def get(self, category: str, default: Any = None) -> Any:
        condition = self.conditions.get(category)
        return condition.value() if condition is not None else default


class SuiteTagMatcher(ActiveTagMatcher):
    """behave's active-tag logic over this run's values, with the short tags as aliases and a
    reason in words for every skip (``skip_reason``)."""

    def __init__(self, settings: TargetSettings) -> None:
        self.conditions = conditions(settings)
        super().__init__(RunValues(self.conditions))

    def should_skip_with_tags(self, tags: Iterable[str]) -> bool:
        groups = dict(self.group_active_tags_by_category(active_tags(tags)))
        for category, condition in self.conditions.items():  # unknown categories: ignored
            pairs = groups.get(category)
            if pairs and not self.is_tag_group_enabled(category, pairs):
                tags_named = [tag for tag, _ in pairs]
                self.skip_reason = condition.explain(category, condition.value(), tags_named)
                return True
        self.skip_reason = None
        return False


def skip_reason(tags: Iterable[str], settings: TargetSettings) -> str | None:
    """Why a scenario with these tags cannot run on this target, or None when it can."""
    matcher = SuiteTagMatcher(settings)
    return matcher.skip_reason if matcher.should_skip_with_tags(tags) else None
