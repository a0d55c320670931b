"""Per-problem differences between two runs. Pure."""

from __future__ import annotations

from pydantic import BaseModel

from codegen.bench.metrics import ENSEMBLE
from codegen.bench.records import ProblemRecord, ProblemStatus, RunData


class Difference(BaseModel):
    problem: str
    who: str  # a model, or "ensemble" for the pick
    a: str  # "2/3 pass", "pass", "fail", "not done"
    b: str


class Comparison(BaseModel):
    a: str
    b: str
    common: int  # problems done in both
    only_a: list[str]
    only_b: list[str]
    differences: list[Difference]


def _passes(record: ProblemRecord | None, model: str) -> str:
    if record is None or record.status is not ProblemStatus.DONE:
        return "not done"
    if model == ENSEMBLE:
        return "pass" if record.pick_passed else "fail"
    mine = [s for s in record.samples if s.model == model]
    if not mine:
        return "not run"
    return f"{sum(record.sample_passed(s) for s in mine)}/{len(mine)} pass"


def compare(a: RunData, b: RunData) -> Comparison:
    """Every (problem, model) whose pass count differs, and the ensemble's pick."""
    done_a = {p.problem: p for p in a.problems if p.status is ProblemStatus.DONE}
    done_b = {p.problem: p for p in b.problems if p.status is ProblemStatus.DONE}
    models = list(dict.fromkeys([*a.config.get("models", []), *b.config.get("models", [])]))
    differences = []
    order = [p.problem for p in a.problems] + [p.problem for p in b.problems]
    for problem in dict.fromkeys(order):
        if problem not in done_a or problem not in done_b:
            continue
        for who in [*models, ENSEMBLE]:
            left, right = _passes(done_a[problem], who), _passes(done_b[problem], who)
            if left != right:
                differences.append(Difference(problem=problem, who=who, a=left, b=right))
    return Comparison(
        a=a.name,
        b=b.name,
        common=len(done_a.keys() & done_b.keys()),
        only_a=sorted(done_a.keys() - done_b.keys()),
        only_b=sorted(done_b.keys() - done_a.keys()),
        differences=differences,
    )


def format_comparison(comparison: Comparison) -> str:
    lines = [
        f"# {comparison.a} vs {comparison.b}",
        "",
        f"{comparison.common} problem(s) done in both; {len(comparison.only_a)} only in "
        f"{comparison.a}, {len(comparison.only_b)} only in {comparison.b}; "
        f"{len(comparison.differences)} difference(s).",
    ]
    if comparison.differences:
        lines += ["", f"| problem | who | {comparison.a} | {comparison.b} |", "|---|---|---|---|"]
        lines += [f"| {d.problem} | {d.who} | {d.a} | {d.b} |" for d in comparison.differences]
    return "\n".join(lines) + "\n"
