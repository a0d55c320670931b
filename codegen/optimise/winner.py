"""``codegen solve --optimise N``: the solved winner made faster, in the solve's own session,
whether the solve ran in the CLI or on the service (so the flag means the same in both)."""

from __future__ import annotations

from collections.abc import Callable

from codegen.optimise.flow import optimise
from codegen.optimise.target import Target
from codegen.problems import Problem
from codegen.solve.events import SolveEvent, StageProgress
from codegen.solve.report import SolveReport
from codegen.solve.session import SolveSession


async def optimise_winner(
    problem: Problem,
    report: SolveReport,
    session: SolveSession,
    rounds: int,
    on_event: Callable[[SolveEvent], None] | None = None,
) -> SolveReport:
    """The report with its winner optimised (``code`` is the last faster version); unchanged
    when there is no winner or no round to run."""
    if not rounds or not report.solved or report.code is None:
        return report

    def say(stage: str, message: str) -> None:
        if on_event is not None:
            on_event(StageProgress(stage, message))

    target = Target(problem=problem, code=report.code)
    optimised = await optimise(target, session, rounds=rounds, on_event=say)
    return report.model_copy(update={"optimisation": optimised, "code": optimised.code})
