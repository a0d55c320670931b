"""All sandbox work for one problem, wherever it runs (the driver's pool or a Ray worker):

1. every distinct candidate against the hidden tests (HumanEval's ``check``): the evaluation's
   ``hidden_tests`` policy, beside the ranking;
2. at the same time, the ensemble's pick: the ranking sees only the visible tests, with
   each program's votes (samples that wrote it) and the model-written tests as soft evidence;
   its confidence is the pick's share of that evidence. Without hidden tests (a folder suite
   may have none) the visible ones judge.
3. the efficiency of each candidate that passes the hidden tests: its median CPU time over the
   canonical solution's, both from the same interleaved timing rounds in one container. The
   canonical solution runs in the ranking's own timing job (trusted, never ranked), so each
   problem is timed once; only when that job leaves a ratio out (the canonical or a candidate
   failed or was not timed there, or nothing was timed) are the candidates that pass the
   hidden tests timed again with it, on the hidden tests, as one job of their own.

Data in, data out (:class:`EvalRequest` → :class:`Evaluation`), so a Ray worker can run it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable
from typing import TypeVar

from codegen.bench.records import CandidateOutcome, EvalRequest, Evaluation
from codegen.evaluation import Event, pipeline, timing_workload
from codegen.evaluation.policy import Policy
from codegen.evaluation.workload import TIMING_INPUTS
from codegen.problems import Problem
from codegen.ranking import samples_from_benchmarks
from sandbox import RunResult, SandboxBackend, SandboxError, SandboxUnavailable, TimingJob

CANONICAL = "canonical"
T = TypeVar("T")


async def evaluate(request: EvalRequest, sandbox: SandboxBackend) -> Evaluation:
    problem, candidates = request.problem, request.candidates
    if not candidates:
        return Evaluation(candidates={}, pick_reason="no candidate to judge")
    phases: dict[str, float] = {}
    started = time.perf_counter()
    stages: dict[str, list[float]] = {"verify": [started, started]}  # first and last event

    def mark(event: Event) -> None:
        now = time.perf_counter()
        stages.setdefault(event.stage, [now, now])[1] = now

    policy = Policy(
        rounds=request.rounds,
        growth=False,  # a leaderboard scores picks and efficiency ratios, not growth
        judges=tuple(request.judges),
        reference=problem.canonical_solution or None,
        hidden_tests=True,  # the truth: beside the ranking, never seen by it
    )
    evaluation = pipeline.Evaluation(problem, sandbox, policy, on_event=mark)
    ids = evaluation.ledger.give(candidates, request.votes or None, request.authors or None)
    try:
        await evaluation.verify(ids)
        ranking = await evaluation.rank(request.generated_tests)
        phases["ranking"] = time.perf_counter() - started
        hidden = await evaluation.hidden_runs()
    finally:
        evaluation.cancel()
    phases["sandbox"] = evaluation.hidden_s
    phases.update(_stage_durations(stages, started + phases["ranking"]))
    outcomes = {cid: _outcome(run) for cid, run in hidden.items()}
    notes = list(ranking.notes)
    if ranking.winner is None:
        reason = "no candidate passes the visible tests"
    else:
        reason = f"ranked first of {sum(c.passed for c in ranking.candidates)} passing visible"
    canonical_s = efficiency_from(outcomes, ranking.timed, ranking.reference_timed)
    if canonical_s is None and any(o.passed for o in outcomes.values()):
        canonical_s = await _timed(
            phases,
            "timing",
            _efficiency(problem, candidates, hidden, outcomes, sandbox, request.rounds, notes),
        )
    return Evaluation(
        candidates=outcomes,
        pick=ranking.winner,
        pick_reason=reason,
        confidence=ranking.confidence if ranking.winner is not None else None,
        evidence=ranking.evidence if ranking.winner is not None else "",
        canonical_s=canonical_s,
        phases=phases,
        notes=notes,
    )


async def _timed(phases: dict[str, float], name: str, work: Awaitable[T]) -> T:
    started = time.perf_counter()
    try:
        return await work
    finally:
        phases[name] = phases.get(name, 0.0) + time.perf_counter() - started


def _stage_durations(stages: dict[str, list[float]], end: float) -> dict[str, float]:
    """Seconds of each ranking stage: ``ranking.verify``, ``ranking.behaviour`` and
    ``ranking.timing`` follow each other (each lasts until the next one first reports);
    ``ranking.jury`` sits beside them, from its first report to its last."""
    marks = sorted((times[0], s) for s, times in stages.items() if s not in ("rank", "jury"))
    bounds = [t for t, _ in marks[1:]] + [end]
    durations = {
        f"ranking.{stage}": max(0.0, stop - t)
        for (t, stage), stop in zip(marks, bounds, strict=True)
    }
    if "jury" in stages:
        durations["ranking.jury"] = stages["jury"][1] - stages["jury"][0]
    return durations


def _outcome(run: RunResult) -> CandidateOutcome:
    infra = run.sandbox_fault  # retried on the next run, never counted against the model
    return CandidateOutcome(
        verdict=str(run.verdict),
        passed=run.passed,
        message=run.message.splitlines()[0][:300] if run.message else "",
        infra=infra,
        cpu_seconds=run.cpu_seconds,
    )


def efficiency_from(
    outcomes: dict[str, CandidateOutcome],
    timed: dict[str, list[float]],
    reference: list[float] | None,
) -> float | None:
    """The canonical solution's median from the ranking's timing rounds, and each candidate's
    ratio to it, filled in when every candidate that passes the hidden tests was timed there
    beside it; else None and nothing filled in (all ratios of a problem come from one job)."""
    passing = [cid for cid, o in outcomes.items() if o.passed]
    if not reference or not passing or any(not timed.get(cid) for cid in passing):
        return None
    canonical_s = statistics.median(reference)
    if canonical_s <= 0:
        return None
    for cid in passing:
        median = statistics.median(timed[cid])
        outcomes[cid].time_median_s = median
        outcomes[cid].efficiency = median / canonical_s
    return canonical_s


async def _efficiency(
    problem: Problem,
    candidates: dict[str, str],
    runs: dict[str, RunResult],
    outcomes: dict[str, CandidateOutcome],
    sandbox: SandboxBackend,
    rounds: int,
    notes: list[str],
) -> float | None:
    """Time the passing candidates with the canonical solution, on the hidden tests, as a job
    of their own; fill in their ratios. Their runs on the hidden tests bound how long a
    timing round of each may take."""
    passing = {cid: candidates[cid] for cid, o in outcomes.items() if o.passed}
    if not passing or not problem.canonical_solution:
        return None
    workload = await timing_workload(problem, sandbox, hidden=True)  # hidden tests: fair game
    if workload.empty:
        notes.append("not timed: no timing workload")
        return None
    inputs = workload.calls[:TIMING_INPUTS] if workload.calls else None
    timed = {CANONICAL: problem.canonical_solution, **passing}
    try:
        job = TimingJob(
            test_files=workload.files,
            entry_point=problem.entry_point,
            candidates=timed,
            rounds=rounds,
            inputs=inputs,
            tested={cid: runs[cid] for cid in passing},
        )
        result = await sandbox.time(job)
    except SandboxUnavailable:
        raise
    except SandboxError as error:
        notes.append(f"not timed: {error}")
        return None
    medians = {
        cid: statistics.median(samples)
        for cid, stats in result.timings.items()
        if cid not in result.errors and (samples := samples_from_benchmarks(stats))
    }
    for cid, failure in result.errors.items():
        notes.append(f"{'canonical' if cid == CANONICAL else cid} failed while timed: {failure}")
    reference = medians.get(CANONICAL)
    for cid in passing:
        if cid in medians:
            outcomes[cid].time_median_s = medians[cid]
            if reference:
                outcomes[cid].efficiency = medians[cid] / reference
    return reference
