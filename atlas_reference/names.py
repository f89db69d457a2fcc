"""Memory file names: the only names that may touch the memory folder."""

from __future__ import annotations

import re

MEMORY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SUFFIX = ".atlas"


def validate_memory_filename(name: object) -> str | None:
    """Return why ``name`` is not an acceptable memory file name, or None when it is."""
    if not isinstance(name, str):
        return "must be a string"
    if not name:
        return "must not be empty"
    if "/" in name or "\\" in name or ".." in name:
        return "must be a plain file name inside the memory folder (no path)"
    if not MEMORY_NAME.match(name):
        return "must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
    if not name.endswith(SUFFIX) or name == SUFFIX:
        return f"must end in {SUFFIX}"
    return None
