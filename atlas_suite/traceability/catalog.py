"""The requirements catalog (``requirements/catalog.toml``): every requirement with an id."""

from __future__ import annotations

import re
import sys
from collections.abc import Container, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CATALOG_PATH = Path("requirements/catalog.toml")
TAG_PREFIX = "req."
ID_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$")
SCOPES = ("atlas", "openai")
NEEDS = {
    "gpu": "an NVIDIA GPU",
    "docker": "a container engine (Docker or podman)",
    "k8s": "a Kubernetes cluster",
    "soak": "a 24-hour soak run (@soak, outside the default run)",
}
_FIELDS = {"id", "area", "text", "source", "mandatory", "scope", "needs", "note"}


class CatalogError(ValueError):
    """The catalog file is not what this module expects."""


@dataclass(frozen=True)
class Requirement:
    id: str
    area: str
    text: str
    source: str
    mandatory: bool = True
    scope: str = "atlas"
    needs: tuple[str, ...] = ()
    note: str = ""

    @property
    def tag(self) -> str:
        return f"@{TAG_PREFIX}{self.id}"

    def needs_text(self) -> str:
        return ", ".join(NEEDS[need] for need in self.needs)


@dataclass(frozen=True)
class Catalog:
    areas: dict[str, str]  # id -> title, in the catalog's order
    requirements: dict[str, Requirement]  # id -> requirement, in the catalog's order

    def in_area(self, area: str) -> list[Requirement]:
        return [r for r in self.requirements.values() if r.area == area]


def load_catalog(path: Path | str = CATALOG_PATH) -> Catalog:
    """Read and validate the catalog; CatalogError names every problem found."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{path}: {exc}") from exc
    return catalog_from_data(data, origin=str(path))


def catalog_from_data(data: Mapping[str, Any], origin: str = "catalog") -> Catalog:
    areas = data.get("areas")
    entries = data.get("requirement")
    if not isinstance(areas, dict) or not areas:
        raise CatalogError(f"{origin}: an [areas] table (id = title) is required")
    if not isinstance(entries, list) or not entries:
        raise CatalogError(f"{origin}: at least one [[requirement]] is required")
    requirements: dict[str, Requirement] = {}
    problems: list[str] = []
    for number, entry in enumerate(entries, 1):
        where = f"{origin}: requirement #{number} ({entry.get('id', 'no id')})"
        problems += _entry_problems(entry, areas, where, requirements)
        if all(entry.get(key) for key in ("id", "area", "text", "source")):
            requirement = _requirement(entry)
            requirements[requirement.id] = requirement
    if problems:
        raise CatalogError("\n".join(problems))
    return Catalog(areas={str(k): str(v) for k, v in areas.items()}, requirements=requirements)


def _needs(entry: Mapping[str, Any]) -> list[str]:
    needs = entry.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def _entry_problems(entry: Mapping[str, Any], areas: Mapping[str, Any], where: str,
                    seen: Container[str]) -> list[str]:
    """What is wrong with one [[requirement]] entry; ``seen``: the ids of the earlier ones."""
    problems = []
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    missing = [key for key in ("id", "area", "text", "source") if not entry.get(key)]
    if missing:
        return problems + [f"{where}: missing {', '.join(missing)}"]
    if not ID_PATTERN.match(str(entry["id"])):
        problems.append(f"{where}: the id must be upper case words joined by '-'")
    if str(entry["id"]) in seen:
        problems.append(f"{where}: the id {entry['id']} is used twice")
    if entry["area"] not in areas:
        problems.append(f"{where}: area {entry['area']!r} is not in [areas]")
    if entry.get("scope", "atlas") not in SCOPES:
        problems.append(f"{where}: scope must be one of {', '.join(SCOPES)}")
    if not isinstance(entry.get("mandatory", True), bool):
        problems.append(f"{where}: mandatory must be true or false")
    problems += [f"{where}: needs {need!r} is not one of {', '.join(NEEDS)}"
                 for need in _needs(entry) if need not in NEEDS]
    return problems


def _requirement(entry: Mapping[str, Any]) -> Requirement:
    return Requirement(
        id=str(entry["id"]), area=str(entry["area"]), text=str(entry["text"]).strip(),
        source=str(entry["source"]), mandatory=bool(entry.get("mandatory", True)),
        scope=str(entry.get("scope", "atlas")), needs=tuple(_needs(entry)),
        note=str(entry.get("note", "")).strip(),
    )
