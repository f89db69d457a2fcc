"""Scenarios as plain records: read from the feature files, or from behave's model after a run.

Scenarios name the requirements they check with ``@req.<ID>`` tags (on a Feature, a Scenario, an
Outline or one Examples block); ``check`` and ``scope_problems`` hold them against the catalog.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from atlas_suite.tables import shorten
from atlas_suite.traceability.catalog import TAG_PREFIX, Catalog
from atlas_suite.traceability.outcomes import FAILED, NOT_IN_RUN, PASSED, SKIPPED

FEATURES_DIR = Path("features")


@dataclass(frozen=True)
class ScenarioRecord:
    """One scenario (or one Examples row of an outline) and, after a run, its result."""

    file: str
    line: int
    name: str
    group_line: int  # the outline's line for an Examples row, else the scenario's own line
    group_name: str
    tags: frozenset[str]
    status: str | None = None  # passed | failed | skipped; None: not in this run
    reason: str | None = None  # why it was skipped, or how it failed

    @property
    def key(self) -> tuple[str, int]:
        return (self.file, self.line)

    @property
    def group_key(self) -> tuple[str, int]:
        return (self.file, self.group_line)

    @property
    def req_ids(self) -> set[str]:
        return requirement_tags(self.tags)[0]

    @property
    def atlas(self) -> bool:
        return "atlas" in self.tags


def requirement_tags(tags: Iterable[str]) -> tuple[set[str], set[str]]:
    """(requirement ids named by ``@req.<ID>`` tags, tags that look like one but are not)."""
    ids, malformed = set(), set()
    for tag in tags:
        tag = tag.lstrip("@")
        if tag.startswith(TAG_PREFIX):
            ids.add(tag[len(TAG_PREFIX):])
        elif re.match(r"^req(?:s|uire\w*)?[^a-z0-9]", tag, re.IGNORECASE):
            malformed.add(tag)
    return ids, malformed


def relative_path(filename: str, root: Path | None) -> str:
    """``filename`` relative to ``root`` where it lies below it, in forward slashes."""
    path = Path(filename)
    if root is not None and path.is_absolute():
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return path.as_posix()


# ---- behave's model --------------------------------------------------------------------------

def _walk(feature: Any) -> Iterator[tuple[Any, Any]]:
    """(scenario, its group: the outline or the scenario itself) for every scenario to run."""
    from behave.model import Rule, ScenarioOutline

    def items(container: Any) -> Iterator[Any]:
        for item in getattr(container, "run_items", None) or container.scenarios:
            if isinstance(item, Rule):
                yield from items(item)
            else:
                yield item

    for item in items(feature):
        if isinstance(item, ScenarioOutline):
            for scenario in item.scenarios:
                yield scenario, item
        else:
            yield item, item


def parse_features(features_dir: Path | str = FEATURES_DIR,
                   root: Path | None = None) -> list[ScenarioRecord]:
    """Every scenario of every feature file under ``features_dir`` (no results)."""
    from behave.parser import parse_file

    records = []
    for path in sorted(Path(features_dir).rglob("*.feature")):
        feature = parse_file(str(path))
        if feature is None:
            continue
        for scenario, group in _walk(feature):
            records.append(_record(scenario, group, root))
    return records


def _record(scenario: Any, group: Any, root: Path | None, status: str | None = None,
            reason: str | None = None) -> ScenarioRecord:
    return ScenarioRecord(
        file=relative_path(scenario.filename, root), line=int(scenario.line),
        name=scenario.name, group_line=int(group.line), group_name=group.name,
        tags=frozenset(str(t) for t in scenario.effective_tags), status=status, reason=reason,
    )


_FAILED = {"failed", "error", "hook_error", "cleanup_error", "undefined", "pending",
           "pending_warn", "untested_pending", "untested_undefined", "xpassed"}
_PASSED = {"passed", "xfailed"}


def scenario_result(scenario: Any, tags_text: str = "") -> tuple[str | None, str | None]:
    """(passed | failed | skipped | None, reason) of a scenario of behave's model after a run."""
    name = scenario.status.name
    if name in _PASSED:
        return PASSED, None
    if name in _FAILED:
        return FAILED, _failure_text(scenario)
    if name == "skipped":
        if scenario.skip_reason:
            return SKIPPED, str(scenario.skip_reason)
        if tags_text:
            return SKIPPED, f"not selected by this run's tags ({tags_text})"
        return SKIPPED, "not selected in this run"
    if name == "untested":
        return SKIPPED, "not run: the run stopped before it"
    return None, None


