"""The mutation run's table: printed, stored as JSON and Markdown, read back by traceability."""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from atlas_suite.mutation.catalogue import Fault
from atlas_suite.mutation.runner import KILLED, Outcome

DEFAULT_REPORT = Path("reports/mutation/mutation.json")


def _cell(text: str, width: int = 110) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"


def _whats(faults: Sequence[Fault] | Mapping[str, str]) -> Mapping[str, str]:
    return faults if isinstance(faults, Mapping) else {f.id: f.what for f in faults}


def render_table(faults: Sequence[Fault] | Mapping[str, str],
                 outcomes: Sequence[Outcome]) -> str:
    """A Markdown table: fault, requirement, verdict, the scenario that caught it."""
    what = _whats(faults)
    lines = ["| fault | requirement | verdict | caught by (or why not) | s |",
             "|---|---|---|---|---|"]
    for o in outcomes:
        why = o.caught_by if o.verdict == KILLED else o.detail
        lines.append(f"| `{o.fault_id}`: {_cell(what.get(o.fault_id, ''), 70)} | "
                     f"{o.requirement} | **{o.verdict}** | {_cell(why)} | {o.seconds:.0f} |")
    return "\n".join(lines)


def summary(outcomes: Sequence[Outcome]) -> str:
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.verdict] = counts.get(o.verdict, 0) + 1
    parts = ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))
    return f"{len(outcomes)} faults: {parts}"


def write(path: Path, faults: Sequence[Fault] | Mapping[str, str],
          outcomes: Sequence[Outcome], run: dict[str, object]) -> list[Path]:
    """``mutation.json`` (read back by the traceability report) and ``mutation.md`` beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    finished = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    what = _whats(faults)
    data = {"run": {**run, "finished": finished}, "summary": summary(outcomes),
            "outcomes": [o.to_json() | {"what": what.get(o.fault_id, "")} for o in outcomes]}
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    markdown = path.with_suffix(".md")
    markdown.write_text(f"# Mutation run ({run.get('selection', '')}, {finished})\n\n"
                        f"{summary(outcomes)}\n\n{render_table(faults, outcomes)}\n",
                        encoding="utf-8")
    return [path, markdown]


@dataclass(frozen=True)
class RequirementFaults:
    """How one requirement's faults fared in the last mutation run."""

    requirement: str
    killed: tuple[str, ...]
    not_killed: tuple[tuple[str, str], ...]  # (fault id, verdict)

    @property
    def all_killed(self) -> bool:
        return bool(self.killed) and not self.not_killed

    def describe(self) -> str:
        total = len(self.killed) + len(self.not_killed)
        if self.all_killed:
            return f"{total}/{total} faults killed"
        missed = ", ".join(f"{fid} {verdict}" for fid, verdict in self.not_killed)
        return f"{len(self.killed)}/{total} faults killed ({missed})"


def read_last_run(path: Path = DEFAULT_REPORT) -> tuple[dict, dict[str, RequirementFaults]]:
    """The last run's header and its outcomes by requirement; empty when there was no run."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}, {}
    by_requirement: dict[str, tuple[list[str], list[tuple[str, str]]]] = {}
    for o in data.get("outcomes", []):
        killed, other = by_requirement.setdefault(o["requirement"], ([], []))
        if o["verdict"] == KILLED:
            killed.append(o["fault_id"])
        else:
            other.append((o["fault_id"], o["verdict"]))
    return data.get("run", {}), {
        rid: RequirementFaults(rid, tuple(k), tuple(n)) for rid, (k, n) in by_requirement.items()}


def merge_runs(paths: Sequence[Path]) -> tuple[list[Outcome], dict[str, str]]:
    """The outcomes of several runs (of parts of the catalogue), a later run's verdict on a
    fault replacing an earlier one; with each fault's description."""
    outcomes: dict[str, Outcome] = {}
    whats: dict[str, str] = {}
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        for entry in data.get("outcomes", []):
            whats[entry["fault_id"]] = entry.get("what", "")
            fields = {k: entry[k] for k in Outcome.__dataclass_fields__ if k in entry}
            outcomes[entry["fault_id"]] = Outcome(**fields)
    return list(outcomes.values()), whats
