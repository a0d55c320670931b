"""`codegen rank` end to end: gather the evidence in the sandbox and from the jury, then apply the
pure ranking rule (:mod:`codegen.ranking`). This module only orchestrates I/O.

    verify (all candidates at once) ─▶ differential calls (passing ones, same inputs)
                                     ─▶ interleaved timing (passing ones, one pinned CPU)
                                     ─▶ rank()
    jury (passing ones, in parallel with the calls and the timing) ─────────┘

The calls run before the timing, never beside it: the pool's workers share CPUs with the timing
container, and a busy neighbour is noise. Timing takes ``rounds`` rounds, and as many again when
a candidate looks slower than the fastest but its interval still says "tie": more data settles
it (``benchmarks/test_bench_ranking.py``, 1.3× apart: 17 of 20 rankings right and 3 ties with
10 rounds only, 20 of 20 right with the extra look; equal code still tied 20 of 20).

Nothing is fatal but bad input and a missing sandbox: a judge or a timing job that fails is
recorded (``notes``, the jury's ``failures``) and the ranking goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from codegen.errors import BadInput
from codegen.problems import Problem
from codegen.ranking import (
    DEFAULT_NOISE_FLOOR,
    CandidateEvidence,
    InputSet,
    JudgeSpec,
    JuryResult,
    RankingReport,
    compare_timings,
    draw_inputs,
    rank,
    run_jury,
    samples_from_benchmarks,
    timing_inputs,
)
from codegen.ranking.soft_tests import SET_ASIDE
from codegen.verify import verify
from sandbox import (
    CallOutcome,
    ProblemError,
    RunResult,
    Sandbox,
    SandboxError,
    SandboxUnavailable,
)

DEFAULT_ROUNDS = 10  # paired sign test: 10 rounds give a 97.9 % interval (see statistics)
TIMING_INPUTS = 3  # the largest generated inputs, when a problem has no benchmark tests
TIMING_POOL = 10  # large inputs screened for the workload: some break the preconditions
# Drawn to pick those from: large values cost hypothesis time on the host (30 draws took 0.35 s
# of CPU per HumanEval problem, 15 take 0.18 s) and the largest few are what gets timed.
TIMING_DRAWS = 15
# One generated input's budget in the differential calls and the screening: generated inputs
# are small, so a call past this is stuck (``prime_fib(-3)``) and a timeout is its behaviour;
# after the first one a candidate's remaining inputs are skipped as timeouts too. Without this,
# a stuck candidate cost the whole test budget (10 s) three times per job: two HumanEval
# problems (prime_fib, find_zero) took half the sandbox's time in a leaderboard run.
CALL_SECONDS = 1.0
CALL_TIMEOUTS = 1


@dataclass(frozen=True)
class Event:
    """Progress, for a live display: ``stage`` is verify, behaviour, timing, jury or rank."""

    stage: str
    message: str
    candidate: str | None = None


class InputsUsed(BaseModel):
    """Where differential (or timing) inputs came from, how many, or why there are none."""

    origin: str
    count: int
    reason: str = ""


class RankingRun(RankingReport):
    """The ranking plus how its evidence was gathered, so that a reader can judge it."""

    problem: str
    differential_inputs: InputsUsed
    timing_workload: str  # "benchmark tests", "3 largest generated inputs" or "none: …"
    timing_rounds: int  # rounds run per timed candidate: more when the first ones are unsure
    notes: list[str] = []  # what went wrong without stopping the ranking


async def rank_candidates(
    problem: Problem,
    candidates: dict[str, str],
    sandbox: Sandbox,
    *,
    judges: Sequence[JudgeSpec] | None = None,
    rounds: int = DEFAULT_ROUNDS,
    on_event: Callable[[Event], None] | None = None,
    verified: Mapping[str, RunResult] | None = None,
) -> RankingRun:
    """Rank ``candidates`` (id -> source) for ``problem``; see the module docstring.
    ``verified``: their runs against the visible tests when the caller has them already."""
    emit = on_event or (lambda event: None)
    notes: list[str] = []
    # Hypothesis draws on the host while the sandbox runs the tests.
    drawing = asyncio.create_task(asyncio.to_thread(_draw, problem))
    try:
        if verified is not None:
            runs = {cid: verified[cid] for cid in candidates}
        else:
            runs = await verify(
                problem,
                candidates,
                sandbox,
                on_done=lambda cid, run: emit(Event("verify", _verdict_line(run), cid)),
            )
    except BaseException:
        drawing.cancel()
        raise
    differential, workload = await drawing
    notes += sorted({run.message for run in runs.values() if run.message.startswith(SET_ASIDE)})
    passing = {cid: source for cid, source in candidates.items() if runs[cid].passed}

    jury = None
    if judges and passing:
        emit(Event("jury", f"{len(judges)} judge(s) on {len(passing)} candidate(s)"))
        jury = asyncio.create_task(_jury(problem, passing, judges, notes))
        jury.add_done_callback(lambda task: _jury_done(task, emit))
    screened: dict[str, list[CallOutcome]] = {}
    try:
        outputs = await _behaviour(problem, passing, differential, sandbox, emit)
        if workload is not None and passing:
            workload, screened = await _screen(problem, passing, workload, sandbox)
        samples = await _timing(
            problem, passing, runs, workload, screened, sandbox, rounds, notes, emit
        )
        verdict = await jury if jury else None
    except BaseException:
        if jury:
            jury.cancel()
        raise

    # The timed inputs are behaviour evidence too: a candidate wrong (and cheap) only on large
    # inputs disagrees with the others there.
    inputs = list(differential.args)
    if screened and len(passing) > 1:
        inputs += list(workload.args)  # type: ignore[union-attr]
        outputs = {cid: outputs.get(cid, []) + screened[cid] for cid in passing}
    evidence = [
        CandidateEvidence(
            id=cid,
            source=source,
            run=runs[cid],
            outputs=outputs.get(cid) if len(outputs.get(cid) or []) == len(inputs) else None,
            timing_samples=samples.get(cid),
            timed_outputs=screened.get(cid),
        )
        for cid, source in candidates.items()
    ]
    report = rank(
        evidence,
        weak_tests=problem.weak_tests,
        inputs=inputs,
        entry_point=problem.entry_point,
        jury=verdict,
    )
    emit(Event("rank", f"winner: {report.winner}"))
    return RankingRun(
        **dict(report),
        problem=problem.name,
        differential_inputs=_used(differential),
        timing_workload=_workload_name(workload),
        timing_rounds=max(map(len, samples.values()), default=0),
        notes=notes,
    )


def judge_specs(
    models: Sequence[str], api_base: str | None = None, timeout_s: float = 60.0
) -> list[JudgeSpec]:
    """Judges for model names given on the command line, addressed as the workers are
    (:mod:`codegen.llm.client`): an unknown model is bad input, before any request."""
    from codegen.llm import client

    specs = [JudgeSpec(model=model, api_base=api_base, timeout_s=timeout_s) for model in models]
    for spec in specs:
        try:
            client.resolve(spec)
        except BadInput:
            name = spec.model.split("/")[-1]
            raise BadInput(
                f"unknown judge model {spec.model!r}: use litellm's provider/model form, "
                f"e.g. openai/{name}"
            ) from None
    return specs


def _draw(problem: Problem) -> tuple[InputSet, InputSet | None]:
    """Differential inputs, and the timing workload when there are no benchmark tests."""
    differential = draw_inputs(problem)
    if problem.has_benchmark_tests:
        return differential, None
    return differential, timing_inputs(problem, k=TIMING_POOL, pool=TIMING_DRAWS)


async def _behaviour(
    problem: Problem,
    passing: dict[str, str],
    inputs: InputSet,
    sandbox: Sandbox,
    emit: Callable[[Event], None],
) -> dict[str, list[CallOutcome]]:
    """Every passing candidate on the same inputs; nothing to compare with fewer than two."""
    if len(passing) < 2:
        return {}
    if not inputs.args:
        emit(Event("behaviour", f"skipped: {inputs.reason}"))
        return {}
    emit(Event("behaviour", f"{len(passing)} candidate(s) on {len(inputs.args)} inputs"))
    return await _call_each(problem, passing, inputs.args, sandbox)


async def _call_each(
    problem: Problem, candidates: dict[str, str], inputs: Sequence[tuple], sandbox: Sandbox
) -> dict[str, list[CallOutcome]]:
    """Every candidate on the same inputs, each call under CALL_SECONDS."""
    calls = [(tuple(args), {}) for args in inputs]
    limits = sandbox.limits.model_copy(
        update={"test_seconds": min(sandbox.limits.test_seconds, CALL_SECONDS)}
    )
    outcomes = await asyncio.gather(
        *(
            sandbox.call(source, problem.entry_point, calls, limits, CALL_TIMEOUTS)
            for source in candidates.values()
        )
    )
    return dict(zip(candidates, outcomes, strict=True))


async def _timing(
    problem: Problem,
    passing: dict[str, str],
    runs: dict[str, RunResult],
    workload: InputSet | None,
    screened: dict[str, list[CallOutcome]],
    sandbox: Sandbox,
    rounds: int,
    notes: list[str],
    emit: Callable[[Event], None],
) -> dict[str, list[float]]:
    """Interleaved CPU-time samples per candidate: ``rounds`` rounds, then as many again when a
    candidate looks slower than the fastest by more than the noise floor but the interval
    cannot confirm it yet (one look more; equal code stays a tie, see the benchmark)."""
    if not passing:
        return {}
    if workload is not None and not workload.args:
        notes.append(f"not timed: no benchmark tests and no inputs ({workload.reason})")
        return {}
    inputs = [(tuple(args), {}) for args in workload.args] if workload else None
    emit(Event("timing", f"{len(passing)} candidate(s), {rounds} interleaved rounds"))
    batch = _TimingBatch(problem, runs, inputs, screened, sandbox, rounds, notes, emit)
    samples = await batch.time(passing)
    undecided = _undecided(samples)
    if undecided:
        emit(Event("timing", f"{rounds} more rounds: {', '.join(undecided)} may be slower"))
        more = await batch.time({cid: passing[cid] for cid in samples})
        if more:  # else the extra job failed as a whole: keep what the first one measured
            samples = {cid: samples[cid] + more[cid] for cid in more}
    return samples


async def _screen(
    problem: Problem, passing: dict[str, str], workload: InputSet, sandbox: Sandbox
) -> tuple[InputSet, dict[str, list[CallOutcome]]]:
    """The largest generated inputs that at least one passing candidate handles, and every
    passing candidate's outcomes on them (what each must answer again when timed). An input
    that makes every one of them raise breaks the problem's preconditions and would time
    nothing; one that only some fail on stays, and those are not timed (they fail on valid
    input). Screens the largest first, a timing round's worth at a time: usually one is enough."""
    usable: list[tuple] = []
    screened: dict[str, list[CallOutcome]] = {cid: [] for cid in passing}
    pool = list(workload.args)
    while pool and len(usable) < TIMING_INPUTS:
        batch, pool = pool[:TIMING_INPUTS], pool[TIMING_INPUTS:]
        outcomes = await _call_each(problem, passing, batch, sandbox)
        for i, args in enumerate(batch):
            if len(usable) < TIMING_INPUTS and any(o[i].ok for o in outcomes.values()):
                usable.append(args)
                for cid, outcome in outcomes.items():
                    screened[cid].append(outcome[i])
    reason = workload.reason or "every generated input made every passing candidate raise"
    return workload.model_copy(update={"args": usable, "reason": reason}), screened


