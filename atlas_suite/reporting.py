"""Putting evidence where people look: the HTML report, the JUnit output, the console."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from behave.model_core import Status
from behave_html_pretty_formatter import PrettyHTMLFormatter
from dominate.tags import a, div, h3, li, p, pre, table, tbody, td, th, thead, tr, ul


def attach_text(context: Any, caption: str, text: str) -> None:
    """Attach text to the current scenario in every report that takes attachments."""
    runner = getattr(context, "_runner", None)
    for formatter in getattr(runner, "formatters", []):
        embed = getattr(formatter, "embed", None)
        if callable(embed):  # behave-html-pretty-formatter
            embed("text", text, caption)
        elif hasattr(formatter, "embedding"):  # behave's JSON formatter
            # it attaches to the current step: in an after_scenario hook there is none left
            # (IndexError); the text still reaches stderr below
            with contextlib.suppress(IndexError):
                formatter.embedding("text/plain", text.encode("utf-8"))
    # stderr is captured per scenario: JUnit and the console show it for failures
    print(f"--- {caption} ---\n{text}\n--- end of {caption} ---", file=sys.stderr)


# -- the HTML report ---------------------------------------------------------------------------
# behave-html-pretty-formatter writes the page; this subclass only chooses what it shows: a title
# naming the product and the target, a summary by area and the failures (in the server's words)
# at the top, failing features first, and no scenario the run's tags did not select.
PRODUCT = "ATLAS acceptance"
FAILED = (Status.failed, Status.error, Status.hook_error)
REPORT_CSS = """<style>
.atlas-summary { margin: 0.5em 1em 1em; }
.atlas-summary table { border-collapse: collapse; margin-bottom: 0.6em; }
.atlas-summary th, .atlas-summary td { border: 1px solid #bbb; padding: 2px 10px; }
.atlas-summary td { text-align: right; }
.atlas-summary th:first-child, .atlas-summary td:first-child { text-align: left; }
.atlas-summary .failure pre { white-space: pre-wrap; margin: 0.2em 0 0.8em; }
</style>"""
WORDS_LINES = 20  # of a failure's message: the verdict, not the traceback under it


def report_title(userdata: Any) -> str:
    """"ATLAS acceptance — reference server", or the target's url or command."""
    target = str(userdata.get("target", "reference") or "reference")
    if target == "url":
        where = str(userdata.get("base_url", "") or "a running server")
    elif target == "command":
        command = str(userdata.get("command", "") or "").split()
        where = f"the server started by {command[0]}" if command else "a server command"
    else:
        where = "reference server"
    plain = str(userdata.get("profile", "atlas")) == "openai"
    return f"{PRODUCT} — {where}" + (" (plain OpenAI profile)" if plain else "")


def area_of(location: Any) -> str:
    """The area of a scenario: its folder under features/ ("memory", "contract", ...)."""
    parts = str(getattr(location, "filename", location) or "").replace("\\", "/").split("/")
    if "features" in parts[:-1]:
        rest = parts[parts.index("features") + 1:-1]
        if rest:
            return rest[0]
    return "other"


def failure_words(scenario: Any) -> str:
    """What the failing step (or hook) said, without the traceback under it."""
    steps = list(getattr(scenario, "all_steps", []) or [])
    message = next((str(s.error_message) for s in steps
                    if s.status in FAILED and s.error_message), None)
    message = message or str(getattr(scenario, "error_message", "") or "failed")
    lines = message.split("\nTraceback", 1)[0].strip().splitlines()
    return "\n".join(lines[:WORDS_LINES]) + ("\n..." if len(lines) > WORDS_LINES else "")


class AtlasHTMLFormatter(PrettyHTMLFormatter):  # type: ignore[misc]
    """The HTML report product owners read (``-f html-pretty``)."""

    def __init__(self, stream: Any, config: Any, *args: Any) -> None:
        super().__init__(stream, config, *args)
        options = f"behave.formatter.{self.name}."
        if f"{options}title_string" not in config.userdata:
            self.title_string = report_title(config.userdata)
        if f"{options}global_summary" not in config.userdata:
            self.global_summary = True  # the title bar, even for a run of one feature
        self.left_out = 0
        self.add_html_head_element(REPORT_CSS)

    def _selected(self, scenario: Any) -> bool:
        behave_scenario = getattr(scenario, "_scenario", None)
        if not hasattr(behave_scenario, "should_run_with_tags"):
            return True  # the formatter's stand-in for a failed hook: always shown
        return bool(behave_scenario.should_run_with_tags(self.config.tag_expression)
                    and behave_scenario.should_run_with_name_select(self.config))

    def _keep_selected(self) -> None:
        for feature in self.features:
            kept = [s for s in feature.scenarios if self._selected(s)]
            self.left_out += len(feature.scenarios) - len(kept)
            feature.scenarios = kept
        self.features = [f for f in self.features if f.scenarios]
        self.features.sort(key=lambda f: f.status != Status.failed)  # stable: failures first

    def close(self) -> None:
        if not self._closed:
            self._keep_selected()
        super().close()

    def _generate_global_summary(self) -> bool:
        shown = bool(super()._generate_global_summary())
        scenarios = [s for f in self.features for s in f.scenarios]
        with div(cls="atlas-summary"):
            self._area_table(scenarios)
            if self.left_out:
                p(f"{self.left_out} scenarios not selected by this run's tags"
                  f"{self._tags_note()} are left out of this report.")
            self._failures([s for s in scenarios if s.status in FAILED])
        return shown

    def _tags_note(self) -> str:
        tags = [str(t) for t in (getattr(self.config, "tags", None) or []) if str(t).strip()]
        return f" ({' and '.join(tags)})" if tags else ""

    @staticmethod
    def _area_table(scenarios: list[Any]) -> None:
        counts: dict[str, dict[str, int]] = {}
        for scenario in scenarios:
            row = counts.setdefault(area_of(scenario.location),
                                    {"passed": 0, "failed": 0, "skipped": 0})
            kind = ("failed" if scenario.status in FAILED
                    else "passed" if scenario.status == Status.passed else "skipped")
            row[kind] += 1
        h3("Summary by area")
        with table():
            thead(tr(th("area"), th("scenarios"), th("passed"), th("failed"), th("skipped")))
            with tbody():
                for area, row in sorted(counts.items()):
                    tr(td(area), td(sum(row.values())), td(row["passed"]), td(row["failed"]),
                       td(row["skipped"]))

    @staticmethod
    def _failures(failed: list[Any]) -> None:
        if not failed:
            return
        h3(f"Failures ({len(failed)})")
        with ul():
            for scenario in failed:
                with li(cls="failure"):
                    a(scenario.name, href=f"#f{scenario.feature.counter}-s{scenario.counter}")
                    p(str(scenario.location), style="margin:0")
                    pre(failure_words(scenario._scenario))
