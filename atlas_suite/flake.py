"""Verdicts of repeated runs: which scenarios changed their verdict (scripts/atlas-flake-check.py).

A scenario is named by its feature file and name (an outline's rows are distinct scenarios;
the line is left out, so that an edited description does not rename every scenario below it).
Its verdict in one run is behave's status: passed, failed, skipped, ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


def tag_filter(expression: str) -> Callable[[Iterable[str]], bool]:
    """Whether a scenario's tags (with or without "@") select it by a behave tag expression."""
    from behave.tag_expression import make_tag_expression

    parsed = make_tag_expression(expression)
    return lambda tags: bool(parsed.check([t.lstrip("@") for t in tags]))


def verdicts_from_behave_json(report: list[dict[str, Any]],
                              selected: Callable[[Iterable[str]], bool] | None = None
                              ) -> dict[str, str]:
    """``{"file  name": status}`` for every scenario of behave's JSON formatter output
    (only those whose own and feature tags satisfy ``selected``, when given: behave lists the
    scenarios its --tags left out as skipped)."""
    verdicts: dict[str, str] = {}
    for feature in report:
        for element in feature.get("elements") or []:
            if element.get("type") not in ("scenario", "scenario_outline"):
                continue
            tags = [*(feature.get("tags") or []), *(element.get("tags") or [])]
            if selected is not None and not selected(tags):
                continue
            where = str(element.get("location", "?")).rsplit(":", 1)[0]  # lines move with edits
            key = f"{where}  {element.get('name', '?')}"
            verdicts[key] = str(element.get("status", "untested"))
    return verdicts


@dataclass
class FlakeTable:
    """Each run's verdicts, in order."""

    runs: list[dict[str, str]] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def add_run(self, verdicts: dict[str, str], seconds: float = 0.0) -> None:
        self.runs.append(dict(verdicts))
        self.seconds.append(seconds)

    def scenarios(self) -> list[str]:
        names: dict[str, None] = {}
        for run in self.runs:
            names.update(dict.fromkeys(run))
        return list(names)

    def row(self, scenario: str) -> list[str]:
        return [run.get(scenario, "absent") for run in self.runs]

    def changed(self) -> list[str]:
        """Scenarios whose verdict was not the same in every run (skips count as verdicts)."""
        return [s for s in self.scenarios() if len(set(self.row(s))) > 1]

    def always_failed(self) -> list[str]:
        return [s for s in self.scenarios()
                if set(self.row(s)) <= {"failed", "error", "hook_error"}]

    def run_summary(self, index: int) -> str:
        counts: dict[str, int] = {}
        for status in self.runs[index].values():
            counts[status] = counts.get(status, 0) + 1
        return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))

    def render(self) -> str:
        """A Markdown table: the changed scenarios first, then every scenario's verdicts."""
        head = "| scenario | " + " | ".join(f"run {i + 1}" for i in range(len(self.runs))) + " |"
        rule = "|---|" + "---|" * len(self.runs)
        changed = self.changed()
        lines = [f"{len(self.runs)} runs of {len(self.scenarios())} scenarios; "
                 f"verdict changed: {len(changed)}; failed every run: "
                 f"{len(self.always_failed())}",
                 "run times: " + ", ".join(f"{s:.0f} s" for s in self.seconds), ""]
        if changed:
            lines += ["Verdict changed between runs:", "", head, rule]
            lines += [f"| {s} | " + " | ".join(self.row(s)) + " |" for s in changed]
            lines.append("")
        lines += ["Every scenario:", "", head, rule]
        lines += [f"| {s} | " + " | ".join(self.row(s)) + " |" for s in self.scenarios()]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"runs": len(self.runs), "seconds": self.seconds, "changed": self.changed(),
                "failed_every_run": self.always_failed(),
                "verdicts": {s: self.row(s) for s in self.scenarios()}}