def _failure_text(scenario: Any) -> str:
    for step in getattr(scenario, "all_steps", []):
        if step.status.name in _FAILED:
            message = (step.error_message or "").strip().splitlines()
            first = message[0] if message else step.status.name
            return f"{step.keyword} {step.name}: {first}"[:300]
    message = (getattr(scenario, "error_message", None) or "").strip().splitlines()
    return (message[0] if message else f"scenario {scenario.status.name}")[:300]


def records_from_run(features: Iterable[Any], root: Path | None = None,
                     tags_text: str = "") -> list[ScenarioRecord]:
    """Every scenario of behave's model after a run, with its result."""
    records = []
    for feature in features:
        for scenario, group in _walk(feature):
            status, reason = scenario_result(scenario, tags_text)
            records.append(_record(scenario, group, root, status, reason))
    return records


def merge(static: Sequence[ScenarioRecord],
          ran: Sequence[ScenarioRecord] | None) -> list[ScenarioRecord]:
    """Every scenario of the feature files, with its result where it ran in this run."""
    if ran is None:
        return [replace(r, status=SKIPPED, reason="no run: static report") for r in static]
    results = {r.key: r for r in ran}
    merged = []
    for record in static:
        found = results.pop(record.key, None)
        merged.append(found if found is not None and found.status is not None
                      else replace(record, status=SKIPPED, reason=NOT_IN_RUN))
    merged.extend(r if r.status else replace(r, status=SKIPPED, reason=NOT_IN_RUN)
                  for r in results.values())
    return merged


# ---- the checks against the catalog ----------------------------------------------------------

def check(catalog: Catalog, records: Sequence[ScenarioRecord]) -> list[str]:
    """Problems that fail a run: a tag naming no entry, a mandatory requirement without scenario."""
    covered: set[str] = set()
    unknown: dict[str, list[str]] = collections.defaultdict(list)
    malformed: dict[str, list[str]] = collections.defaultdict(list)
    for record in records:
        ids, bad = requirement_tags(record.tags)
        where = f"{record.file}:{record.group_line}"
        for req_id in ids:
            if req_id in catalog.requirements:
                covered.add(req_id)
            elif where not in unknown[req_id]:
                unknown[req_id].append(where)
        for tag in bad:
            if where not in malformed[tag]:
                malformed[tag].append(where)
    problems = [f"the tag @{TAG_PREFIX}{req_id} names no requirement of the catalog "
                f"({', '.join(places)})" for req_id, places in sorted(unknown.items())]
    problems += [f"the tag @{tag} looks like a requirement tag but is not "
                 f"@{TAG_PREFIX}<ID> ({', '.join(places)})"
                 for tag, places in sorted(malformed.items())]
    problems += [f"the mandatory requirement {r.id} has no scenario "
                 f"(tag one with {r.tag}): {shorten(r.text, 90)}"
                 for r in catalog.requirements.values() if r.mandatory and r.id not in covered]
    return problems


def scope_problems(catalog: Catalog, records: Sequence[ScenarioRecord]) -> list[str]:
    """Scope consistency: an "atlas" requirement is checked only by @atlas scenarios (so plain
    servers skip exactly the ATLAS rows); an "openai" one by at least one scenario without."""
    by_req: dict[str, list[ScenarioRecord]] = collections.defaultdict(list)
    for record in records:
        for req_id in record.req_ids:
            by_req[req_id].append(record)
    problems = []
    for req_id, found in sorted(by_req.items()):
        requirement = catalog.requirements.get(req_id)
        if requirement is None or not found:
            continue
        if requirement.scope == "atlas":
            plain = sorted({f"{r.file}:{r.group_line}" for r in found if not r.atlas})
            if plain:
                problems.append(f"{req_id} is an ATLAS requirement but these scenarios are not "
                                f"@atlas: {', '.join(plain)}")
        elif all(r.atlas for r in found):
            problems.append(f"{req_id} applies to any OpenAI server but all its scenarios are "
                            "@atlas: a plain server would skip it")
    return problems
