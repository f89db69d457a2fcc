"""The business features speak the domain's language; HTTP and JSON belong to the contract layer.

Outside ``features/contract/``: at most 5 % of the step lines run a generic HTTP/JSON step (a
step defined in atlas_suite/steplib/http_steps.py or json_steps.py, as behave's own registry
resolves each line), no scenario has a When after a Then, and no scenario name speaks of the
"founding document" (it says what is required instead).
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from atlas_suite.stepsdoc import GENERIC_MODULES

ROOT = Path(__file__).resolve().parents[2]
GENERIC_SHARE = 0.05


@pytest.fixture(scope="module")
def business_lines() -> list[dict[str, Any]]:
    """Every step line of the business features and the step module behave runs for it."""
    result = subprocess.run([sys.executable, "-m", "atlas_suite.stepsdoc", "--usage"], cwd=ROOT,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = json.loads(result.stdout)["lines"]
    return [line for line in lines if not line["file"].startswith("features/contract/")]


def _area(line: dict[str, Any]) -> str:
    return Path(line["file"]).parts[1] if len(Path(line["file"]).parts) > 2 else "(top)"


def share_by_area(lines: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """area -> (generic step lines, all step lines)."""
    counts: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for line in lines:
        counts[_area(line)][0] += line["module"] in GENERIC_MODULES
        counts[_area(line)][1] += 1
    return {area: (g, n) for area, (g, n) in sorted(counts.items())}


def test_at_most_five_percent_of_business_step_lines_are_generic_http_json(
        business_lines: list[dict[str, Any]]) -> None:
    by_area = share_by_area(business_lines)
    generic = sum(g for g, _ in by_area.values())
    total = sum(n for _, n in by_area.values())
    figures = ", ".join(f"{area} {g}/{n}" for area, (g, n) in by_area.items())
    worst = sorted((line for line in business_lines if line["module"] in GENERIC_MODULES),
                   key=lambda line: (line["file"], line["line"]))[:15]
    where = "\n".join(f"  {w['file']}:{w['line']}: {w['keyword'].strip()} {w['text']}"
                      for w in worst)
    assert total > 0
    assert generic <= GENERIC_SHARE * total, (
        f"{generic} of {total} business step lines ({generic / total:.1%}) are generic HTTP/JSON "
        f"steps; at most {GENERIC_SHARE:.0%}. By area: {figures}. First ones:\n{where}")


def test_no_scenario_has_a_when_after_a_then(business_lines: list[dict[str, Any]]) -> None:
    late: list[str] = []
    seen_then: set[tuple[str, str]] = set()
    for line in business_lines:
        scenario = (line["file"], line["scenario"])
        if line["scenario"] == "Background":
            continue
        if line["step_type"] == "then":
            seen_then.add(scenario)
        elif line["step_type"] == "when" and scenario in seen_then:
            late.append(f"{line['file']}:{line['line']}: {line['scenario']}")
    assert late == [], "scenarios with a When after a Then (one Given, When, Then each):\n" + (
        "\n".join(sorted(set(late))))


def test_no_scenario_name_speaks_of_the_founding_document(
        business_lines: list[dict[str, Any]]) -> None:
    named = sorted({f"{line['file']}: {line['scenario']}" for line in business_lines
                    if "founding document" in line["scenario"].lower()})
    assert named == [], "say what is required instead of 'founding document':\n" + (
        "\n".join(named))


def test_no_examples_title_speaks_of_the_founding_document() -> None:
    """An outline's scenarios are named after their Examples title too (`-- @1.1 <title>`)."""
    root = Path(__file__).resolve().parents[2] / "features"
    titles = [f"{path.relative_to(root)}: {line.strip()}"
              for path in sorted(root.rglob("*.feature"))
              for line in path.read_text(encoding="utf-8").splitlines()
              if line.strip().startswith("Examples") and "founding document" in line.lower()]
    assert titles == [], "say what is required instead:\n" + "\n".join(titles)


def test_the_figures_count_what_they_should() -> None:
    lines = [{"file": "features/memory/a.feature", "module": GENERIC_MODULES[0]},
             {"file": "features/memory/a.feature", "module": "steps/memory_steps.py"},
             {"file": "features/status/b.feature", "module": None}]
    assert share_by_area(lines) == {"memory": (1, 2), "status": (0, 1)}
