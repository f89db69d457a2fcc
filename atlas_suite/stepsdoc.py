"""docs/steps.md, generated from ``behave --steps-catalog`` (run in a fresh process).

    python -m atlas_suite.stepsdoc            # rewrite docs/steps.md
    python -m atlas_suite.stepsdoc --check    # exit 1 when docs/steps.md is stale
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "steps.md"
KEYWORDS = ("Given", "When", "Then", "Step")

HEADER = """# Step catalog

Generated from `behave --steps-catalog` by `python -m atlas_suite.stepsdoc`; do not edit by hand
(`tests/suite/test_steps_doc.py` fails when this file is stale).

Steps come in two kinds. Declarative domain steps ("the memory file "a.atlas" is corrupted at
byte 100") live in `steps/`; generic QA steps (`When I GET "/v1/atlas/status"`, `Then the JSON at
"error.message" contains "corruption"`) live in `atlas_suite/steplib/` and are pulled in by the
one-line modules `steps/http_steps.py` and `steps/json_steps.py`. JSON paths are jsonpath-ng
paths without the leading `$.` (`error.param`, `data[0].name`, `requests.by_status.'200'`).

## Typed parameters

| type | matches |
|---|---|
"""


def catalog_text() -> str:
    """The raw steps catalog, as behave prints it."""
    from behave.__main__ import run_behave
    from behave.configuration import Configuration

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "catalog.txt"
        args = ["--steps-catalog", "--no-junit", "--no-color", "-o", str(out),
                str(ROOT / "features")]
        config = Configuration(args, load_config=False)
        with contextlib.redirect_stdout(io.StringIO()):
            status = run_behave(config)
        if status != 0:
            raise RuntimeError("behave --steps-catalog failed")
        return out.read_text(encoding="utf-8")


def parse_catalog(text: str) -> dict[str, list[tuple[str, str]]]:
    """keyword -> [(step pattern, docstring)] in the catalog's order."""
    sections: dict[str, list[tuple[str, str]]] = {k: [] for k in KEYWORDS}
    pattern, doc_lines = None, []  # type: ignore[var-annotated]

    def flush() -> None:
        if pattern:
            keyword, _, rest = pattern.partition(" ")
            sections[keyword].append((rest, " ".join(doc_lines)))

    for line in text.splitlines():
        if line.split(" ", 1)[0] in KEYWORDS and not line.startswith(" "):
            flush()
            pattern, doc_lines = line.strip(), []
        elif line.strip():
            doc_lines.append(line.strip())
    flush()
    return {k: v for k, v in sections.items() if v}


def type_rows() -> list[str]:
    from atlas_suite.steplib import types

    rows = []
    for name, func in sorted(types.registered().items()):
        doc = " ".join((func.__doc__ or "").split())
        rows.append(f"| `{{x:{name}}}` | {doc} |")
    return rows


def render() -> str:
    sections = parse_catalog(catalog_text())  # first: behave resets its type registry on start
    parts = [HEADER + "\n".join(type_rows()) + "\n"]
    for keyword, steps in sections.items():
        parts.append(f"\n## {keyword}\n")
        for pattern, doc in steps:
            parts.append(f"- `{keyword} {pattern}`" + (f"  \n  {doc}" if doc else ""))
    return "\n".join(parts).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate docs/steps.md")
    parser.add_argument("--check", action="store_true", help="fail when docs/steps.md is stale")
    parser.add_argument("--stdout", action="store_true", help="print instead of writing")
    args = parser.parse_args(argv)
    text = render()
    if args.stdout:
        sys.stdout.write(text)
    elif args.check:
        current = DOC.read_text(encoding="utf-8") if DOC.is_file() else ""
        if current != text:
            print(f"{DOC} is stale: run python -m atlas_suite.stepsdoc", file=sys.stderr)
            return 1
    else:
        DOC.write_text(text, encoding="utf-8")
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