def _undecided(samples: dict[str, list[float]]) -> list[str]:
    """Tied with the fastest, yet with a median ratio beyond the noise floor."""
    return [
        t.id
        for t in compare_timings(samples)
        if t.tied_with_fastest and t.ratio > DEFAULT_NOISE_FLOOR
    ]


@dataclass
class _TimingBatch:
    """One interleaved timing job at a time, on one workload. A candidate that fails while
    being timed (a limit, an error, another answer than when tested or screened, breaking the
    job) fails outright, as in a test: timing rounds are more runs of the same workload."""

    problem: Problem
    runs: dict[str, RunResult]  # updated with the failures met while timing
    inputs: list[tuple[tuple, dict]] | None
    screened: dict[str, list[CallOutcome]]
    sandbox: Sandbox
    rounds: int
    notes: list[str]
    emit: Callable[[Event], None]

    async def time(self, candidates: dict[str, str]) -> dict[str, list[float]]:
        try:
            timing = await self.sandbox.time(
                self.problem.sandbox_test_files(),
                self.problem.entry_point,
                candidates,
                rounds=self.rounds,
                inputs=self.inputs,
                tested={cid: self.runs[cid] for cid in candidates},
                screened={cid: self.screened[cid] for cid in candidates if cid in self.screened},
            )
        except (ProblemError, SandboxUnavailable):
            raise
        except SandboxError as error:  # the whole timing job failed: rank on what is known
            self.notes.append(f"not timed: {error}")
            self.emit(Event("timing", f"failed: {error}"))
            return {}
        self.notes += timing.notes
        if timing.truncated:
            got = min((len(s[0].samples) for s in timing.timings.values() if s), default=0)
            self.notes.append(f"timing cut short: {got} of {self.rounds} rounds (time limit)")
        for cid, fault in timing.errors.items():
            self.runs[cid] = self.runs[cid].model_copy(
                update={
                    "verdict": fault.verdict,
                    "message": f"failed while being timed: {fault.message}",
                }
            )
            self.notes.append(f"{cid}: failed while being timed: {fault.message}")
            self.emit(Event("timing", f"failed while being timed: {fault.message}", cid))
        return {
            cid: samples_from_benchmarks(stats)
            for cid, stats in timing.timings.items()
            if cid not in timing.errors
        }


