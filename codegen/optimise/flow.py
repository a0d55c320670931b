"""`codegen optimise` as a library function: rounds of parallel rewrites, each held to the current
version's behaviour and accepted only when faster beyond the noise. I/O orchestration only.

    the given version passes its tests ─▶ its growth (time at doubling sizes)
    each round: profile the current version ─▶ every model × persona at once: "same behaviour,
      faster" ─▶ test the answers ─▶ call them and the current version on the same inputs
      (small differential ones, the large timing pool, and scaled ones up to the largest size
      measured) ─▶ time the equivalent ones interleaved with the current version ─▶ the fastest,
      when faster beyond the noise (the speed tiers of `rank`), becomes the current version
    stop after N rounds, or at the first round that gains nothing

An answer is never taken on the models' word: it must pass the tests, agree with the current
version on every input (:mod:`codegen.optimise.equivalence`), and win the timing.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable
from typing import Any

from codegen.errors import BadInput
from codegen.evaluation import verify
from codegen.evaluation.behaviour import call_each
from codegen.evaluation.timing import Timing
from codegen.evaluation.workload import TIMING_INPUTS, Workload
from codegen.generation import GenerationResult, GenerationTask
from codegen.generation.dedupe import fingerprint
from codegen.generation.types import OptimiseBrief
from codegen.optimise.equivalence import evidence_inputs, first_difference
from codegen.optimise.profile import profile
from codegen.optimise.target import Target
from codegen.problems import Problem
from codegen.ranking import InputSet, compare_timings
from codegen.ranking.clusters import format_call
from codegen.ranking.explain import failure_line
from codegen.ranking.inputs import draw, timing_pool
from codegen.solve.optimisation import OptimiseReport, Rejection, Step
from codegen.solve.session import SolveSession
from sandbox import CallOutcome, RunResult, SandboxBackend

DEFAULT_ROUNDS = 2
SCALED_PER_SIZE = 2  # generated inputs per measured size, for the equivalence check
SCALED_SIZES = 3  # the largest sizes the growth measurement reached
# Only sizes where one call of the current version took at most this long are used: the growth
# ladder ends one size past its target, and a call of seconds makes the timing rounds too long.
CALL_BUDGET_S = 0.1
CURRENT = "current"
# An answer is held to the current version on at least this many inputs the current version
# answered, or not accepted: a smoke test alone proves nothing about behaviour.
MIN_EVIDENCE_INPUTS = 5

Say = Callable[[str, str], None]  # (stage, message)


async def optimise(
    target: Target,
    session: SolveSession,
    *,
    rounds: int = DEFAULT_ROUNDS,
    on_event: Say | None = None,
    timing_rounds: int | None = None,
) -> OptimiseReport:
    """Make ``target`` faster, keeping its behaviour; see the module docstring."""
    say = on_event or (lambda stage, message: None)
    started = time.perf_counter()
    problem = target.problem
    sandbox = await session.sandbox()
    runs = await verify(problem, {CURRENT: target.code}, sandbox, set_aside=False)
    if not runs[CURRENT].passed:
        why = failure_line(runs[CURRENT])
        raise BadInput(f"{problem.origin}: {problem.entry_point} does not pass its own tests "
                       f"({why}); optimise a function that works")  # fmt: skip
    inputs = await _inputs(problem, sandbox)
    if len(inputs.differential) + len(inputs.pool) < MIN_EVIDENCE_INPUTS:
        return OptimiseReport(
            target=problem.origin or problem.name,
            entry_point=problem.entry_point,
            improved=False,
            code=target.code,
            chain=[Step(round=0, id="v0", author="given", code=target.code)],
            stopped=f"not optimised: no inputs to check a faster version's behaviour on "
            f"({_signature(problem)}); give it type hints, a doctest or a test file",
            phases_s={"total_s": round(time.perf_counter() - started, 3)},
        )
    state = _State(
        problem, sandbox, inputs, timing_rounds or session.settings.sandbox.timing_rounds
    )
    state.current_run = runs[CURRENT]
    say("growth", "measuring how the given version grows")
    growth = await state.growth(target.code)
    first = Step(round=0, id="v0", author="given", code=target.code, growth=growth.label,
                 tests=_passed(runs[CURRENT]))  # fmt: skip
    report = OptimiseReport(
        target=problem.origin or problem.name,
        entry_point=problem.entry_point,
        improved=False,
        code=target.code,
        chain=[first],
        growth_before=growth.label,
        growth_after=growth.label,
    )
    current_growth = growth
    for number in range(1, rounds + 1):
        report.rounds_run = number
        step = await _round(number, state, session, report, current_growth, say)
        if step is None:
            break
        report.chain.append(step)
        current_growth = await state.growth(step.code)
        step.growth = current_growth.label
        report.code = step.code
    else:
        report.stopped = report.stopped or f"ran the {rounds} round(s) asked for"
    report.improved = len(report.chain) > 1
    report.growth_after = report.chain[-1].growth
    report.speedup = math.prod(s.speedup or 1.0 for s in report.chain[1:])
    report.notes = state.notes
    report.phases_s = {"total_s": round(time.perf_counter() - started, 3)}
    return report


class _Inputs:
    """The inputs every version is held to: small differential ones, the large timing pool,
    and a template to scale up from."""

    def __init__(self, differential: InputSet, pool: InputSet) -> None:
        from codegen.evaluation.growth import growth_templates

        self.differential = [tuple(a) for a in differential.args]
        self.pool = [tuple(a) for a in pool.args]
        self.templates = growth_templates(self.differential, self.pool)


async def _inputs(problem: Problem, sandbox: SandboxBackend) -> _Inputs:
    """Drawn in the sandbox: the problem's strategies and hints are its author's code."""
    small, pool = await asyncio.gather(
        draw(problem, sandbox), timing_pool(problem, sandbox, k=10, pool=15)
    )
    return _Inputs(small, pool)


class _State:
    """What the rounds share: the problem, the sandbox, the inputs and the notes."""

    def __init__(
        self, problem: Problem, sandbox: SandboxBackend, inputs: _Inputs, timing_rounds: int
    ) -> None:
        self.problem = problem
        self.sandbox = sandbox
        self.inputs = inputs
        self.timing_rounds = timing_rounds
        self.notes: list[str] = []
        self.sizes: list[int] = []  # the sizes the current version was measured at
        self.current_run: RunResult | None = None  # its run against the tests

    async def growth(self, code: str) -> Any:
        from codegen.evaluation.growth import measure_growth
        from codegen.ranking.growth import Growth

        if not self.inputs.templates:
            return Growth(label="unknown: no input that grows with n")
        try:
            measured = await measure_growth(
                self.problem, {CURRENT: code}, self.inputs.templates, self.sandbox
            )
        except Exception as error:  # growth informs; it never stops an optimisation
            self.notes.append(f"growth not measured: {type(error).__name__}: {error}")
            return Growth(label="unknown: not measured")
        found = measured[CURRENT]
        within = [int(n) for n, seconds in found.points if seconds <= CALL_BUDGET_S]
        self.sizes = within or [int(n) for n, _ in found.points[:1]]
        return found

    def scaled(self) -> list[tuple]:
        """Inputs at the largest sizes the current version reached, shaped like the template."""
        from codegen.ranking.growth import scaled_input

        if not self.inputs.templates or not self.sizes:
            return []
        rng = random.Random(0)
        sizes = sorted(set(self.sizes))[-SCALED_SIZES:]
        return [
            scaled_input(self.inputs.templates[0], n, rng)
            for n in sizes
            for _ in range(SCALED_PER_SIZE)
        ]


async def _round(
    number: int,
    state: _State,
    session: SolveSession,
    report: OptimiseReport,
    growth: Any,
    say: Say,
) -> Step | None:
    problem, current = state.problem, report.code
    scaled = state.scaled()
    profiled_on = scaled[-SCALED_PER_SIZE:] or state.inputs.pool[:TIMING_INPUTS]
    shown = f"{len(profiled_on)} input(s) of size {max(map(_size, profiled_on), default=0)}"
    say("profile", f"round {number}: profiling the current version on {shown}")
    measured = await profile(problem, current, profiled_on, state.sandbox, shown)
    brief = OptimiseBrief(code=current, profile=measured.text, growth=growth.label)
    context = problem.context
    task = GenerationTask(
        entry_point=problem.entry_point,
        stub=problem.prompt,
        optimise=brief,
        module=context.source if context else None,
        context=context.prompt if context and context.prompt else None,
    )
    say("generate", f"round {number}: asking {sum(r.request_count for r in session.rosters)} "
                    "request(s) for a faster equivalent")  # fmt: skip
    result = await _generate(task, session)
    report.requests += sum(r.request_count for r in session.rosters)
    seen = {fingerprint(step.code) for step in report.chain}
    answers: dict[str, str] = {}
    authors: dict[str, str] = {}
    for failure in result.failures:
        state.notes.append(f"round {number}: {failure.model}[{failure.persona}] gave no "
                           f"version: {failure.error_class}: {failure.message}"[:300])  # fmt: skip
    for index, candidate in enumerate(result.candidates, 1):
        if candidate.fingerprint in seen:
            state.notes.append(f"round {number}: {len(candidate.proposers)} answer(s) were a "
                               "version already in the chain")  # fmt: skip
            continue
        cid = f"r{number}.{index}"
        answers[cid] = candidate.code
        first = candidate.proposers[0]
        authors[cid] = f"{first.model}[{first.persona}]"
    if not answers:
        report.stopped = f"round {number}: no new version came back"
        return None
    say("test", f"round {number}: testing {len(answers)} answer(s)")
    runs = await verify(problem, answers, state.sandbox, set_aside=False)
    passing = {cid: code for cid, code in answers.items() if runs[cid].passed}
    for cid in sorted(answers.keys() - passing.keys()):
        report.rejected.append(Rejection(round=number, id=cid, author=authors[cid],
                                         reason="fails the tests", detail=failure_line(runs[cid]),
                                         code=answers[cid]))  # fmt: skip
    inputs = [*state.inputs.differential, *state.inputs.pool, *scaled]
    equivalent, outcomes = await _equivalent(state, current, passing, inputs, report, number,
                                             authors)  # fmt: skip
    if not equivalent:
        report.stopped = f"round {number}: no faster equivalent found"
        return None
    say("timing", f"round {number}: timing {len(equivalent)} equivalent answer(s) with the "
                  "current version")  # fmt: skip
    timed = scaled[-SCALED_PER_SIZE:] or state.inputs.pool[:TIMING_INPUTS]
    positions = (
        [len(inputs) - len(timed) + i for i in range(len(timed))]
        if scaled
        else [len(state.inputs.differential) + i for i in range(len(timed))]
    )
    samples = await _time(state, current, equivalent, timed, positions, outcomes, runs)
    stats = {s.id: s for s in compare_timings(samples)}
    if CURRENT not in stats or not stats:
        report.stopped = f"round {number}: the timing failed"
        return None
    fastest = min(stats.values(), key=lambda s: s.median)
    mine = stats[CURRENT]
    for cid in equivalent:
        if cid != fastest.id or mine.tied_with_fastest:
            detail = _timing_detail(stats, cid)
            report.rejected.append(Rejection(round=number, id=cid, author=authors[cid],
                                             reason="not faster", detail=detail,
                                             code=equivalent[cid]))  # fmt: skip
    if fastest.id == CURRENT or mine.tied_with_fastest:
        report.stopped = f"round {number}: no faster equivalent found"
        return None
    say("accept", f"round {number}: {fastest.id} is {mine.ratio:.2f}× faster")
    state.current_run = runs[fastest.id]
    checked = [args for args, o in zip(inputs, outcomes[CURRENT], strict=True) if o.cause is None]
    return Step(
        round=number,
        id=fastest.id,
        author=authors[fastest.id],
        code=equivalent[fastest.id],
        speedup=mine.ratio,
        speedup_low=mine.ratio_low,
        speedup_high=mine.ratio_high,
        checked_on=[format_call(problem.entry_point, args) for args in checked],
        tests=_passed(runs[fastest.id]),
    )


async def _generate(task: GenerationTask, session: SolveSession) -> GenerationResult:
    from codegen.generation.fanout import generate_each  # litellm: imported when first needed

    return await generate_each(task, [(r, session.throttle_for(r)) for r in session.rosters])


async def _equivalent(
    state: _State,
    current: str,
    passing: dict[str, str],
    inputs: list[tuple],
    report: OptimiseReport,
    number: int,
    authors: dict[str, str],
) -> tuple[dict[str, str], dict[str, list[CallOutcome]]]:
    """The passing answers that behave like the current version on every input, and every
    version's outcomes on ``inputs`` (what the timing holds them to)."""
    if not passing:
        return {}, {}
    outcomes = await call_each(state.problem, {CURRENT: current, **passing}, inputs, state.sandbox,
                               timeouts=len(inputs))  # fmt: skip
    reference = outcomes[CURRENT]
    equivalent = {}
    for cid, code in passing.items():
        difference = first_difference(reference, outcomes[cid], inputs, state.problem.entry_point)
        if difference is None:
            equivalent[cid] = code
            continue
        if difference.limit:  # slower, or stuck: not a behaviour the tests could call wrong
            reason, detail = "not faster", f"hit a limit ({difference.answer}) on {difference.call}"
        else:
            reason = "behaves differently"
            detail = (f"on {difference.call} the current version {difference.reference}, "
                      f"this one {difference.answer}")  # fmt: skip
        report.rejected.append(Rejection(round=number, id=cid, author=authors[cid],
                                         reason=reason, detail=detail, code=code))  # fmt: skip
    answered = evidence_inputs(reference)
    if skipped := len(reference) - answered:
        state.notes.append(f"round {number}: {skipped} input(s) not used: the current version "
                           "hit a limit on them")  # fmt: skip
    if equivalent and answered < MIN_EVIDENCE_INPUTS:
        state.notes.append(f"round {number}: the current version answered only {answered} "
                           "input(s): too few to call any answer equivalent")  # fmt: skip
        for cid in equivalent:
            report.rejected.append(Rejection(round=number, id=cid, author=authors[cid],
                                             reason="not checked", code=equivalent[cid],
                                             detail="too few inputs to compare"))  # fmt: skip
        return {}, outcomes
    return equivalent, outcomes


