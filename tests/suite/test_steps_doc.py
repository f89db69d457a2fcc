"""docs/steps.md, the step manual: up to date, consistent with `behave --steps-catalog`, every
step in a domain with a docstring, an example or a note that nothing uses it, and its marks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from atlas_suite.steplib.catalogue import DOMAINS
from atlas_suite.stepsdoc import NO_DOMAIN, Step, _entry, _replaces, parse_catalog

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "steps.md"
ENTRY = re.compile(r"^- \*\*(Given|When|Then|Step)\*\* `(.+?)`(?: — \*.*\*)?  $")


def _stepsdoc(*args: str) -> Any:
    result = subprocess.run([sys.executable, "-m", "atlas_suite.stepsdoc", *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def usage() -> dict[str, Any]:
    return _stepsdoc("--usage")


def test_steps_doc_is_up_to_date() -> None:
    result = subprocess.run([sys.executable, "-m", "atlas_suite.stepsdoc", "--check"],
                            cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, (
        f"{result.stderr}\nregenerate it: python scripts/gen_steps_doc.py (make steps-doc)")


def test_the_manual_lists_what_behave_steps_catalog_lists() -> None:
    catalog = _stepsdoc("--catalog")
    listed = {f"{kw} {pattern}" for kw, steps in catalog.items() for pattern, _ in steps}
    documented = {f"{m.group(1)} {m.group(2)}" for line in DOC.read_text().splitlines()
                  if (m := ENTRY.match(line))}
    assert listed, "behave --steps-catalog listed no steps"
    assert sorted(listed - documented) == [], "in behave --steps-catalog, not in docs/steps.md"
    assert sorted(documented - listed) == [], "in docs/steps.md, not in behave --steps-catalog"


def test_every_step_module_names_its_domain(usage: dict[str, Any]) -> None:
    missing = sorted({s["module"] for s in usage["steps"] if s["domain"] == NO_DOMAIN})
    assert missing == [], f"step modules without a DOMAIN constant: {missing}"
    unknown = sorted({(s["module"], s["domain"]) for s in usage["steps"]
                      if s["domain"] not in DOMAINS and s["domain"] != NO_DOMAIN})
    assert unknown == [], f"DOMAIN must be one of {DOMAINS}"


def test_generic_steps_are_the_generic_http_json_domain(usage: dict[str, Any]) -> None:
    generic = [s for s in usage["steps"] if s["module"].startswith("atlas_suite/steplib/")]
    assert generic and {s["domain"] for s in generic} == {"generic HTTP/JSON"}


def test_every_step_has_a_docstring(usage: dict[str, Any]) -> None:
    assert [s["keyword"] + " " + s["pattern"] for s in usage["steps"] if not s["doc"]] == []


def test_every_feature_step_line_runs_a_defined_step(usage: dict[str, Any]) -> None:
    undefined = [f"{line['file']}:{line['line']}" for line in usage["lines"] if not line["step"]]
    assert undefined == []


def test_requests_are_marked_as_setting_the_response(usage: dict[str, Any]) -> None:
    marked = {s["pattern"] for s in usage["steps"] if s["sets_response"]}
    assert {'I GET "{path}"', 'I POST "{path}" with:'} <= marked
    assert 'the response status is {status:Status}' not in marked


def test_every_deprecated_alias_names_an_existing_replacement(usage: dict[str, Any]) -> None:
    steps = [Step(**s) for s in usage["steps"]]
    current = [s for s in steps if not s.deprecated_for]
    orphans = [s.wording for s in steps
               if s.deprecated_for and not any(_replaces(c, s.deprecated_for) for c in current)]
    assert orphans == [], "deprecated aliases whose replacement is no step"


def test_an_entry_shows_marks_doc_and_example() -> None:
    step = Step(keyword="When", pattern='I save "{name}"', doc="Save it.", module="m.py",
                domain="memory", sets_response=True, deprecated_for="I store it",
                example='`When I save "a"` (features/a.feature:3)')
    head, doc, example = _entry(step)
    assert ENTRY.match(head) and "sets the response" in head and "`I store it`" in head
    assert doc == "  Save it.  " and example.startswith("  Example: `When I save")
    unused = dataclasses_replace(step, example=None)
    assert _entry(unused)[-1] == "  Example: none yet; no feature file uses this step."
    assert parse_catalog("Given a step\n    its doc\n") == {"Given": [("a step", "its doc")]}


def dataclasses_replace(step: Step, **changes: Any) -> Step:
    import dataclasses

    return dataclasses.replace(step, **changes)
