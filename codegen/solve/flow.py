"""`codegen solve` as a library function: the product's whole flow, I/O orchestration only.

    generate (every roster, in parallel) ─▶ dedupe ─▶ sandbox (all candidates at once)
        └─ nothing passes: one repair round (failing code + test output back to the models,
           a bounded number of extra requests, in parallel) ─▶ sandbox the new ones
        └─ the ranking is disputed (passing candidates disagree, none has more support):
           one more round of samples from every model, and model-written tests if none were
           written yet ─▶ rank again; still disputed: no winner (exit 4)
    tester (each model writes test cases, beside the generation) ─────────────────┐
    inputs drawn in the sandbox (the problem's alone, beside the generation) ─────┤
    passing ones ─▶ the evaluation's ranking (behaviour, written tests, timing, jury)
                 ─▶ winner and its confidence
                 ─▶ the winner as a module of its own (imports, passes, pyflakes clean;
                    else the next ranked one) ─▶ SolveReport

One :class:`~codegen.evaluation.Evaluation` records every round's verification into the run's
ledger and then ranks, so the ranking sees exactly what the rounds saw. The sandbox pool opens
while the models generate, a first job checks that the problem's tests load, and the inputs
are drawn, so broken tests, a broken ``strategies.py`` or a missing Docker stop the run before
it waits on the models, and the drawing is off the answer's path. Progress goes to `on_event`
(:mod:`codegen.solve.events`).
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Awaitable
from typing import Any

from codegen.errors import BadInput
from codegen.evaluation import Evaluation, RankingRun, verify
from codegen.evaluation import Event as EvaluationEvent
from codegen.evaluation.policy import Policy
from codegen.evaluation.verify import run_placeholder
from codegen.generation import GenerationResult, GenerationTask, Roster
from codegen.llm.throttle import Throttle
from codegen.problems import Problem
from codegen.ranking.consensus import GeneratedTest
from codegen.ranking.report import Decision
from codegen.solve.events import Decided, EventCallback, JudgeProgress, StageProgress
from codegen.solve.repair import repair
from codegen.solve.report import SolveReport
from codegen.solve.rounds import (
    check_reachable,
    generate_all,
    generation_task,
    set_aside_examples,
    test_new,
    write_tests_all,
)
from codegen.solve.session import SolveSession, request_plan
from codegen.solve.snippet_check import check_snippet, module_name
from codegen.solve.state import SolveRun
from sandbox import ProblemError, SandboxBackend, Verdict

CHECKED_AT_MOST = 3  # ranked candidates tried as a module of their own before giving up

# A litellm request cancelled mid-way (a deadline, a failed run, Ctrl-C) leaves an inner coroutine
# unawaited; Python then prints a warning that would break the CLI's one-line errors.
warnings.filterwarnings(
    "ignore", message=r"coroutine '.*acompletion' was never awaited", category=RuntimeWarning
)


async def solve(
    problem: Problem,
    session: SolveSession,
    *,
    on_event: EventCallback | None = None,
    enrich: bool = True,
    output: str | None = None,
) -> SolveReport:
    """Generate, test, repair once if nothing passes, rank; see the module docstring. A
    :class:`Decided` event names the winner as soon as it is known; without ``enrich``
    (``--fast``) the run ends then, and the report lacks what would only have enriched it.
    ``output``: the file the snippet will be written to (its name is checked to import)."""
    run = SolveRun(problem, session, on_event, enrich=enrich)
    run.module = module_name(output, problem.entry_point)
    run.notes.extend(session.notes)
    started = run.started
    rosters = [(r, session.throttle_for(r)) for r in session.rosters]
    plan = request_plan(session.settings, session.rosters)
    if problem.context is not None and problem.context.prompt_tokens:
        run.notes.append(f"context: {context_line(problem)}")
        run.emit(StageProgress("context", context_line(problem)))
    run.emit(StageProgress("generate", plan.describe()))
    task = generation_task(problem)
    generating = asyncio.create_task(generate_all(run, task, rosters, "initial"))
    writing = asyncio.create_task(_write_tests(run, task, rosters))
    try:
        sandbox = await session.sandbox()
        await check_tests_load(problem, sandbox)
        run.evaluation = _evaluation(run, sandbox)
        try:
            await _unless_drawing_fails(generating, run.evaluation.start_drawing())
            result = await generating
            run.phases["generate_s"] = time.perf_counter() - started
            check_reachable(result, session)
            return await _test_repair_rank(run, sandbox, result, started, writing)
        finally:
            run.evaluation.cancel()
    finally:
        for pending in (generating, writing):
            pending.cancel()
        await asyncio.gather(generating, writing, return_exceptions=True)


async def _unless_drawing_fails(generating: asyncio.Task[Any], drawing: asyncio.Task[Any]) -> None:
    """Wait for the models; the inputs are drawn beside them (off the answer's path), and a
    drawing that fails (a broken ``strategies.py``: bad input) ends the run at once."""
    while True:
        if drawing.done() and not drawing.cancelled() and drawing.exception() is not None:
            await drawing  # raises it
        if generating.done():
            return
        waiting = {generating} if drawing.done() else {generating, drawing}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)


def context_line(problem: Problem) -> str:
    """How much of its module and package the models are shown, in tokens."""
    context = problem.context
    assert context is not None
    where = f"{context.module} ({context.path})" if context.module else context.path
    return f"{where}: its outline and imports, ≈{context.prompt_tokens} tokens in every prompt"


async def _write_tests(
    run: SolveRun, task: GenerationTask, rosters: list[tuple[Roster, Throttle]]
) -> list[GeneratedTest]:
    """The model-written tests, when the tester is on; what they are worth is the ranking's."""
    if not run.session.settings.tester.enabled:
        return []
    run.written_tests = await write_tests_all(run, task, rosters)
    return run.written_tests


async def _test_repair_rank(
    run: SolveRun,
    sandbox: SandboxBackend,
    result: GenerationResult,
    started: float,
    writing: asyncio.Task[list[GeneratedTest]],
) -> SolveReport:
    mark = time.perf_counter()
    await test_new(run, run.add(result.candidates, "initial", None))
    run.phases["verify_s"] = time.perf_counter() - mark
    repaired = False
    if not run.passing() and run.session.settings.repair.enabled and len(run.ledger):
        mark = time.perf_counter()
        repaired = True
        await repair(run)
        run.phases["repair_s"] = time.perf_counter() - mark
    set_aside_examples(run)
    ranking, hidden = None, None
    if run.passing():
        mark = time.perf_counter()
        ranking, hidden = await _rank(run, sandbox, writing)
        if ranking.disputed:
            tests = await _settle(run, await writing, ranking.dispute)
            ranking, hidden = await _rank(run, sandbox, _ready(tests))
        run.phases["rank_s"] = time.perf_counter() - mark
        if ranking.decision is not None and ranking.decision.seconds is not None:
            run.phases["decide_s"] = min(ranking.decision.seconds, run.phases["rank_s"])
            run.phases["enrich_s"] = run.phases["rank_s"] - run.phases["decide_s"]
    winner = await _returnable(run, sandbox, ranking) if ranking else None
    verdict = await hidden if hidden is not None else None
    if winner is not None and ranking is not None and winner != ranking.winner and run.enrich:
        verdict = await _hidden_verdict(run, sandbox, winner)  # the decided one is not returned
    if winner is not None and run.problem.has_hidden_tests and not run.enrich:
        run.notes.append("hidden tests not run (fast)")
    run.phases["total_s"] = time.perf_counter() - started
    report = run.report(ranking, winner, verdict, repaired)
    run.emit(StageProgress("done", f"winner: {winner}" if winner else "no passing candidate"))
    return report


async def _settle(run: SolveRun, tests: list[GeneratedTest], dispute: str) -> list[GeneratedTest]:
    """Gather more evidence on a dispute: another round of samples from every model (more
    votes on each side) and, when no model has written tests yet, their tests (a side that
    passes them wins); the new candidates are verified. Returns the tests to rank with."""
    rosters = [(r, run.session.throttle_for(r)) for r in run.session.rosters]
    task = generation_task(run.problem)
    run.emit(StageProgress("dispute", f"{dispute}; asking every model again"))
    write = not tests
    result, written = await asyncio.gather(
        generate_all(run, task, rosters, "dispute"),
        write_tests_all(run, task, rosters) if write else asyncio.sleep(0, tests),
    )
    added = run.add(result.candidates, "dispute", None)
    await test_new(run, added)
    run.written_tests = list(written)
    asked = "another round of samples from every model" + (
        f" and {len(written)} model-written test(s)" if write else ""
    )
    run.settling = f" (to settle it: {asked}, {len(added)} new candidate(s))"
    run.notes.append(f"disputed: {dispute}; asked for {asked}")
    return list(written)


async def check_tests_load(problem: Problem, sandbox: SandboxBackend) -> None:
    """Run the tests once against a placeholder: tests that do not import are bad input, found
    before any model is waited on; so is a module (the placeholder in it) that does not."""
    try:
        result = await run_placeholder(problem, sandbox)
    except ProblemError as error:
        first = (str(error).strip().splitlines() or ["the tests do not load"])[0]
        raise BadInput(f"{problem.origin or problem.name}: {first}; fix the tests") from None
    if problem.context is not None and "raised at import" in result.message:
        raise BadInput(module_does_not_load(problem, result.message))


def module_does_not_load(problem: Problem, message: str) -> str:
    """The line for a module that does not import in the sandbox, with what to do."""
    said = message.strip().splitlines()[0].removeprefix("candidate raised at import: ")
    where = problem.context.path if problem.context else problem.origin
    fix = "fix the module"
    if "No module named" in said:
        fix = (
            "declare what it imports in the project's dependencies ([project.dependencies], "
            "or [tool.codegen.project] in pyproject.toml): the sandbox installs them in the "
            "project's image"
        )
    return f"{where}: does not import in the sandbox ({said[:200]}); {fix}"


def _evaluation(run: SolveRun, sandbox: SandboxBackend) -> Evaluation:
    """The run's one evaluation, over the run's ledger; its ranking stages and the jury show as
    progress. The jury sits only when more than one candidate passes."""
    judges = run.session.judges
    policy = Policy(rounds=run.session.settings.sandbox.timing_rounds, judges=tuple(judges))
    announced: list[str] = []

    def relay(event: EvaluationEvent) -> None:
        if event.stage == "verify":
            return  # each verdict is shown as the candidate's own progress
        if event.stage == "jury" and not announced:
            announced.extend(dict.fromkeys(j.model for j in judges))
            for name in announced:
                run.emit(JudgeProgress(name, "judging"))
        who = f"{event.candidate}: " if event.candidate else ""
        run.emit(StageProgress(event.stage, who + event.message))

    return Evaluation(run.problem, sandbox, policy, ledger=run.ledger, on_event=relay)


async def _rank(
    run: SolveRun, sandbox: SandboxBackend, tests: Awaitable[list[GeneratedTest]]
) -> tuple[RankingRun, asyncio.Task[Verdict | None] | None]:
    """Rank what was verified, with the model-written tests and each program's votes; the jury
    only sits when more than one candidate passes. Once the winner is decided, a
    :class:`Decided` event says so and (when the report is enriched) the hidden tests start
    on it, beside the rest of the ranking: their task comes back with the ranking."""
    evaluation = run.evaluation
    assert evaluation is not None
    passing = run.passing()
    run.emit(StageProgress("rank", f"ranking {len(passing)} passing candidate(s)"))
    hidden: list[asyncio.Task[Verdict | None]] = []

    def decided(decision: Decision, _: RankingRun) -> None:
        if decision.winner is None:
            return
        entry = run.ledger[decision.winner]
        run.phases["answer_s"] = time.perf_counter() - run.started
        seconds = round(run.phases["answer_s"], 3)
        code = entry.code
        run.emit(Decided(decision.winner, entry.author, code, decision.after, decision.reason,
                         seconds, run.enrich))  # fmt: skip
        if run.enrich:
            hidden.append(asyncio.create_task(_hidden_verdict(run, sandbox, decision.winner)))

    try:
        ranking = await evaluation.rank(tests, enrich=run.enrich, on_decided=decided)
    except BaseException:
        for task in hidden:
            task.cancel()
        raise
    if ranking.jury is not None:
        for judge in dict.fromkeys(j.model for j in evaluation.policy.judges):
            ballots = sum(b.judge.split("#")[0] == judge for b in ranking.jury.ballots)
            failed = [f for f in ranking.jury.failures if f.judge.split("#")[0] == judge]
            detail = f"{ballots} ballot(s)" + (f", {failed[0].kind}: {failed[0].message}"
                                               if failed else "")  # fmt: skip
            run.emit(JudgeProgress(judge, "done" if ballots else "failed", detail))
    started = hidden[0] if hidden else None
    decided_winner = ranking.decision.winner if ranking.decision else None
    if started is not None and ranking.winner != decided_winner:
        started.cancel()  # never: the decided winner is the final one (see the ranking's notes)
        started = None
    return ranking, started


async def _ready(tests: list[GeneratedTest]) -> list[GeneratedTest]:
    return tests


async def _returnable(run: SolveRun, sandbox: SandboxBackend, ranking: RankingRun) -> str | None:
    """The best-ranked candidate that passes as a module of its own (:mod:`snippet_check`);
    the ones that do not are named in the notes. None when none of the first few does. A
    function of a module is returned as its body in that module (what `--fix` writes), where
    it was tested: it is not a module of its own, and the winner stands."""
    if run.problem.context is not None:
        return ranking.winner
    ranked = sorted(
        (c for c in ranking.candidates if c.rank is not None),
        key=lambda c: c.rank if c.rank is not None else 0,  # all ranked: the filter above
    )
    for summary in ranked[:CHECKED_AT_MOST]:
        entry = run.ledger[summary.id]
        assert entry.run is not None
        run.emit(StageProgress("check", f"{summary.id} as {run.module}.py"))
        found = await check_snippet(run.problem, entry.code, run.module, sandbox,
                                    entry.run)  # fmt: skip
        if not found:
            if summary.id != ranking.winner:
                run.notes.append(f"returned {summary.id}, the best candidate that passes as a "
                                 f"module of its own")  # fmt: skip
            return summary.id
        run.notes.append(f"{summary.id} is not returned: {found[0]}")
    return None


async def _hidden_verdict(
    run: SolveRun, sandbox: SandboxBackend, winner: str | None
) -> Verdict | None:
    """The winner on the hidden tests (a HumanEval `check`), reported, never used to choose."""
    if winner is None or not run.problem.has_hidden_tests:
        return None
    code = {winner: run.ledger[winner].code}
    try:
        results = await verify(run.problem, code, sandbox, hidden=True)
    except ProblemError as error:
        run.notes.append(f"hidden tests not run: {error}")
        return None
    return results[winner].verdict
