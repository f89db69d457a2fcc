"""The matrix tells "not claimed by the profile" apart from "skipped here" and from "failed"."""

from __future__ import annotations

from pathlib import Path

from atlas_suite import matrix
from atlas_suite import traceability as trace

CATALOG = trace.catalog_from_data({
    "areas": {"api": "API"},
    "requirement": [
        {"id": "P-ANY", "area": "api", "text": "any server", "source": "s", "scope": "openai"},
        {"id": "P-ATLAS", "area": "api", "text": "atlas only", "source": "s"},
        {"id": "P-GPU", "area": "api", "text": "on a GPU", "source": "s", "needs": ["gpu"]},
        {"id": "P-FLAG", "area": "api", "text": "a flag", "source": "s", "scope": "openai"},
    ],
})
NOT_CLAIMED = trace.not_claimed_reason("openai", "a plain OpenAI server, without ATLAS")


def _record(line: int, req: str, status: str, reason: str | None = None) -> trace.ScenarioRecord:
    return trace.ScenarioRecord(file="features/x.feature", line=line, name=f"s{line}",
                                group_line=line, group_name=f"s{line}",
                                tags=frozenset({f"req.{req}"}), status=status, reason=reason)


def _plain_run() -> matrix.TargetRun:
    records = [
        _record(1, "P-ANY", "failed", "Given a fresh server: the server did not start with "
                                      "`--rate-limit 3`"),
        _record(2, "P-ATLAS", "skipped", NOT_CLAIMED),
        _record(3, "P-GPU", "skipped", "no NVIDIA GPU: NVML is not available"),
        _record(4, "P-FLAG", "passed"),
    ]
    data = trace.build_report(CATALOG, records, {"target": "command"}).to_json()
    return matrix.TargetRun(matrix.Target(name="upstream", kind="command", command="x",
                                          profile="openai"), Path("upstream"), 0, data=data)


def test_each_kind_of_outcome_has_its_own_cell() -> None:
    built = matrix.build_matrix(CATALOG, [_plain_run()])
    cells = {row.key: row.cells[0].label for row in built.rows}
    assert cells == {"P-ANY": "fail", "P-ATLAS": "not claimed", "P-GPU": "skip",
                     "P-FLAG": "pass"}
    assert built.column_counts(0) == {trace.FAILED: 1, trace.NOT_CLAIMED: 1, trace.SKIPPED: 1,
                                      trace.PASSED: 1}


def test_the_totals_and_the_scenario_rows_show_not_claimed() -> None:
    built = matrix.build_matrix(CATALOG, [_plain_run()])
    md = matrix.render_markdown(built, CATALOG)
    assert "| pass | fail | not claimed | skip | not covered |" in md
    assert "| **upstream**  | command | openai | 1 | 1 | 1 | 1 | 0 |" in md
    html = matrix.render_html(built, CATALOG)
    assert "class='cell not-claimed'" in html
    scenarios = matrix.build_matrix(CATALOG, [_plain_run()], rows="scenarios")
    assert [row.cells[0].label for row in scenarios.rows] == ["fail", "not claimed", "skip",
                                                              "pass"]


def test_a_skip_with_mixed_reasons_is_not_called_not_claimed() -> None:
    assert matrix.cell_status(trace.SKIPPED, [NOT_CLAIMED, "no NVIDIA GPU"]) == trace.SKIPPED
    assert matrix.cell_status(trace.SKIPPED, [NOT_CLAIMED]) == trace.NOT_CLAIMED
    assert matrix.cell_status(trace.FAILED, [NOT_CLAIMED]) == trace.FAILED


def test_the_findings_count_the_atlas_rows_the_profile_does_not_claim() -> None:
    built = matrix.build_matrix(CATALOG, [_plain_run()])
    found = matrix.findings(built, CATALOG)[0]
    assert "skips exactly the 2 covered ATLAS rows" in found and "fails 1: P-ANY" in found
