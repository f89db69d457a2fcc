"""The requirements catalog, the traceability report and the compatibility matrix."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from atlas_suite import matrix
from atlas_suite import traceability as trace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalog() -> trace.Catalog:
    return trace.load_catalog(ROOT / trace.CATALOG_PATH)


@pytest.fixture(scope="module")
def records() -> list[trace.ScenarioRecord]:
    return trace.parse_features(ROOT / "features", ROOT)


# ---- the real catalog and feature files ------------------------------------------------------

def test_the_catalog_loads_with_every_area_of_the_founding_document(catalog):
    for area in ("api", "load", "integration", "errors", "performance", "functional",
                 "quality"):
        assert catalog.in_area(area), f"no requirement in area {area}"
    assert "MEM-CORRUPT" in catalog.requirements


def test_every_contract_section_is_a_source(catalog):
    sources = " ".join(r.source for r in catalog.requirements.values())
    for section in range(1, 8):
        assert f"§{section}" in sources, f"contract §{section} has no requirement"


def test_environment_bound_requirements_say_what_they_need(catalog):
    needs = {need for r in catalog.requirements.values() for need in r.needs}
    assert {"gpu", "docker", "k8s", "soak"} <= needs


def test_every_requirement_tag_in_the_features_names_a_catalog_entry(catalog, records):
    problems = [p for p in trace.check(catalog, records) if "mandatory" not in p]
    assert problems == []


def test_atlas_requirements_are_checked_only_by_atlas_scenarios(catalog, records):
    assert trace.scope_problems(catalog, records) == []


# ---- the catalog's own validation ------------------------------------------------------------

def _data(*entries: dict) -> dict:
    return {"areas": {"api": "API", "errors": "Errors"}, "requirement": list(entries)}


def _req(req_id: str, area: str = "api", **extra) -> dict:
    return {"id": req_id, "area": area, "text": f"text of {req_id}", "source": "contract §1",
            **extra}


def test_a_duplicate_id_is_refused():
    with pytest.raises(trace.CatalogError, match="used twice"):
        trace.catalog_from_data(_data(_req("A-ONE"), _req("A-ONE")))


@pytest.mark.parametrize("entry, message", [
    (_req("lower-case"), "upper case"),
    (_req("A-ONE", area="nowhere"), "not in \\[areas\\]"),
    (_req("A-ONE", needs=["moon"]), "needs 'moon'"),
    (_req("A-ONE", scope="galaxy"), "scope"),
    (_req("A-ONE", colour="blue"), "unknown field"),
    ({"id": "A-ONE", "area": "api"}, "missing text, source"),
])
def test_a_bad_entry_is_refused_with_the_reason(entry, message):
    with pytest.raises(trace.CatalogError, match=message):
        trace.catalog_from_data(_data(entry))


# ---- the check -------------------------------------------------------------------------------

def _record(line: int, tags: str, status: str | None = None, reason: str | None = None,
            group: int | None = None, file: str = "features/x.feature") -> trace.ScenarioRecord:
    return trace.ScenarioRecord(file=file, line=line, name=f"scenario {line}",
                                group_line=group or line, group_name=f"group {group or line}",
                                tags=frozenset(tags.split()), status=status, reason=reason)


SMALL = trace.catalog_from_data(_data(
    _req("A-PASS"), _req("A-FAIL"), _req("A-SKIP", needs=["gpu"]), _req("A-NONE"),
    _req("A-MIXED", area="errors"), _req("A-OPTIONAL", area="errors", mandatory=False),
    _req("A-ELSEWHERE", area="errors"),
))


def test_the_check_names_unknown_tags_malformed_tags_and_uncovered_mandatory_requirements():
    problems = trace.check(SMALL, [
        _record(3, "req.A-PASS req.NO-SUCH"),
        _record(9, "REQ-A-FAIL"),
    ])
    text = "\n".join(problems)
    assert "@req.NO-SUCH names no requirement" in text and "features/x.feature:3" in text
    assert "@REQ-A-FAIL looks like a requirement tag" in text
    for uncovered in ("A-FAIL", "A-SKIP", "A-NONE", "A-MIXED", "A-ELSEWHERE"):
        assert f"mandatory requirement {uncovered} has no scenario" in text
    assert "A-OPTIONAL" not in text  # optional: not covered is reported, not a failure
    assert "A-PASS has no" not in text


def test_requirement_tags_are_read_with_or_without_the_at_sign():
    assert trace.requirement_tags(["@req.A-ONE", "req.B-TWO", "smoke", "atlas"]) == \
        ({"A-ONE", "B-TWO"}, set())


# ---- the report on a synthetic run -----------------------------------------------------------

def _synthetic_report() -> trace.Report:
    static = [
        _record(3, "req.A-PASS"),
        _record(5, "req.A-FAIL req.A-MIXED"),
        _record(7, "req.A-SKIP gpu"),
        _record(11, "req.A-MIXED", group=10), _record(12, "req.A-MIXED", group=10),
        _record(20, "req.A-ELSEWHERE", file="features/other.feature"),
    ]
    ran = [
        _record(3, "req.A-PASS", "passed"),
        _record(5, "req.A-FAIL req.A-MIXED", "failed", "Then the status is 200: was 500"),
        _record(7, "req.A-SKIP gpu", "skipped", "no NVIDIA GPU is visible"),
        _record(11, "req.A-MIXED", "passed", group=10),
        _record(12, "req.A-MIXED", "skipped", "the target claims a plain OpenAI server",
                group=10),
    ]
    return trace.build_report(SMALL, trace.merge(static, ran),
                              {"target": "reference", "profile": "atlas"})


def test_the_report_classifies_each_requirement():
    rows = {row.requirement.id: row for row in _synthetic_report().rows}
    assert rows["A-PASS"].status == trace.PASSED
    assert rows["A-FAIL"].status == trace.FAILED
    assert rows["A-MIXED"].status == trace.FAILED  # one failed check outweighs a passed one
    assert rows["A-SKIP"].status == trace.SKIPPED
    assert rows["A-SKIP"].reason == "needs an NVIDIA GPU: no NVIDIA GPU is visible"
    assert rows["A-NONE"].status == trace.NOT_COVERED
    assert rows["A-OPTIONAL"].status == trace.NOT_COVERED
    assert rows["A-ELSEWHERE"].status == trace.SKIPPED  # its file was not part of the run
    assert rows["A-ELSEWHERE"].reason == trace.NOT_IN_RUN


def test_an_outline_is_one_check_with_its_rows_counted_and_skip_reasons_kept():
    rows = {row.requirement.id: row for row in _synthetic_report().rows}
    outline = next(c for c in rows["A-MIXED"].checks if c.line == 10)
    assert outline.status == trace.PASSED
    assert outline.counts == {"passed": 1, "skipped": 1}
    assert outline.reasons == ["the target claims a plain OpenAI server"]
    assert "1 passed, 1 skipped" in outline.describe()


def test_passed_with_skipped_rows_is_still_passed_but_all_skipped_is_never_passed():
    report = trace.build_report(SMALL, [
        _record(1, "req.A-PASS", "passed"), _record(2, "req.A-PASS", "skipped", "why"),
        _record(3, "req.A-SKIP", "skipped", "no GPU"), _record(4, "req.A-SKIP", "skipped", "x"),
    ])
    rows = {row.requirement.id: row for row in report.rows}
    assert rows["A-PASS"].status == trace.PASSED
    assert rows["A-SKIP"].status == trace.SKIPPED
    assert rows["A-SKIP"].reason == "needs an NVIDIA GPU: no GPU; x"


def test_the_summary_counts_per_area():
    report = _synthetic_report()
    summary = report.summary()
    assert summary["api"] == {"passed": 1, "failed": 1, "skipped": 1, "not covered": 1}
    assert summary["errors"] == {"failed": 1, "not covered": 1, "skipped": 1}
    lines = report.summary_lines()
    assert lines[0].split() == ["api", "4", "requirements:", "1", "passed,", "1", "failed,",
                                "1", "skipped,", "1", "not", "covered"]
    assert lines[-1].split()[:2] == ["all", "7"]


def test_the_reports_render_every_requirement_with_its_result(tmp_path):
    report = _synthetic_report()
    written = trace.write_reports(report, tmp_path)
    assert sorted(p.name for p in written) == ["traceability.html", "traceability.json",
                                               "traceability.md"]
    md = (tmp_path / "traceability.md").read_text()
    page = (tmp_path / "traceability.html").read_text()
    assert "| A-FAIL | ❌ failed |" in md
    assert "⚠️ not covered: no scenario names it" in md
    assert "needs an NVIDIA GPU" in md
    assert "`features/x.feature:10` group 10: 1 passed, 1 skipped" in md
    assert "id='req-A-SKIP'" in page and "class='failed'" in page
    assert "was 500" in page


# ---- a real behave run against a tiny project ------------------------------------------------

TINY_ENV = """
from atlas_suite import traceability

