"""Regenerate docs/steps.md, the step manual, from behave's step registry.

See atlas_suite/stepsdoc.py.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from atlas_suite.stepsdoc import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
