"""Docstring examples read from prose are soft evidence: one that no candidate satisfies is set
aside, not held against every candidate.

Prose examples are guessed at (:mod:`codegen.problems.examples`) and docstrings are sometimes
wrong: HumanEval's ``tri`` documents ``tri(1) = 3`` for a function returning a list. When two or
more candidates were tested and none passes an example, the example is more likely wrong than
all of them, so a candidate that fails only such examples passes, with a message naming them.
With a single candidate there is no such evidence and every example counts. Doctests (``>>>``)
and test files are the user's own tests and always count.
"""

from __future__ import annotations

from collections.abc import Mapping

from sandbox.models import RunResult, TestStatus, Verdict

SET_ASIDE = "passed; set aside docstring example(s) that no candidate satisfies"


def set_aside_unsatisfiable(
    runs: Mapping[str, RunResult], soft_files: set[str]
) -> dict[str, RunResult]:
    """``runs`` with each candidate that fails only unsatisfiable soft tests marked passed."""
    if len(runs) < 2 or not soft_files:
        return dict(runs)
    satisfied = {
        t.name for run in runs.values() for t in run.tests if t.status is TestStatus.PASSED
    }

    def excusable(name: str, cause: Verdict | None) -> bool:
        file = name.split("::")[0].rsplit("/", 1)[-1]  # "tests/test_examples.py::test_…"
        return cause is None and file in soft_files and name not in satisfied

    result = {}
    for cid, run in runs.items():
        failed = [t for t in run.tests if t.status is not TestStatus.PASSED]
        if (
            run.verdict is Verdict.FAILED
            and failed
            and all(excusable(t.name, t.cause) for t in failed)
        ):
            names = ", ".join(t.name.split("::")[-1] for t in failed)
            run = run.model_copy(
                update={"verdict": Verdict.PASSED, "message": f"{SET_ASIDE}: {names}"}
            )
        result[cid] = run
    return result
