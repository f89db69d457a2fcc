#!/usr/bin/env python3
"""The compatibility matrix: run the suite against every target of a targets file.

    scripts/atlas-matrix.py targets.example.toml [--only NAME] [--tags EXPR] [--rows scenarios]
                            [--out reports/matrix] [--report-only] [--check] [-- behave args]

Writes reports/matrix/matrix.md and matrix.html, and each target's reports under
reports/matrix/<name>/. See docs/traceability.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"

try:
    import behave  # noqa: F401  (the matrix runs behave with this interpreter)
except ImportError:
    python = VENV / "bin" / "python"
    if python.exists() and Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(python), [str(python), __file__, *sys.argv[1:]])
    sys.exit("atlas-matrix: behave is not installed here; run `make setup` first")

sys.path.insert(0, str(ROOT))
os.chdir(ROOT)

from atlas_suite.matrix import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(root=ROOT))