async def _time(
    state: _State,
    current: str,
    equivalent: dict[str, str],
    timed: list[tuple],
    positions: list[int],
    outcomes: dict[str, list[CallOutcome]],
    runs: dict[str, RunResult],
) -> dict[str, list[float]]:
    """Interleaved rounds of the current version and the equivalent answers on ``timed`` (at
    ``positions`` of the equivalence inputs), each held to the answers it gave there."""
    candidates = {CURRENT: current, **equivalent}
    screened = {cid: [outcomes[cid][i] for i in positions] for cid in candidates}
    tested = {CURRENT: state.current_run or _tested(), **{c: runs[c] for c in equivalent}}
    timing = Timing(
        state.problem,
        Workload(
            state.problem.sandbox_test_files(), InputSet(args=list(timed), origin="type hints")
        ),
        tested,
        screened,
        state.sandbox,
        state.timing_rounds,
        state.notes,
        lambda event: None,
    )
    return await timing.samples(candidates)


def _tested() -> RunResult:
    from sandbox import Verdict

    return RunResult(verdict=Verdict.PASSED)


def _timing_detail(stats: dict[str, Any], cid: str) -> str:
    theirs, mine = stats.get(cid), stats.get(CURRENT)
    if theirs is None:
        return "not timed"
    if mine is not None and theirs.median >= mine.median:
        return f"{theirs.median / mine.median:.2f}× the current version's time"
    return f"faster than the current version only within the noise ({theirs.ratio:.2f}×)"


def _passed(run: RunResult) -> int:
    return sum(1 for t in run.tests if str(t.status) == "passed")


def _size(args: tuple) -> int:
    sizes = [len(a) for a in args if hasattr(a, "__len__")]
    return max(sizes, default=max((abs(a) for a in args if isinstance(a, int)), default=0))


def _signature(problem: Problem) -> str:
    names = ", ".join(p.name for p in problem.parameters or ())
    return f"{problem.entry_point}({names})"