def before_all(context):
    traceability.start(context)

def after_all(context):
    traceability.finish(context)
"""

TINY_STEPS = """
from behave import step

@step("nothing happens")
def nothing(context):
    pass
"""


def _tiny_project(tmp_path: Path, tags: str) -> Path:
    (tmp_path / "features").mkdir()
    (tmp_path / "steps").mkdir()
    (tmp_path / "requirements").mkdir()
    (tmp_path / "environment.py").write_text(TINY_ENV)
    (tmp_path / "steps" / "steps.py").write_text(TINY_STEPS)
    (tmp_path / "requirements" / "catalog.toml").write_text(textwrap.dedent("""
        [areas]
        api = "API"
        [[requirement]]
        id = "A-ONE"
        area = "api"
        text = "one"
        source = "contract §1"
    """))
    (tmp_path / "features" / "x.feature").write_text(textwrap.dedent(f"""
        Feature: x
          {tags}
          Scenario: y
            Given nothing happens
    """))
    return tmp_path


def _behave(project: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    import os
    return subprocess.run(
        [sys.executable, "-m", "behave", "-f", "plain", "--no-capture"], cwd=project,
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def test_a_behave_run_fails_at_once_on_a_tag_that_names_no_requirement(tmp_path):
    done = _behave(_tiny_project(tmp_path, "@req.A-ONE @req.A-TYPO"))
    assert done.returncode != 0
    assert "@req.A-TYPO names no requirement of the catalog (features/x.feature:4)" in \
        done.stdout
    assert "0 scenarios passed" in done.stdout
    assert (tmp_path / "reports" / "traceability.html").is_file()


def test_a_behave_run_fails_on_an_uncovered_mandatory_requirement_unless_told_to_warn(tmp_path):
    project = _tiny_project(tmp_path, "@smoke")
    strict = _behave(project)
    assert strict.returncode != 0
    assert "mandatory requirement A-ONE has no scenario" in strict.stdout
    warned = _behave(project, {trace.CHECK_ENV: "warn"})
    assert warned.returncode == 0, warned.stdout + warned.stderr
    assert "1 scenario passed" in warned.stdout


def test_a_clean_behave_run_prints_the_coverage_summary_and_writes_the_reports(tmp_path):
    done = _behave(_tiny_project(tmp_path, "@req.A-ONE"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Requirements coverage" in done.stdout
    assert "1 requirements: 1 passed, 0 failed, 0 skipped, 0 not covered" in done.stdout
    md = (tmp_path / "reports" / "traceability.md").read_text()
    assert "| A-ONE | ✅ passed |" in md


# ---- the matrix ------------------------------------------------------------------------------

def _run(name: str, profile: str, statuses: dict[str, str]) -> matrix.TargetRun:
    catalog = trace.catalog_from_data(_data(
        _req("P-ANY", scope="openai"), _req("P-ATLAS"), _req("P-GPU", needs=["gpu"]),
    ))
    records = [_record(n, f"req.{rid}", status, "why" if status == "skipped" else None)
               for n, (rid, status) in enumerate(statuses.items(), 1)]
    data = trace.build_report(catalog, records, {"target": "reference"}).to_json()
    target = matrix.Target(name=name, profile=profile)
    return matrix.TargetRun(target, Path(name), returncode=0, data=data)


MATRIX_CATALOG = trace.catalog_from_data(_data(
    _req("P-ANY", scope="openai"), _req("P-ATLAS"), _req("P-GPU", needs=["gpu"]),
))


def test_the_matrix_table_renders_from_synthetic_results():
    runs = [
        _run("full", "atlas", {"P-ANY": "passed", "P-ATLAS": "passed", "P-GPU": "skipped"}),
        _run("plain", "openai", {"P-ANY": "failed", "P-ATLAS": "skipped", "P-GPU": "skipped"}),
        matrix.TargetRun(matrix.Target(name="broken", kind="image", image="x"), Path("broken"),
                         error="no container engine"),
    ]
    built = matrix.build_matrix(MATRIX_CATALOG, runs, source="targets.toml")
    md = matrix.render_markdown(built, MATRIX_CATALOG)
    assert "| **P-ANY** text of P-ANY | any | [pass](full/traceability.html#req-P-ANY) | " \
           "[fail](plain/traceability.html#req-P-ANY) | — |" in md
    assert "| **P-ATLAS** text of P-ATLAS | ATLAS | [pass]" in md
    assert "no results: no container engine" in md
    found = matrix.findings(built, MATRIX_CATALOG)
    assert found[0].endswith("passes everything it claims")
    assert "skips exactly the 2 covered ATLAS rows" in found[1] and "fails 1: P-ANY" in found[1]
    page = matrix.render_html(built, MATRIX_CATALOG)
    assert "href='plain/traceability.html#req-P-ATLAS'>skip</a>" in page
    assert built.column_counts(0) == {"passed": 2, "skipped": 1}


def test_a_plain_target_that_runs_an_atlas_row_is_a_finding():
    runs = [_run("odd", "openai", {"P-ANY": "passed", "P-ATLAS": "passed"})]
    built = matrix.build_matrix(MATRIX_CATALOG, runs)
    assert "ATLAS rows not skipped: P-ATLAS" in matrix.findings(built, MATRIX_CATALOG)[0]


def test_scenario_rows_group_outline_rows():
    runs = [_run("full", "atlas", {"P-ANY": "passed", "P-ATLAS": "skipped"})]
    built = matrix.build_matrix(MATRIX_CATALOG, runs, rows="scenarios")
    assert [row.key for row in built.rows] == ["features/x.feature:1", "features/x.feature:2"]
    assert [row.cells[0].label for row in built.rows] == ["pass", "skip"]


def test_the_example_targets_file_has_the_four_targets():
    targets = matrix.load_targets(ROOT / "targets.example.toml")
    assert [(t.name, t.kind, t.profile) for t in targets] == [
        ("reference-atlas", "reference", "atlas"),
        ("reference-plain", "reference", "openai"),
        ("upstream-llama-server", "command", "openai"),
        ("upstream-llama-server-2025-08", "command", "openai"),
    ]
    assert "build-upstream-llama-server.sh --version 0.3.36" in (targets[2].build or "")
    assert "build-upstream-llama-server.sh --version 0.3.16" in (targets[3].build or "")


@pytest.mark.parametrize("entry, message", [
    ({"name": "a b"}, "name must match"),
    ({"name": "x", "target": "ftp"}, "target must be one of"),
    ({"name": "x", "target": "url"}, "needs base_url"),
    ({"name": "x", "target": "command", "command": "srv", "build": "make"}, "no {build}"),
    ({"name": "x", "profile": "gpu"}, "profile must be"),
])
def test_a_bad_target_is_refused_with_the_reason(entry, message):
    with pytest.raises(ValueError, match=message):
        matrix.targets_from_data({"target": [entry]})


def test_the_behave_command_line_keeps_each_target_in_its_own_folder(tmp_path):
    target = matrix.Target(name="t", kind="command", profile="openai", command="srv {port}",
                           userdata={"startup_timeout": "60"})
    argv = matrix.behave_argv(target, tmp_path, target.base_userdata(), python="py",
                              extra_args=["--tags", "@smoke"])
    assert argv[:3] == ["py", "-m", "behave"]
    for pair in ("target=command", "profile=openai", "command=srv {port}",
                 "startup_timeout=60", f"trace_dir={tmp_path}", f"log_dir={tmp_path / 'logs'}"):
        assert pair in argv
    assert argv[argv.index("--junit-directory") + 1] == str(tmp_path / "junit")
    assert argv[-2:] == ["--tags", "@smoke"]
