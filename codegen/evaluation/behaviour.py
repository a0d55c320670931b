"""Calling the passing candidates on the same inputs: the behaviour evidence, and the screening
of the timing inputs (which also says what each candidate must answer again when timed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from codegen.evaluation.events import Event
from codegen.evaluation.workload import TIMING_INPUTS
from codegen.problems import Problem
from codegen.problems.context import module_spec, program
from codegen.ranking import GeneratedTest, InputSet
from sandbox import CallJob, CallOutcome, SandboxBackend, Verdict

# One generated input's budget in the differential calls and the screening: generated inputs
# are small, so a call past this is stuck (``prime_fib(-3)``) and a timeout is its behaviour;
# after the first one a candidate's remaining inputs are skipped as timeouts too. Without this,
# a stuck candidate cost the whole test budget (10 s) three times per job: two HumanEval
# problems (prime_fib, find_zero) took half the sandbox's time in a leaderboard run.
CALL_SECONDS = 1.0
CALL_TIMEOUTS = 1
# The screening of the timing inputs first gives each call this much: a candidate past it on an
# input another candidate finished in that time is called again from that input with
# CALL_SECONDS (slower, perhaps, but not stuck: EvalPlus too takes its limit from the fastest
# known time), and an input none finishes in it is left out of the timing (a timing input is
# called every round, so it must be cheap). On the full HumanEval leaderboard 24 of the 39 call
# jobs that reached CALL_SECONDS were screenings of inputs every candidate was stuck on
# (prime_fib, fib, fibfib: three batches of three): each cost 1 s of CPU, now a quarter of it.
# The differential calls keep CALL_SECONDS alone: a timeout there is a behaviour, and one
# under a quarter of a second could be a stall of a loaded machine, not the candidate's.
QUICK_SECONDS = 0.25


# Model-written tests are called apart from the differential inputs, with room for a few
# timeouts: a tester's "large input" case that stalls every candidate must not turn the
# remaining tests into timeouts too.
TEST_TIMEOUTS = 3


async def call_each(
    problem: Problem,
    candidates: dict[str, str],
    inputs: Sequence[tuple[Any, ...]],
    sandbox: SandboxBackend,
    timeouts: int = CALL_TIMEOUTS,
) -> dict[str, list[CallOutcome]]:
    """Every candidate on the same inputs, each call under CALL_SECONDS; after ``timeouts``
    timeouts a candidate's remaining inputs are skipped as timeouts."""
    return await _calls(problem, candidates, inputs, sandbox, CALL_SECONDS, timeouts)


async def call_each_quickly(
    problem: Problem,
    candidates: dict[str, str],
    inputs: Sequence[tuple[Any, ...]],
    sandbox: SandboxBackend,
) -> dict[str, list[CallOutcome]]:
    """:func:`call_each` under QUICK_SECONDS, and again under CALL_SECONDS from an input
    another candidate finished (answered or raised) in that time; an input none finishes in
    it is a timeout for all of them."""
    quick = await _calls(problem, candidates, inputs, sandbox, QUICK_SECONDS, CALL_TIMEOUTS)

    async def again(cid: str, start: int) -> list[CallOutcome]:
        rest = await _calls(problem, {cid: candidates[cid]}, inputs[start:], sandbox,
                            CALL_SECONDS, CALL_TIMEOUTS)  # fmt: skip
        return quick[cid][:start] + rest[cid]

    slow = {cid: i for cid in quick if (i := _slow_from(cid, quick)) is not None}
    redone = await asyncio.gather(*(again(cid, start) for cid, start in slow.items()))
    return quick | dict(zip(slow, redone, strict=True))


async def _calls(
    problem: Problem,
    candidates: dict[str, str],
    inputs: Sequence[tuple[Any, ...]],
    sandbox: SandboxBackend,
    seconds: float,
    timeouts: int,
) -> dict[str, list[CallOutcome]]:
    if not inputs:
        return {cid: [] for cid in candidates}
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [(tuple(args), {}) for args in inputs]
    limits = sandbox.limits.model_copy(
        update={"test_seconds": min(sandbox.limits.test_seconds, seconds)}
    )
    return await calls_of_each(
        problem, candidates, calls, sandbox, limits=limits, max_timeouts=timeouts
    )


def _slow_from(cid: str, outcomes: dict[str, list[CallOutcome]]) -> int | None:
    """The first input ``cid`` timed out on that another candidate finished (answered or
    raised, within the quick limit), if any."""
    for i, outcome in enumerate(outcomes[cid]):
        if outcome.cause is Verdict.TIMEOUT and any(
            other != cid and theirs[i].cause is None for other, theirs in outcomes.items()
        ):
            return i
    return None