def _jury_done(task: asyncio.Task[JuryResult | None], emit: Callable[[Event], None]) -> None:
    """Says when the jury is back (it sits beside the calls and the timing, not after them)."""
    if not task.cancelled() and (verdict := task.result()) is not None:
        emit(Event("jury", f"{len(verdict.ballots)} ballot(s), {len(verdict.failures)} failed"))


async def _jury(
    problem: Problem, passing: dict[str, str], judges: Sequence[JudgeSpec], notes: list[str]
) -> JuryResult | None:
    """The jury's own failures are in its result; this catches the rest (never fatal)."""
    try:
        return await run_jury(passing, judges, task=problem.prompt)
    except Exception as error:
        notes.append(f"jury skipped: {type(error).__name__}: {error}")
        return None


def _used(inputs: InputSet) -> InputsUsed:
    return InputsUsed(origin=inputs.origin, count=len(inputs.args), reason=inputs.reason)


def _workload_name(workload: InputSet | None) -> str:
    if workload is None:
        return "benchmark tests"
    if not workload.args:
        return f"none: {workload.reason}"
    return f"{len(workload.args)} largest generated inputs ({workload.origin})"


def _verdict_line(run: RunResult) -> str:
    first = run.message.strip().splitlines()[0] if run.message.strip() else ""
    return f"{run.verdict}" + (f": {first}" if first else "")
