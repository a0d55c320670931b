"""The repair round of `codegen solve`: when nothing passes, the closest failures and their test
output go back to the models, a bounded number of extra requests, in parallel."""

from __future__ import annotations

import asyncio

from codegen.generation import GenerationResult, RepairFeedback, Roster
from codegen.solve.events import StageProgress
from codegen.solve.report import closeness, feedback_text
from codegen.solve.rounds import generate_all, generation_task, test_new
from codegen.solve.state import SolveRun


async def repair(run: SolveRun) -> None:
    """One round: the closest failures and their test output go back to the models, at most
    `max_candidates` requests, spread over the workers and sent in parallel, under the caps of
    the roster each request comes from."""
    settings = run.session.settings.repair
    failing = sorted(
        ((record, record.run) for record in run.ledger if record.run is not None),
        key=lambda pair: closeness(pair[1]),
    )[: settings.failing_shown]
    pairs = [(roster, w) for roster in run.session.rosters for w in roster.workers]
    if not failing or not pairs:
        return
    count = settings.max_candidates
    run.emit(StageProgress("repair", f"{count} repair request(s) from {len(failing)} failure(s)"))

    async def one(index: int) -> tuple[str, GenerationResult]:
        record, tested = failing[index % len(failing)]
        roster, worker = pairs[index % len(pairs)]
        feedback = RepairFeedback(
            code=record.code,
            test_output=feedback_text(
                tested,
                settings.feedback_chars,
                run.problem.visible_tests,
            ),
        )
        task = generation_task(run.problem).model_copy(update={"feedback": feedback})
        single = Roster(
            workers=(worker.model_copy(update={"samples": 1, "sample_offset": index}),),
            limits=roster.limits,
        )
        throttle = run.session.throttle_for(roster)  # the first round's caps, shared
        return record.id, await generate_all(run, task, [(single, throttle)], "repair")

    outcomes = await asyncio.gather(*(one(i) for i in range(count)))
    new: list[str] = []
    for repair_of, result in outcomes:
        new.extend(run.add(result.candidates, "repair", repair_of))
    await test_new(run, new)
