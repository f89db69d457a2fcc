"""Feature files written against earlier wording still run: every step defined, none ambiguous."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LEGACY = ROOT / "tests" / "legacy_features"


def undefined_steps(folder: Path) -> list[str]:
    """The steps behave cannot match in the feature files under ``folder`` (a dry run)."""
    done = subprocess.run(
        [sys.executable, "-m", "behave", "--dry-run", "--no-junit", "-f", "progress",
         "-o", "/dev/null", str(folder)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert "AmbiguousStep" not in output, output[-3000:]
    assert re.search(r"\d+ steps passed", output), f"no dry-run summary:\n{output[-3000:]}"
    return re.findall(r"raise StepNotImplementedError\(u?'([^']*)'\)", output)


def test_every_step_of_the_earlier_feature_files_is_still_defined() -> None:
    undefined = undefined_steps(LEGACY / "v0.1")
    assert undefined == [], "steps of earlier feature files no longer defined:\n" + \
        "\n".join(undefined)


def test_the_check_sees_a_step_that_no_longer_exists() -> None:
    # beside the others, so behave finds steps/; unique, so two test runs can overlap
    folder = LEGACY / f"probe-{uuid.uuid4().hex}"
    shutil.copytree(LEGACY / "v0.1" / "status", folder)
    try:
        feature = folder / "readiness.feature"
        text = feature.read_text(encoding="utf-8")
        feature.write_text(text.replace("Given ", "Given the moon is made of cheese\n    And ", 1),
                           encoding="utf-8")
        assert "Given the moon is made of cheese" in undefined_steps(folder)
    finally:
        shutil.rmtree(folder)
