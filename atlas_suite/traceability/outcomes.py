"""The words for how a requirement, a scenario or a matrix cell fared, and how they combine."""

from __future__ import annotations

from collections.abc import Iterable

PASSED, FAILED, SKIPPED, NOT_COVERED = "passed", "failed", "skipped", "not covered"
STATUSES = (PASSED, FAILED, SKIPPED, NOT_COVERED)
NOT_IN_RUN = "not part of this run (its feature file was not selected)"
# A skip because the target's profile does not claim what the scenario checks: the matrix shows
# it as NOT_CLAIMED, apart from a skip for the environment (no GPU) and from a failure.
NOT_CLAIMED = "not claimed"
NOT_CLAIMED_PREFIX = "not claimed by profile="


def not_claimed_reason(profile: str, what: str) -> str:
    """The skip reason of a scenario whose subject the target's profile does not claim."""
    return f"{NOT_CLAIMED_PREFIX}{profile}: {what}"


def is_not_claimed(reason: str | None) -> bool:
    """Whether a skip reason says "the profile does not claim it" (see not_claimed_reason)."""
    return reason is not None and NOT_CLAIMED_PREFIX in reason


def aggregate(statuses: Iterable[str]) -> str:
    """One status for several: a failure outweighs a pass, a pass outweighs skips."""
    found = set(statuses)
    if FAILED in found:
        return FAILED
    if PASSED in found:
        return PASSED
    return SKIPPED if found else NOT_COVERED
