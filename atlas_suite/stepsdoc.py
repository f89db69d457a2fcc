"""docs/steps.md, the step manual, generated from behave's own step registry.

    python -m atlas_suite.stepsdoc            # rewrite docs/steps.md
    python -m atlas_suite.stepsdoc --check    # exit 1 when docs/steps.md is stale
    python -m atlas_suite.stepsdoc --usage    # every feature step line and its step, as JSON

The step modules are loaded the way ``behave`` loads them (its runner, then
``behave.step_registry.registry``), so run this in a fresh process: behave's registries are
process-wide. Each step's domain is its module's ``DOMAIN``; its marks come from
``atlas_suite.steplib.catalogue``; its example is the first line of a real feature it matches.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from atlas_suite.steplib.catalogue import DOMAINS, marks

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "steps.md"
FEATURES = ROOT / "features"
KEYWORDS = ("Given", "When", "Then", "Step")
GENERIC_MODULES = ("atlas_suite/steplib/http_steps.py", "atlas_suite/steplib/json_steps.py")
NO_DOMAIN = "without a domain"

HEADER = """# Step manual

Generated from behave's step registry by `python -m atlas_suite.stepsdoc`; do not edit by hand
(`tests/suite/test_steps_doc.py` fails when this file is stale, and when it disagrees with
`behave --steps-catalog`).

Business features speak in domain steps ("the memory file "a.atlas" is corrupted at byte 100",
"the load is refused as corruption"), grouped below by domain. The generic HTTP/JSON steps at
the end (`When I GET "/v1/atlas/status"`, `Then the JSON at "error.message" contains "x"`) are
for the contract layer (`features/contract/`) and QA teams' own scenarios; they read
**the response**: the answer to the last step marked *sets the response*. JSON paths are
jsonpath-ng paths without the leading `$.` (`error.param`, `data[0].name`,
`requests.by_status.'200'`).

Each step shows its wording, what it does and reads, one example from a real feature file, and
its marks: *sets the response* (later generic steps read its answer), *deprecated* (an older
wording kept so that existing feature files still run; use its replacement, listed just above
it). The response is the server's last answer in the scenario, and unmarked domain steps may
send requests of their own: put generic checks right after a step marked *sets the response*.

## Typed parameters

| type | matches |
|---|---|
"""


@dataclasses.dataclass
class Step:
    """One step definition: a keyword and a pattern, with what the manual says about it."""

    keyword: str
    pattern: str
    doc: str
    module: str
    domain: str
    sets_response: bool
    deprecated_for: str | None
    example: str | None = None

    @property
    def wording(self) -> str:
        return f"{self.keyword} {self.pattern}"


@dataclasses.dataclass
class StepLine:
    """A step line of a feature file and the step definition it runs (None: undefined)."""

    file: str
    line: int
    keyword: str
    step_type: str
    text: str
    scenario: str
    step: str | None
    module: str | None


def _source(func: Callable[..., Any]) -> tuple[Callable[..., Any], str]:
    """The step's own function (under any wrapper) and its file, relative to the project."""
    inner = inspect.unwrap(func)
    path = Path(inspect.getsourcefile(inner) or "?").resolve()
    try:
        return inner, str(path.relative_to(ROOT))
    except ValueError:
        return inner, str(path)


def load_registry() -> Any:
    """behave's step registry, filled as a behave run fills it (steps/ under the features)."""
    from behave.configuration import Configuration
    from behave.runner import Runner
    from behave.step_registry import registry

    config = Configuration(["--no-junit", "--no-color", str(FEATURES)], load_config=False)
    runner = Runner(config)
    with runner.path_manager:
        runner.setup_paths()
        runner.load_step_definitions()
    return registry