async def calls_of_each(
    problem: Problem,
    candidates: dict[str, str],
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]],
    sandbox: SandboxBackend,
    **options: Any,
) -> dict[str, list[CallOutcome]]:
    """Every candidate (as its program in the problem's module) on the same calls, all at
    once; ``options``: the rest of each :class:`CallJob` (limits, max_timeouts)."""
    entry, module = problem.entry_point, module_spec(problem, sandbox)
    jobs = [
        CallJob(
            candidate=program(problem, source),
            entry_point=entry,
            inputs=calls,
            module=module,
            **options,
        )  # fmt: skip
        for source in candidates.values()
    ]
    outcomes = await asyncio.gather(*(sandbox.call(job) for job in jobs))
    return dict(zip(candidates, outcomes, strict=True))


def tested_arguments(tests: Sequence[GeneratedTest]) -> list[tuple[Any, ...]]:
    """The distinct arguments of the model-written tests, in order."""
    return list({repr(list(t.args)): tuple(t.args) for t in tests}.values())


async def behaviour(
    problem: Problem,
    passing: dict[str, str],
    inputs: InputSet,
    tested: Sequence[tuple[Any, ...]],
    sandbox: SandboxBackend,
    emit: Callable[[Event], None],
) -> dict[str, list[CallOutcome]]:
    """Every passing candidate on the same inputs, then on the model-written tests' inputs
    (``tested``); with fewer than two candidates, only a test has something to say."""
    if len(passing) < 2 and not tested:
        return {}
    if not inputs.args and not tested:
        emit(Event("behaviour", f"skipped: {inputs.reason}"))
        return {}
    count = f"{len(inputs.args)} inputs" + (
        f" and {len(tested)} model-written tests" if tested else ""
    )
    emit(Event("behaviour", f"{len(passing)} candidate(s) on {count}"))
    differential, written = await asyncio.gather(
        call_each(problem, passing, inputs.args, sandbox),
        call_each(problem, passing, tested, sandbox, TEST_TIMEOUTS),
    )
    return {cid: differential[cid] + written[cid] for cid in passing}


async def screen_copies(
    problem: Problem,
    passing: dict[str, str],
    copies: InputSet,
    groups: Sequence[int],
    sandbox: SandboxBackend,
) -> tuple[InputSet, dict[str, list[CallOutcome]]]:
    """One copy of each benchmark call (``groups``: how many consecutive copies each has),
    the one :func:`pick_copies` picks, and every passing candidate's outcomes on them; a
    call none of whose copies any candidate handles is left out. Each call runs under a test's
    time limit: these stand for a benchmark's calls, large and all of them timed."""
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        (tuple(args), {}) for args in copies.args
    ]
    answered = await calls_of_each(problem, passing, calls, sandbox)
    chosen = pick_copies(groups, list(answered.values()))
    screened = {cid: [o[i] for i in chosen] for cid, o in answered.items()}
    return copies.model_copy(update={"args": [copies.args[i] for i in chosen]}), screened


def pick_copies(groups: Sequence[int], outcomes: Sequence[Sequence[CallOutcome]]) -> list[int]:
    """Per group of copies, the first every candidate answers alike without raising (the copy
    kept what the candidates rely on), else the first one at least one candidate handles."""
    chosen: list[int] = []
    start = 0
    for size in groups:
        indexes = range(start, start + size)
        start += size
        alike = [i for i in indexes if _alike([o[i] for o in outcomes])]
        handled = [i for i in indexes if any(o[i].ok for o in outcomes)]
        if alike or handled:
            chosen.append((alike or handled)[0])
    return chosen


def _alike(outcomes: Sequence[CallOutcome]) -> bool:
    return all(o.ok for o in outcomes) and len({o.behaviour for o in outcomes}) == 1


async def screen(
    problem: Problem, passing: dict[str, str], pool: InputSet, sandbox: SandboxBackend
) -> tuple[InputSet, dict[str, list[CallOutcome]]]:
    """The largest generated inputs that at least one passing candidate handles, and every
    passing candidate's outcomes on them (what each must answer again when timed). An input
    that makes every one of them raise breaks the problem's preconditions and would time
    nothing; one that only some fail on stays, and those are not timed (they fail on valid
    input). Screens the largest first, a timing round's worth at a time: usually one is enough."""
    usable: list[tuple[Any, ...]] = []
    screened: dict[str, list[CallOutcome]] = {cid: [] for cid in passing}
    left = list(pool.args)
    while left and len(usable) < TIMING_INPUTS:
        batch, left = left[:TIMING_INPUTS], left[TIMING_INPUTS:]
        outcomes = await call_each_quickly(problem, passing, batch, sandbox)
        for i, args in enumerate(batch):
            if len(usable) < TIMING_INPUTS and any(o[i].ok for o in outcomes.values()):
                usable.append(args)
                for cid, outcome in outcomes.items():
                    screened[cid].append(outcome[i])
    reason = pool.reason or "every generated input made every passing candidate raise"
    return pool.model_copy(update={"args": usable, "reason": reason}), screened
