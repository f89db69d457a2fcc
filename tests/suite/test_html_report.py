"""The HTML report: titled with the product and the target, a summary by area and the failures
in the server's words at the top, and no scenario the run's tags left out."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from atlas_suite.reporting import area_of, report_title

ROOT = Path(__file__).resolve().parents[2]

FEATURE_OK = """Feature: Status
  @smoke
  Scenario: The status answers
    Given a step that passes

  Scenario: A scenario the smoke run does not select
    Given a step that passes
"""
FEATURE_BAD = """Feature: Memory
  @smoke
  Scenario: A load of a damaged file is refused
    Given a step that fails with "the server answered 200 to a damaged file"
"""
STEPS = """from behave import given

@given("a step that passes")
def passes(context):
    pass

@given('a step that fails with "{words}"')
def fails(context, words):
    raise AssertionError(words)
"""


def _run(tmp_path: Path, *args: str) -> str:
    (tmp_path / "features" / "status").mkdir(parents=True)
    (tmp_path / "features" / "memory").mkdir()
    (tmp_path / "features" / "steps").mkdir()
    (tmp_path / "features" / "status" / "a.feature").write_text(FEATURE_OK)
    (tmp_path / "features" / "memory" / "b.feature").write_text(FEATURE_BAD)
    (tmp_path / "features" / "steps" / "s.py").write_text(STEPS)
    out = tmp_path / "report.html"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "behave", "--no-junit", "--no-capture",
                    "-f", "atlas_suite.reporting:AtlasHTMLFormatter", "-o", str(out),
                    *args, "features"], cwd=tmp_path, env=env, capture_output=True,
                   text=True, timeout=120)
    return out.read_text(encoding="utf-8")


def test_a_smoke_run_shows_its_scenarios_failures_first_and_counts_the_rest(
        tmp_path: Path) -> None:
    html = _run(tmp_path, "--tags=@smoke", "-D", "target=url",
                "-D", "base_url=http://127.0.0.1:8080")
    assert "<title>ATLAS acceptance — http://127.0.0.1:8080</title>" in html
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "1 scenarios not selected by this run's tags (@smoke) are left out" in text
    assert "A scenario the smoke run does not select" not in text
    assert "Failures (1)" in text and "the server answered 200 to a damaged file" in text
    summary = text[text.index("Summary by area"):text.index("Failures")]
    assert "memory 1 0 1 0" in summary and "status 1 1 0 0" in summary
    assert text.index("Feature: Memory") < text.index("Feature: Status")  # failures first


def test_titles_and_areas() -> None:
    assert report_title({}) == "ATLAS acceptance — reference server"
    assert report_title({"target": "command", "command": "/opt/llama-server -m {model}",
                         "profile": "openai"}) == (
        "ATLAS acceptance — the server started by /opt/llama-server (plain OpenAI profile)")
    assert area_of("features/memory/corruption.feature") == "memory"
    assert area_of("/x/features/contract/memory_routes.feature") == "contract"
    assert area_of("elsewhere.feature") == "other"