def registry_steps(registry: Any) -> list[Step]:
    """Every step definition in the registry, in registration order."""
    steps = []
    for step_type, matchers in registry.steps.items():
        for matcher in matchers:
            inner, module = _source(matcher.func)
            mark = marks(matcher.func)
            steps.append(Step(
                keyword=step_type.capitalize(), pattern=matcher.pattern,
                doc=" ".join((inspect.getdoc(inner) or "").split()), module=module,
                domain=inner.__globals__.get("DOMAIN") or NO_DOMAIN,
                sets_response=mark["sets_response"], deprecated_for=mark["deprecated_for"]))
    return steps


def _feature_steps(path: Path) -> Iterator[tuple[Any, str, Any]]:
    """(step, scenario name, step to match) for every step line, outline rows expanded once."""
    from behave.parser import parse_file

    feature = parse_file(str(path))
    if feature is None:
        return
    for step in feature.background.steps if feature.background else []:
        yield step, "Background", step
    for scenario in feature.walk_scenarios(with_outlines=True):
        if hasattr(scenario, "scenarios"):  # an outline: its lines, matched through row one
            expanded = scenario.scenarios[0].steps if scenario.scenarios else scenario.steps
            for template, concrete in zip(scenario.steps, expanded, strict=False):
                yield template, scenario.name, concrete
        elif getattr(scenario, "_row", None) is None:
            for step in scenario.steps:
                yield step, scenario.name, step


def step_lines(registry: Any, root: Path = FEATURES) -> list[StepLine]:
    """Every step line of the feature files under ``root`` and the step it runs."""
    lines = []
    for path in sorted(root.rglob("*.feature")):
        for written, scenario, concrete in _feature_steps(path):
            match = registry.find_match(concrete)
            step = module = None
            if match is not None and match.func is not None:
                definition = registry.find_step_definition(concrete)
                step = f"{concrete.step_type.capitalize()} {definition.pattern}"
                module = _source(match.func)[1]
            lines.append(StepLine(
                file=str(path.relative_to(ROOT)), line=written.line, keyword=written.keyword,
                step_type=written.step_type, text=written.name, scenario=scenario, step=step,
                module=module))
    return lines


def attach_examples(steps: list[Step], lines: list[StepLine]) -> None:
    """Give each step its first use, preferring a business feature for a domain step."""
    def rank(line: StepLine) -> tuple[bool, bool, str, int]:  # a concrete line reads best
        return ("/contract/" in line.file, "<" in line.text, line.file, line.line)

    by_step: dict[str, StepLine] = {}
    by_pattern: dict[str, StepLine] = {}  # one wording under several keywords shares a use
    for line in sorted(lines, key=rank):
        if line.step:
            by_step.setdefault(line.step, line)
            by_pattern.setdefault(line.step.split(" ", 1)[1], line)
    for step in steps:
        use = by_step.get(step.wording) or by_pattern.get(step.pattern)
        if use is not None:
            step.example = f"`{use.keyword.strip()} {use.text}` ({use.file}:{use.line})"


def type_rows() -> list[str]:
    from atlas_suite.steplib import types

    rows = []
    for name, func in sorted(types.registered().items()):
        doc = " ".join((func.__doc__ or "").split())
        rows.append(f"| `{{x:{name}}}` | {doc} |")
    return rows


def _entry(step: Step) -> list[str]:
    tags = (["sets the response"] if step.sets_response else []) + (
        [f"deprecated: use `{step.deprecated_for}`"] if step.deprecated_for else [])
    head = f"- **{step.keyword}** `{step.pattern}`" + (f" — *{'; '.join(tags)}*" if tags else "")
    body = [f"  {step.doc or 'Undocumented.'}"]
    body.append(f"  Example: {step.example}" if step.example
                else "  Example: none yet; no feature file uses this step.")
    lines = [head] + body
    return [line + "  " for line in lines[:-1]] + lines[-1:]  # markdown line breaks


def _domain_order(steps: list[Step]) -> list[str]:
    known = [d for d in DOMAINS if any(s.domain == d for s in steps)]
    return known + sorted({s.domain for s in steps} - set(DOMAINS))


