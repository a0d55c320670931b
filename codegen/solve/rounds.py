"""One generation round of `codegen solve`: ask every roster at once, dedupe, then test every
new program in the sandbox at once. The first round and the repair round both go through here."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from codegen.errors import BadInput, EnvironmentProblem
from codegen.generation import GenerationEvent, GenerationResult, GenerationTask, Roster
from codegen.llm.errors import ModelFault
from codegen.llm.throttle import Throttle
from codegen.problems import Problem
from codegen.ranking.consensus import GeneratedTest
from codegen.solve.events import CandidateProgress, GenerationProgress, StageProgress
from codegen.solve.report import Round, tests_passed
from codegen.solve.session import SolveSession
from codegen.solve.state import SolveRun
from sandbox import ProblemError, RunResult

UNREACHABLE = {ModelFault.UNREACHABLE}
NO_ACCESS = {ModelFault.AUTH_FAILED}
UNKNOWN_MODEL = {ModelFault.UNKNOWN_MODEL}


def generation_task(problem: Problem) -> GenerationTask:
    """What the models see: the stub (or text) and the visible tests written as files; doctest
    and smoke tests are not shown, the stub already holds their examples."""
    shown = [t for t in problem.visible_tests if t.origin == "file"]
    tests = "\n\n".join(f"# {t.name}\n{t.source.strip()}" for t in shown) or None
    context = problem.context
    return GenerationTask(
        entry_point=problem.entry_point,
        stub=problem.stub or problem.prompt,
        visible_tests=tests,
        module=context.source if context else None,
        context=context.prompt if context and context.prompt else None,
    )


async def generate_all(
    run: SolveRun,
    task: GenerationTask,
    rosters: Sequence[tuple[Roster, Throttle]],
    stage: Round,
) -> GenerationResult:
    """Every roster at once (:func:`~codegen.generation.fanout.generate_each`), its progress
    and failures recorded in the run."""
    from codegen.generation.fanout import generate_each  # litellm: imported when first needed

    def relay(event: GenerationEvent) -> None:
        run.emit(GenerationProgress(stage, event))

    merged = await generate_each(task, rosters, on_event=relay)
    run.requests += sum(r.request_count for r, _ in rosters)
    run.failures.extend(merged.failures)
    return merged


async def write_tests_all(
    run: SolveRun, task: GenerationTask, rosters: Sequence[tuple[Roster, Throttle]]
) -> list[GeneratedTest]:
    """The tester requests of every roster, beside the generation and under its caps; parsed
    and merged. Never fails the run: a tester that errs is a note."""
    from codegen.generation.fanout import write_tests
    from codegen.generation.test_cases import generated_tests

    tester = run.session.settings.tester
    groups = await asyncio.gather(
        *(
            write_tests(task, r, per_model=tester.per_model, cases=tester.cases, throttle=t)
            for r, t in rosters
        )
    )
    replies = [reply for group in groups for reply in group]
    run.tester_replies.extend(replies)
    params = run.problem.parameters
    positional = None if params is None else [p.name for p in params if p.kind == "positional"]
    tests = generated_tests(replies, run.problem.entry_point, positional)
    failed = [r for r in replies if r.error]
    run.notes.extend(f"tester {r.model}: {r.error}" for r in failed)
    wrote = len(replies) - len(failed)
    run.emit(StageProgress("tester", f"{len(tests)} test case(s) from {wrote} tester reply(ies)"))
    return tests


def check_reachable(result: GenerationResult, session: SolveSession) -> None:
    """No candidate at all because every server was unreachable, refused the key or does not
    know the model: that is the environment or the input, not a model failing the task."""
    if result.candidates or not result.failures:
        return
    from codegen.llm import client

    faults = {f.fault for f in result.failures}
    first = result.failures[0]
    bases = sorted({w.api_base or client.resolve(w)[1] or "its default URL"
                    for w in session.workers})  # fmt: skip
    if faults <= UNREACHABLE:
        raise EnvironmentProblem(
            f"cannot reach the model server ({', '.join(bases)}): start it, or fix api_base "
            f"/ OPENAI_API_BASE ({first.message[:120]})"
        )
    if faults <= NO_ACCESS:
        raise EnvironmentProblem(
            f"{first.model} refused the API key ({first.error_class}): export a valid key"
        )
    if faults <= UNKNOWN_MODEL:
        raise BadInput(f"unknown model {first.model!r}: its server does not serve it")


async def test_new(run: SolveRun, ids: Sequence[str]) -> None:
    """All new candidates through the sandbox at once. Every call example counts until the
    repair round has had its chance (then :func:`set_aside_examples`)."""
    if not ids:
        return
    run.emit(StageProgress("sandbox", f"testing {len(ids)} candidate(s)"))
    for cid in ids:
        run.emit(CandidateProgress(cid, "testing", run.ledger[cid].author))
    assert run.evaluation is not None
    try:
        await run.evaluation.verify(
            ids, set_aside=False, on_done=lambda cid, result: show_verdict(run, cid, result)
        )
    except ProblemError as error:
        first = (str(error).strip().splitlines() or ["the tests do not load"])[0]
        raise BadInput(f"{run.problem.origin or run.problem.name}: {first}") from None


def set_aside_examples(run: SolveRun) -> None:
    """After the repair round (whose prompts show the failed examples), a call example that no
    candidate satisfies, first round or repaired, is set aside: more likely wrong than them all
    (:mod:`codegen.ranking.soft_tests`)."""
    assert run.evaluation is not None
    for cid, result in run.evaluation.set_aside_examples().items():
        show_verdict(run, cid, result)


def show_verdict(run: SolveRun, cid: str, result: RunResult) -> None:
    passed, total = tests_passed(result)
    why = result.message.strip().splitlines()[0] if result.message.strip() else ""
    detail = f"{passed}/{total} tests" + (f": {why}" if why else "")
    run.emit(CandidateProgress(cid, result.verdict.value, run.ledger[cid].author, detail))
