"""Putting evidence where people look: the HTML report, the JUnit output, the console."""

from __future__ import annotations

import contextlib
import sys
from typing import Any


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