def _sorted_for_manual(steps: list[Step]) -> list[Step]:
    """Given, When, Then; each deprecated alias right after the step that replaces it."""
    order = {k: i for i, k in enumerate(KEYWORDS)}
    current = [s for s in steps if not s.deprecated_for]
    aliases = [s for s in steps if s.deprecated_for]
    current.sort(key=lambda s: order.get(s.keyword, 9))
    result = []
    for step in current:
        result.append(step)
        result.extend(a for a in aliases
                      if a.deprecated_for and _replaces(step, a.deprecated_for))
    result.extend(a for a in aliases if a not in result)
    return result


def _replaces(step: Step, replacement: str) -> bool:
    import parse

    text = replacement.split(" ", 1)[1] if replacement.split(" ", 1)[0] in KEYWORDS else replacement
    if _placeholders_blank(text) == _placeholders_blank(step.pattern):
        return True  # the replacement written as a pattern, with or without types
    try:
        return parse.parse(step.pattern, text, extra_types=_type_parsers()) is not None
    except (ValueError, KeyError):
        return False


def _placeholders_blank(pattern: str) -> str:
    return re.sub(r"\{\w*(?::\w*)?\}", "{}", pattern)


def _type_parsers() -> dict[str, Any]:
    from atlas_suite.steplib import types

    return dict(types.registered())


def _title(domain: str) -> str:
    return domain[0].upper() + domain[1:]


def _contents(steps: list[Step]) -> str:
    def anchor(title: str) -> str:
        return re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")

    links = [f"[{_title(d)}](#{anchor(_title(d))}) ({sum(s.domain == d for s in steps)})"
             for d in _domain_order(steps)]
    return "Domains: " + " · ".join(links) + "\n\n"


def render(steps: list[Step]) -> str:
    head, _, table = HEADER.partition("## Typed parameters")
    parts = [head + _contents(steps) + "## Typed parameters" + table
             + "\n".join(type_rows()) + "\n"]
    for domain in _domain_order(steps):
        mine = [s for s in steps if s.domain == domain]
        parts.append(f"\n## {_title(domain)}\n")
        parts.append(f"{len(mine)} steps.\n")
        for step in _sorted_for_manual(mine):
            parts.append("\n".join(_entry(step)))
    return "\n".join(parts).rstrip() + "\n"


def collect() -> tuple[list[Step], list[StepLine]]:
    registry = load_registry()
    steps = registry_steps(registry)
    lines = step_lines(registry)
    attach_examples(steps, lines)
    return steps, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate docs/steps.md")
    parser.add_argument("--check", action="store_true", help="fail when docs/steps.md is stale")
    parser.add_argument("--stdout", action="store_true", help="print instead of writing")
    parser.add_argument("--usage", action="store_true",
                        help="print the steps and every feature step line as JSON")
    parser.add_argument("--catalog", action="store_true",
                        help="print what behave --steps-catalog lists, as JSON")
    args = parser.parse_args(argv)
    if args.catalog:
        json.dump(parse_catalog(catalog_text()), sys.stdout)
        return 0
    steps, lines = collect()
    if args.usage:
        json.dump({"steps": [dataclasses.asdict(s) for s in steps],
                   "lines": [dataclasses.asdict(line) for line in lines]}, sys.stdout)
        return 0
    text = render(steps)
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


def catalog_text() -> str:
    """What ``behave --steps-catalog`` prints (the manual must list the same steps)."""
    import contextlib
    import io
    import tempfile

    from behave.__main__ import run_behave
    from behave.configuration import Configuration

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "catalog.txt"
        args = ["--steps-catalog", "--no-junit", "--no-color", "-o", str(out), str(FEATURES)]
        with contextlib.redirect_stdout(io.StringIO()):
            status = run_behave(Configuration(args, load_config=False))
        if status != 0:
            raise RuntimeError("behave --steps-catalog failed")
        return out.read_text(encoding="utf-8")


def parse_catalog(text: str) -> dict[str, list[tuple[str, str]]]:
    """keyword -> [(step pattern, docstring)] from ``behave --steps-catalog`` output."""
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


if __name__ == "__main__":
    sys.exit(main())
