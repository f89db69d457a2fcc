"""The mutation harness: catalogue checks, verdicts from behave's JSON, the stored report."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_suite.mutation import report
from atlas_suite.mutation.catalogue import (
    FAULTS_DIR,
    CatalogueError,
    Fault,
    check_catalogue,
    copy_server,
    load_faults,
    parse_fault,
)
from atlas_suite.mutation.runner import KILLED, NOT_RUN, SURVIVED, judge, scenario_results
from atlas_suite.traceability import load_catalog

ROOT = Path(__file__).resolve().parents[2]


def _fault(**changes: object) -> Fault:
    entry = {"id": "f", "requirement": "MEM-CORRUPT", "what": "w",
             "file": "atlas_reference/x.py", "find": "a = 1\n", "replace": "a = 2\n"}
    entry.update(changes)
    return parse_fault(entry, "test.toml")


def test_a_fault_replaces_its_text_once() -> None:
    assert _fault().patch("b = 0\na = 1\n") == "b = 0\na = 2\n"


@pytest.mark.parametrize("text", ["b = 0\n", "a = 1\na = 1\n"])
def test_a_fault_whose_text_is_missing_or_repeated_is_refused(text: str) -> None:
    with pytest.raises(CatalogueError, match="does not occur|occurs 2 times"):
        _fault().patch(text)


@pytest.mark.parametrize("changes", [{"what": ""}, {"file": "steps/x.py"}, {"needs": ["tpu"]},
                                     {"replace": "a = 1\n"}, {"colour": "red"}])
def test_malformed_faults_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(CatalogueError):
        _fault(**changes)


def test_a_fault_runs_its_requirement_and_leaves_out_what_it_does_not_need() -> None:
    fault = _fault(needs=["soak"])
    assert fault.tag_expression == "@req.MEM-CORRUPT"
    assert "@soak" not in fault.excluded_tags and "@docker" in fault.excluded_tags


def test_the_project_catalogue_applies_and_faults_every_mandatory_requirement() -> None:
    """Every fault still finds its text in the server and compiles; no requirement lacks one."""
    catalog = load_catalog(ROOT / "requirements/catalog.toml")
    faults = load_faults([ROOT / FAULTS_DIR])
    mandatory = [r.id for r in catalog.requirements.values() if r.mandatory]
    assert check_catalogue(faults, list(catalog.requirements), mandatory, ROOT) == []
    assert any(f.sample for f in faults), "make test runs the faults marked sample = true"


def test_a_fault_is_applied_to_a_copy_never_to_the_project(tmp_path: Path) -> None:
    fault = load_faults([ROOT / FAULTS_DIR])[0]
    original = (ROOT / fault.file).read_text(encoding="utf-8")
    patched = fault.apply(copy_server(ROOT, tmp_path))
    assert patched.read_text(encoding="utf-8") != original
    assert (ROOT / fault.file).read_text(encoding="utf-8") == original


def _behave_json(*scenarios: tuple[str, str, str]) -> list[dict]:
    elements = []
    for location, status, message in scenarios:
        steps = [{"result": {"status": status, "error_message": [message]}}] if message else []
        elements.append({"type": "scenario", "location": location, "name": location,
                         "status": status, "steps": steps})
    return [{"elements": [{"type": "background"}, *elements]}]


def test_a_failing_scenario_kills_the_fault_and_is_named() -> None:
    results = scenario_results(_behave_json(("a:1", "passed", ""),
                                            ("b:2", "failed", "expected 400, got 200")))
    outcome = judge("f", "R", results, 1.0)
    assert outcome.verdict == KILLED and outcome.caught_by == "b:2 b:2: expected 400, got 200"


def test_passing_scenarios_mean_the_fault_survived() -> None:
    outcome = judge("f", "R", scenario_results(_behave_json(("a:1", "passed", ""))), 1.0)
    assert outcome.verdict == SURVIVED and outcome.scenarios == 1


def test_a_scenario_that_fails_on_the_unmutated_server_proves_nothing() -> None:
    results = scenario_results(_behave_json(("a:1", "failed", "flaky")))
    assert judge("f", "R", results, 1.0, baseline_failures={"a:1"}).verdict == SURVIVED


def test_no_scenario_run_is_not_a_kill() -> None:
    results = scenario_results(_behave_json(("a:1", "skipped", "")))
    assert judge("f", "R", results, 1.0).verdict == NOT_RUN


def test_the_report_is_read_back_by_requirement(tmp_path: Path) -> None:
    faults = [_fault(id="f1"), _fault(id="f2"), _fault(id="f3", requirement="MEM-MISSING")]
    outcomes = [judge("f1", "MEM-CORRUPT", scenario_results(_behave_json(
                    ("a:1", "failed", "x"))), 2.0),
                judge("f2", "MEM-CORRUPT", scenario_results(_behave_json(
                    ("a:1", "passed", ""))), 2.0),
                judge("f3", "MEM-MISSING", scenario_results(_behave_json(
                    ("b:1", "error", "y"))), 2.0)]
    path = tmp_path / "mutation.json"
    report.write(path, faults, outcomes, {"selection": "all"})
    run, by_requirement = report.read_last_run(path)
    assert run["selection"] == "all"
    assert by_requirement["MEM-MISSING"].describe() == "1/1 faults killed"
    corrupt = by_requirement["MEM-CORRUPT"]
    assert not corrupt.all_killed and corrupt.describe() == "1/2 faults killed (f2 survived)"
    assert "| `f2`: w | MEM-CORRUPT | **survived** |" in path.with_suffix(".md").read_text()


def test_the_traceability_report_shows_each_requirements_faults(tmp_path: Path) -> None:
    from atlas_suite.traceability import build_report, render_html, render_markdown

    catalog = load_catalog(ROOT / "requirements/catalog.toml")
    outcomes = [judge("f1", "MEM-CORRUPT", scenario_results(_behave_json(
                    ("a:1", "passed", ""))), 1.0),
                judge("f2", "MEM-MISSING", scenario_results(_behave_json(
                    ("b:1", "failed", "x"))), 1.0)]
    path = tmp_path / "mutation.json"
    report.write(path, [_fault(id="f1"), _fault(id="f2")], outcomes, {"selection": "all"})
    built = build_report(catalog, [], {}, (), report.read_last_run(path)[1])
    markdown = render_markdown(built)
    assert "| 0/1 faults killed (f1 survived): a gap in the suite |" in markdown
    assert "| 1/1 faults killed |" in markdown
    assert "| not in the last mutation run |" in markdown
    assert "<td class='failed'>0/1 faults killed (f1 survived): a gap" in render_html(built)


def test_a_fault_file_that_is_not_toml_is_named(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('[[fault]]\nid = "a"\nid = "b"\n')
    with pytest.raises(CatalogueError, match="bad.toml: not valid TOML"):
        load_faults([tmp_path])


def test_runs_of_parts_of_the_catalogue_merge_with_the_later_verdict_winning(
        tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    survived = judge("f1", "R", scenario_results(_behave_json(("a:1", "passed", ""))), 1.0)
    killed = judge("f1", "R", scenario_results(_behave_json(("a:2", "failed", "x"))), 1.0)
    other = judge("f2", "S", scenario_results(_behave_json(("b:1", "failed", "y"))), 1.0)
    report.write(first, {"f1": "one", "f2": "two"}, [survived, other], {})
    report.write(second, {"f1": "one"}, [killed], {})
    outcomes, whats = report.merge_runs([first, second])
    assert [(o.fault_id, o.verdict) for o in outcomes] == [("f1", KILLED), ("f2", KILLED)]
    assert whats == {"f1": "one", "f2": "two"}
