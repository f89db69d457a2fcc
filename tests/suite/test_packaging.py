"""Packaging and layering: the suite installs and imports without the reference server.

* No import circle in the project's packages.
* The suite (atlas_suite, steps/, environment.py, scripts/) never imports atlas_reference; the
  neutral atlas_models imports neither; the server never imports the suite.
* `pip install .` (the suite) brings no part of the reference server's engine; the `reference`
  extra is the whole server, and the image installs exactly that list.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import grimp
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("atlas_models", "atlas_reference", "atlas_suite")
ENGINE = {"xllamacpp", "starlette", "uvicorn", "prometheus-client"}  # the server's alone
OFFLINE_SIGNS = ("NewConnectionError", "Failed to establish", "Temporary failure in name",
                 "Network is unreachable", "ConnectTimeout", "ProxyError")


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _names(requirements: Iterable[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def import_circles(graph: grimp.ImportGraph) -> list[tuple[str, ...]]:
    """Every circle as module -> ... -> module, each once, starting from its smallest name."""
    circles = set()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back:
                ring = [module, *back[:-1]]
                start = ring.index(min(ring))
                ring = ring[start:] + ring[:start]
                circles.add((*ring, ring[0]))
    return sorted(circles)


def imported_roots(paths: Iterable[Path]) -> dict[str, set[str]]:
    """Top-level module names each file imports (absolute imports; relative ones stay home)."""
    found = {}
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        roots = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = roots
    return found


def _sources(*names: str) -> list[Path]:
    files = []
    for name in names:
        path = ROOT / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def _offenders(paths: Iterable[Path], forbidden: set[str]) -> dict[str, set[str]]:
    return {file: roots & forbidden for file, roots in imported_roots(paths).items()
            if roots & forbidden}


def test_no_import_circle_in_the_project_packages() -> None:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert import_circles(graph) == [], (
        "import circles (typing-only imports count): move what both sides need into a module "
        "of its own that both import")


def test_the_circle_finder_sees_a_circle_through_a_late_import(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "circled"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def run():\n    from circled import b\n")
    (package / "b.py").write_text("from circled.a import run\n")
    (package / "c.py").write_text("import circled.a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("circled", cache_dir=None)
    assert import_circles(graph) == [("circled.a", "circled.b", "circled.a")]


def test_the_suite_never_imports_the_reference_server() -> None:
    suite = _sources("atlas_suite", "steps", "environment.py", "scripts")
    assert _offenders(suite, {"atlas_reference"}) == {}


def test_the_models_package_is_neutral_and_the_server_needs_no_suite() -> None:
    assert _offenders(_sources("atlas_models"), {"atlas_suite", "atlas_reference"}) == {}
    assert _offenders(_sources("atlas_reference"), {"atlas_suite", "steps", "environment"}) == {}
    assert _offenders(_sources(*PACKAGES), {"steps", "environment"}) == {}


def _third_party(paths: Iterable[Path]) -> set[str]:
    own = {*PACKAGES, "steps", "environment", "_common"}
    roots = set().union(*imported_roots(paths).values())
    return {r for r in roots if r not in sys.stdlib_module_names and r not in own}


def _distributions(import_names: Iterable[str]) -> dict[str, set[str]]:
    """Which installed distributions provide each top-level import name."""
    provided = importlib.metadata.packages_distributions()
    return {name: {canonicalize_name(d) for d in provided.get(name, [])} for name in import_names}


def _closure(requirements: Iterable[str]) -> set[str]:
    """The distributions these requirements pull in, read from what is installed here."""
    names: set[str] = set()
    seen: set[tuple[str, str]] = set()  # (distribution, extra) already followed
    todo = [(Requirement(r), "") for r in requirements]
    while todo:
        req, wanted_by = todo.pop()
        if req.marker and not req.marker.evaluate({"extra": wanted_by}):
            continue
        name = canonicalize_name(req.name)
        names.add(name)
        for extra in ("", *req.extras):
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            try:
                requires = importlib.metadata.distribution(name).requires or []
            except importlib.metadata.PackageNotFoundError:
                continue
            todo += [(Requirement(r), extra) for r in requires]
    return names


def _unprovided(import_names: Iterable[str], requirements: list[str]) -> dict[str, set[str]]:
    """Imports no distribution of these requirements provides (one declared for another
    Python, like tomli, counts as provided)."""
    declared, pulled = _names(requirements), _closure(requirements)
    return {name: dists for name, dists in _distributions(import_names).items()
            if not dists & pulled and canonicalize_name(name) not in declared}


def test_the_reference_extra_is_everything_the_server_imports() -> None:
    imports = _third_party(_sources("atlas_reference", "atlas_models"))
    assert _unprovided(imports, _project()["optional-dependencies"]["reference"]) == {}


def test_the_suite_imports_only_what_its_own_install_brings() -> None:
    imports = _third_party(_sources("atlas_suite", "atlas_models", "steps", "environment.py",
                                    "scripts"))
    assert _unprovided(imports, _project()["dependencies"]) == {}


def test_the_suite_alone_excludes_the_reference_engine() -> None:
    project = _project()
    assert _names(project["dependencies"]) & ENGINE == set()
    assert _names(project["optional-dependencies"]["reference"]) >= ENGINE
    assert _closure(project["dependencies"]) & ENGINE == set(), "a suite dependency pulls it in"


def test_the_image_installs_the_reference_extra() -> None:
    text = (ROOT / "docker" / "requirements-server.txt").read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.startswith("#")]
    assert sorted(lines) == sorted(_project()["optional-dependencies"]["reference"])


def test_the_wheel_ships_the_models_package_and_setup_installs_the_server() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    assert "atlas_models*" in setuptools["setuptools"]["packages"]["find"]["include"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-e '.[dev,reference]'" in makefile


def test_pip_installs_no_engine_with_the_suite_alone(tmp_path: Path) -> None:
    """What pip would install for `pip install .`, resolved for real (about ten seconds)."""
    source = tmp_path / "src"
    for name in (*PACKAGES, "pyproject.toml", "README.md"):
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(path, source / name)
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         "--report", str(report), str(source)],
        capture_output=True, text=True, timeout=600)
    if done.returncode != 0 and any(sign in done.stderr for sign in OFFLINE_SIGNS):
        pytest.skip(f"no package index reachable: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr[-2000:]
    installs = {canonicalize_name(item["metadata"]["name"])
                for item in json.loads(report.read_text())["install"]}
    assert {"atlas-acceptance", "behave", "gguf"} <= installs
    assert installs & ENGINE == set()


def test_target_reference_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from atlas_suite import targets

    assert targets.reference_missing() == []  # this environment has the reference extra
    monkeypatch.setattr(importlib.metadata, "requires", lambda name: [
        "behave>=1.2.6", 'xllamacpp-not-here>=1; extra == "reference"', 'pytest; extra == "dev"'])
    assert targets.reference_missing() == ["xllamacpp-not-here"]
    with pytest.raises(ValueError, match=r"xllamacpp-not-here not installed.*\.\[reference\]"):
        targets.TargetSettings.from_userdata({})
    assert targets.TargetSettings.from_userdata({"target": "url",
                                                 "base_url": "http://127.0.0.1:9"}).target == "url"
