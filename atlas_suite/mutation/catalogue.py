"""The fault catalogue: TOML files of textual patches to the reference server's source."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FAULTS_DIR = Path("mutation/faults")
SERVER_PACKAGE = "atlas_reference"
# Scenarios that need what a mutation run does not build: left out unless a fault needs them.
ENVIRONMENT_TAGS = {"docker": "@docker", "gpu": "@gpu", "k8s": "@k8s", "soak": "@soak"}


class CatalogueError(ValueError):
    """A fault file is malformed, or a fault no longer applies to the server's source."""


@dataclass(frozen=True)
class Fault:
    """One deliberate bug: replace ``find`` (present exactly once) by ``replace`` in ``file``."""

    id: str
    requirement: str
    what: str
    file: str
    find: str
    replace: str
    tags: str = ""
    needs: tuple[str, ...] = ()
    sample: bool = False
    userdata: tuple[tuple[str, str], ...] = ()  # behave -D settings this fault's run needs
    source: str = ""  # the catalogue file it came from

    @property
    def tag_expression(self) -> str:
        """The behave tag expression of the scenarios that should catch this fault."""
        return self.tags or f"@req.{self.requirement}"

    @property
    def timed(self) -> bool:
        """Whether its scenarios judge timing: they run with no other fault beside them, as
        another fault's servers on the same cores would stretch the figures they compare."""
        return "@timing" in self.tag_expression

    @property
    def excluded_tags(self) -> list[str]:
        """Environment tags the run leaves out (the fault's own ``needs`` stay in)."""
        return [tag for need, tag in ENVIRONMENT_TAGS.items() if need not in self.needs]

    def patch(self, text: str) -> str:
        """The file's text with the fault applied; refuses a find that is missing or repeated."""
        count = text.count(self.find)
        if count != 1:
            where = "does not occur" if count == 0 else f"occurs {count} times"
            raise CatalogueError(f"fault {self.id}: its find text {where} in {self.file}; "
                                 "the server's source changed: update the fault")
        return text.replace(self.find, self.replace)

    def apply(self, server_root: Path) -> Path:
        """Patch the copy of the server under ``server_root``; answers the patched file."""
        target = server_root / self.file
        if not target.is_file():
            raise CatalogueError(f"fault {self.id}: no file {self.file}")
        target.write_text(self.patch(target.read_text(encoding="utf-8")), encoding="utf-8")
        return target


_REQUIRED = ("id", "requirement", "what", "file", "find", "replace")
_OPTIONAL = ("tags", "needs", "sample", "userdata")


def parse_fault(entry: dict[str, object], source: str) -> Fault:
    missing = [key for key in _REQUIRED if not entry.get(key) and key != "replace"]
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    if missing or unknown or "replace" not in entry:
        raise CatalogueError(f"{source}: fault {entry.get('id', '?')}: missing "
                             f"{missing or ['replace']} or unknown {unknown} keys")
    needs = entry.get("needs", [])
    if not isinstance(needs, list) or not set(needs) <= set(ENVIRONMENT_TAGS):
        raise CatalogueError(f"{source}: fault {entry['id']}: needs must be a list of "
                             f"{sorted(ENVIRONMENT_TAGS)}")
    if entry["find"] == entry["replace"]:
        raise CatalogueError(f"{source}: fault {entry['id']}: replace equals find")
    userdata = entry.get("userdata", {})
    if not isinstance(userdata, dict):
        raise CatalogueError(f"{source}: fault {entry['id']}: userdata must be a table")
    file = str(entry["file"])
    if not file.startswith(f"{SERVER_PACKAGE}/"):
        raise CatalogueError(f"{source}: fault {entry['id']}: file must be in {SERVER_PACKAGE}/")
    return Fault(id=str(entry["id"]), requirement=str(entry["requirement"]),
                 what=str(entry["what"]), file=file, find=str(entry["find"]),
                 replace=str(entry["replace"]), tags=str(entry.get("tags", "")),
                 needs=tuple(needs), sample=bool(entry.get("sample", False)),
                 userdata=tuple((str(k), str(v)) for k, v in userdata.items()), source=source)


def load_faults(paths: Iterable[Path]) -> list[Fault]:
    """Every fault of the given files (or of every ``*.toml`` in given folders), ids unique."""
    faults: list[Fault] = []
    for path in paths:
        files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
        for file in files:
            try:
                data = tomllib.loads(file.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise CatalogueError(f"{file.name}: not valid TOML: {exc}") from None
            faults += [parse_fault(entry, file.name) for entry in data.get("fault", [])]
    seen: set[str] = set()
    for fault in faults:
        if fault.id in seen:
            raise CatalogueError(f"fault id {fault.id} is used twice")
        seen.add(fault.id)
    return faults


def check_catalogue(faults: Sequence[Fault], requirement_ids: Iterable[str],
                    mandatory_ids: Iterable[str], project_root: Path) -> list[str]:
    """Problems: unknown requirements, faults that no longer apply, uncovered requirements."""
    known = set(requirement_ids)
    problems = [f"fault {f.id} names unknown requirement {f.requirement}"
                for f in faults if f.requirement not in known]
    for fault in faults:
        try:
            source = (project_root / fault.file).read_text(encoding="utf-8")
            compile(fault.patch(source), fault.file, "exec")
        except (CatalogueError, OSError, SyntaxError) as exc:
            problems.append(str(exc))
    faulted = {f.requirement for f in faults}
    problems += [f"mandatory requirement {rid} has no fault"
                 for rid in sorted(set(mandatory_ids) - faulted)]
    return problems


def copy_server(project_root: Path, dest: Path) -> Path:
    """A pristine copy of the server package under ``dest``; answers ``dest``."""
    shutil.copytree(project_root / SERVER_PACKAGE, dest / SERVER_PACKAGE,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest
