"""The matrix's targets file (TOML, see ``targets.example.toml``): the servers to test."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_suite.traceability.catalog import tomllib

KINDS = ("reference", "command", "url", "image")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_FIELDS = {"name", "target", "profile", "description", "command", "base_url", "api_key",
           "memory_dir", "image", "args", "build", "userdata", "behave_args", "timeout_s",
           "startup_timeout_s"}


@dataclass(frozen=True)
class Target:
    name: str
    kind: str = "reference"
    profile: str = "atlas"
    description: str = ""
    command: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    memory_dir: str | None = None
    image: str | None = None
    args: tuple[str, ...] | None = None  # image: the server's arguments
    build: str | None = None
    userdata: dict[str, str] = field(default_factory=dict)
    behave_args: tuple[str, ...] = ()
    timeout_s: float | None = None
    startup_timeout_s: float = 180.0

    def base_userdata(self) -> dict[str, str]:
        data = {"target": self.kind, "profile": self.profile}
        for key in ("command", "base_url", "api_key", "memory_dir"):
            value = getattr(self, key)
            if value:
                data[key] = value
        return data


def load_targets(path: Path | str) -> list[Target]:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    return targets_from_data(data, origin=str(path))


def targets_from_data(data: Mapping[str, Any], origin: str = "targets") -> list[Target]:
    """Every target of the file; ValueError names every problem found."""
    entries = data.get("target")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{origin}: at least one [[target]] is required")
    targets, problems, names = [], [], set()
    for number, entry in enumerate(entries, 1):
        name = str(entry.get("name", ""))
        problems += _entry_problems(entry, f"{origin}: target #{number} ({name or 'no name'})",
                                    names)
        names.add(name)
        targets.append(_target(entry))
    if problems:
        raise ValueError("\n".join(problems))
    return targets


def _entry_problems(entry: Mapping[str, Any], where: str, names: set[str]) -> list[str]:
    """What is wrong with one [[target]]; ``names``: the names of the earlier ones."""
    problems = []
    name = str(entry.get("name", ""))
    kind = str(entry.get("target", "reference"))
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    if not NAME_PATTERN.match(name):
        problems.append(f"{where}: name must match {NAME_PATTERN.pattern}")
    elif name in names:
        problems.append(f"{where}: the name {name} is used twice")
    if kind not in KINDS:
        problems.append(f"{where}: target must be one of {', '.join(KINDS)}")
    if str(entry.get("profile", "atlas")) not in ("atlas", "openai"):
        problems.append(f"{where}: profile must be atlas or openai")
    required = {"command": "command", "url": "base_url", "image": "image"}.get(kind)
    if required and not entry.get(required):
        problems.append(f"{where}: target={kind} needs {required}")
    if entry.get("build") and "{build}" not in str(entry.get("command", "")):
        problems.append(f"{where}: build is set but command has no {{build}}")
    return problems


def _target(entry: Mapping[str, Any]) -> Target:
    args = entry.get("args")
    return Target(
        name=str(entry.get("name", "")), kind=str(entry.get("target", "reference")),
        profile=str(entry.get("profile", "atlas")),
        description=str(entry.get("description", "")),
        command=entry.get("command"), base_url=entry.get("base_url"),
        api_key=entry.get("api_key"), memory_dir=entry.get("memory_dir"),
        image=entry.get("image"), args=tuple(str(a) for a in args) if args else None,
        build=entry.get("build"),
        userdata={str(k): str(v) for k, v in (entry.get("userdata") or {}).items()},
        behave_args=tuple(str(a) for a in entry.get("behave_args", [])),
        timeout_s=float(entry["timeout_s"]) if entry.get("timeout_s") else None,
        startup_timeout_s=float(entry.get("startup_timeout_s", 180)),
    )
