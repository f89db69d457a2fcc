"""What the step catalogue (docs/steps.md) says about a step beyond its docstring.

Two marks, set on the step function under its behave decorator:

    @when('the memory is saved as "{name}"')
    @sets_response
    def step_save(context, name): ...

    @then('the load is refused with 400 and a message containing "{text}"')
    @deprecated('the load is refused as corruption')
    def step_old_refusal(context, text): ...

``sets_response``: the step's answer becomes "the response" that later generic steps
(``the JSON at ...``, ``the response status is ...``) read. ``deprecated``: an old wording kept
so that existing feature files run unchanged; the catalogue lists it under its replacement.
A step module names its domain in ``DOMAIN`` (server, completions, memory, memory files,
faults, security, clients, containers, load, generic HTTP/JSON); the catalogue groups by it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

DOMAINS = ("server", "completions", "memory", "memory files", "faults", "security", "clients",
           "containers", "load", "generic HTTP/JSON")


def sets_response(func: F) -> F:
    """Mark a step whose answer becomes the scenario's "response"."""
    func.sets_response = True  # type: ignore[attr-defined]
    return func


def deprecated(replacement: str) -> Callable[[F], F]:
    """Mark a step wording as a deprecated alias of ``replacement`` (the step to use now)."""

    def mark(func: F) -> F:
        func.deprecated_for = replacement  # type: ignore[attr-defined]
        return func

    return mark


def marks(func: Callable[..., Any]) -> dict[str, Any]:
    """The catalogue marks of a step function."""
    return {"sets_response": bool(getattr(func, "sets_response", False)),
            "deprecated_for": getattr(func, "deprecated_for", None)}
