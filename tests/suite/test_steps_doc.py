"""docs/steps.md must be what `behave --steps-catalog` says today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_steps_doc_is_up_to_date() -> None:
    result = subprocess.run([sys.executable, "-m", "atlas_suite.stepsdoc", "--check"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (
        f"{result.stderr}\nregenerate it: python -m atlas_suite.stepsdoc (make steps-doc)")


def test_every_step_has_a_docstring() -> None:
    from atlas_suite.stepsdoc import parse_catalog

    text = (ROOT / "docs" / "steps.md").read_text(encoding="utf-8")
    undocumented = [line for line in text.splitlines()
                    if line.startswith("- `") and not line.endswith("  ")]
    assert undocumented == []
    assert parse_catalog("Given a step\n    its doc\n") == {"Given": [("a step", "its doc")]}
