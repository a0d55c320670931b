"""``codegen solve --optimise N``: the solved winner made faster, in the solve's own session,
whether the solve ran in the CLI or on the service (so the flag means the same in both)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from codegen.optimise.flow import optimise
from codegen.optimise.target import Target
from codegen.problems import Problem
from codegen.solve.events import SolveEvent, StageProgress
from codegen.solve.report import SolveReport
from codegen.solve.session import SolveSession
from codegen.solve.snippet_check import check_snippet, module_name


async def optimise_winner(
    problem: Problem,
    report: SolveReport,
    session: SolveSession,
    rounds: int,
    on_event: Callable[[SolveEvent], None] | None = None,
    filename: str | None = None,
) -> SolveReport:
    """The report with its winner optimised: ``code`` is the last faster version when it, too,
    passes as a module of its own (named after ``filename``, as `-o` writes it); else the
    winner stays, with a note. Unchanged when there is no winner or no round to run."""
    if not rounds or not report.solved or report.code is None:
        return report

    def say(stage: str, message: str) -> None:
        if on_event is not None:
            on_event(StageProgress(stage, message))

    target = Target(problem=problem, code=report.code)
    optimised = await optimise(target, session, rounds=rounds, on_event=say)
    update: dict[str, Any] = {"optimisation": optimised}
    if optimised.improved and problem.context is not None:
        update["code"] = optimised.code  # tested as its module's body, where it goes
    elif optimised.improved:
        module = module_name(filename, problem.entry_point)
        found = await check_snippet(problem, optimised.code, module, await session.sandbox(), None)
        if found:
            update["notes"] = [*report.notes, f"the optimised version is not returned: {found[0]}"]
        else:
            update["code"] = optimised.code
    return report.model_copy(update=update)
