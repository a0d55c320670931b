"""`codegen solve` as a library function: the product's whole flow, I/O orchestration only.

    generate (every roster, in parallel) ─▶ dedupe ─▶ sandbox (all candidates at once)
        └─ nothing passes: one repair round (failing code + test output back to the models,
           a bounded number of extra requests, in parallel) ─▶ sandbox the new ones
    passing ones ─▶ rank_candidates (timing, behaviour, jury) ─▶ winner ─▶ SolveReport

The sandbox pool opens while the models generate, and a first job checks that the problem's
tests load, so broken tests or a missing Docker stop the run before it waits on the models.
Progress goes to `on_event` as the small events below.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from codegen.errors import BadInput, EnvironmentProblem
from codegen.generation import (
    Candidate,
    Failure,
    GenerationEvent,
    GenerationResult,
    GenerationTask,
    RepairFeedback,
    Roster,
)
from codegen.llm.throttle import Throttle
from codegen.problems import Problem
from codegen.rank_pipeline import Event as RankEvent
from codegen.rank_pipeline import RankingRun, rank_candidates
from codegen.session import SolveSession, describe_rosters
from codegen.solve_report import (
    CandidateSummary,
    Round,
    SolveReport,
    Totals,
    closeness,
    feedback_text,
    tests_passed,
)
from codegen.verify import set_aside_examples, verify
from sandbox import ProblemError, RunResult, Sandbox, SandboxJob, Verdict

log = logging.getLogger(__name__)
# A litellm request cancelled mid-way (a deadline, a failed run, Ctrl-C) leaves an inner coroutine
# unawaited; Python then prints a warning that would break the CLI's one-line errors.
warnings.filterwarnings(
    "ignore", message=r"coroutine '.*acompletion' was never awaited", category=RuntimeWarning
)

CLOSEST_SHOWN = 3
UNREACHABLE = {"APIConnectionError"}
NO_ACCESS = {"AuthenticationError", "PermissionDeniedError"}
UNKNOWN_MODEL = {"NotFoundError"}


@dataclass(frozen=True)
class GenerationProgress:
    round: Round
    event: GenerationEvent


@dataclass(frozen=True)
class CandidateProgress:
    """A candidate's sandbox run: `status` is "testing" or the verdict."""

    candidate: str
    status: str
    author: str = ""
    detail: str = ""


@dataclass(frozen=True)
class JudgeProgress:
    judge: str
    status: str  # judging | done | failed
    detail: str = ""


@dataclass(frozen=True)
class StageProgress:
    stage: str  # generate | repair | sandbox | behaviour | timing | jury | rank | done
    message: str


SolveEvent = GenerationProgress | CandidateProgress | JudgeProgress | StageProgress
EventCallback = Callable[[SolveEvent], None]


@dataclass
class _Entry:
    id: str
    candidate: Candidate
    round: Round
    repair_of: str | None = None
    run: RunResult | None = None


@dataclass
class _Run:
    problem: Problem
    session: SolveSession
    emit: EventCallback
    entries: dict[str, _Entry] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    requests: int = 0
    phases: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(
        self, candidates: Sequence[Candidate], stage: Round, repair_of: str | None
    ) -> list[str]:
        """Record new programs (a repeat only adds its proposers); returns the new ids."""
        by_fingerprint = {e.candidate.fingerprint: e for e in self.entries.values()}
        new = []
        prefix = "c" if stage == "initial" else "r"
        for candidate in candidates:
            known = by_fingerprint.get(candidate.fingerprint)
            if known is not None:
                known.candidate.proposers.extend(candidate.proposers)
                continue
            cid = f"{prefix}{sum(e.round == stage for e in self.entries.values()) + 1}"
            entry = _Entry(cid, candidate.model_copy(deep=True), stage, repair_of)
            self.entries[cid] = by_fingerprint[candidate.fingerprint] = entry
            new.append(cid)
        return new


async def solve(
    problem: Problem, session: SolveSession, *, on_event: EventCallback | None = None
) -> SolveReport:
    """Generate, test, repair once if nothing passes, rank; see the module docstring."""
    run = _Run(problem, session, _safe(on_event))
    started = time.perf_counter()
    task = generation_task(problem)

    run.emit(StageProgress("generate", f"{_requests(session.rosters)} request(s)"))
    generating = asyncio.create_task(_generate_all(run, task, session.rosters, "initial"))
    try:
        sandbox = await session.sandbox()
        await check_tests_load(problem, sandbox)
        result = await generating
    except BaseException:
        generating.cancel()
        await asyncio.gather(generating, return_exceptions=True)
        raise
    run.phases["generate_s"] = time.perf_counter() - started
    _check_reachable(result, session)
    await _test(run, sandbox, run.add(result.candidates, "initial", None))

    settings = session.settings
    repaired = False
    if not _passing(run) and settings.repair.enabled and run.entries:
        mark = time.perf_counter()
        repaired = True
        await _repair(run, sandbox)
        run.phases["repair_s"] = time.perf_counter() - mark
    _set_aside_examples(run)

    ranking = None
    passing = _passing(run)
    if passing:
        mark = time.perf_counter()
        ranking = await _rank(run, sandbox, passing)
        run.phases["rank_s"] = time.perf_counter() - mark
    winner = ranking.winner if ranking else None
    hidden = await _hidden_verdict(run, sandbox, winner)
    run.phases["total_s"] = time.perf_counter() - started
    report = _report(run, ranking, winner, hidden, repaired)
    run.emit(StageProgress("done", f"winner: {winner}" if winner else "no passing candidate"))
    return report


def generation_task(problem: Problem) -> GenerationTask:
    """What the models see: the stub (or text) and the visible tests written as files; doctest
    and smoke tests are not shown, the stub already holds their examples."""
    shown = [t for t in problem.visible_tests if t.origin == "file"]
    tests = "\n\n".join(f"# {t.name}\n{t.source.strip()}" for t in shown) or None
    return GenerationTask(
        entry_point=problem.entry_point, stub=problem.stub or problem.prompt, visible_tests=tests
    )


async def check_tests_load(problem: Problem, sandbox: Sandbox) -> None:
    """Run the tests once against a placeholder: tests that do not import are bad input, found
    before any model is waited on."""
    placeholder = f"def {problem.entry_point}(*args, **kwargs):\n    raise NotImplementedError\n"
    job = SandboxJob(
        entry_point=problem.entry_point,
        test_files=problem.sandbox_test_files(),
        candidate=placeholder,
        limits=sandbox.limits,
    )
    try:
        await sandbox.run(job)
    except ProblemError as error:
        first = (str(error).strip().splitlines() or ["the tests do not load"])[0]
        raise BadInput(f"{problem.origin or problem.name}: {first}; fix the tests") from None


async def _generate_all(
    run: _Run,
    task: GenerationTask,
    rosters: Sequence[Roster],
    stage: Round,
    throttle: Throttle | None = None,
) -> GenerationResult:
    """Every roster at once (hosted and embedded servers have different limits); merged."""

    from codegen.generation.fanout import generate  # litellm: imported when first needed

    def relay(event: GenerationEvent) -> None:
        run.emit(GenerationProgress(stage, event))

    results = await asyncio.gather(
        *(generate(task, r, on_event=relay, throttle=throttle) for r in rosters)
    )
    run.requests += sum(r.request_count for r in rosters)
    merged = GenerationResult()
    for result in results:
        merged.candidates.extend(result.candidates)
        merged.failures.extend(result.failures)
        merged.cancelled += result.cancelled
    run.failures.extend(merged.failures)
    return merged


def _check_reachable(result: GenerationResult, session: SolveSession) -> None:
    """No candidate at all because every server was unreachable, refused the key or does not
    know the model: that is the environment or the input, not a model failing the task."""
    if result.candidates or not result.failures:
        return
    from codegen.llm import client as model_client

    classes = {f.error_class for f in result.failures}
    first = result.failures[0]
    bases = sorted({w.api_base or model_client.resolve(w)[1] or "its default URL"
                    for w in session.workers})  # fmt: skip
    if classes <= UNREACHABLE:
        raise EnvironmentProblem(
            f"cannot reach the model server ({', '.join(bases)}): start it, or fix api_base "
            f"/ OPENAI_API_BASE ({first.message[:120]})"
        )
    if classes <= NO_ACCESS:
        raise EnvironmentProblem(
            f"{first.model} refused the API key ({first.error_class}): export a valid key"
        )
    if classes <= UNKNOWN_MODEL:
        raise BadInput(f"unknown model {first.model!r}: its server does not serve it")


async def _test(run: _Run, sandbox: Sandbox, ids: Sequence[str]) -> None:
    """All new candidates through the sandbox at once."""
    if not ids:
        return
    run.emit(StageProgress("sandbox", f"testing {len(ids)} candidate(s)"))
    for cid in ids:
        run.emit(CandidateProgress(cid, "testing", _author(run.entries[cid])))

    def done(cid: str, result: RunResult) -> None:
        _show_verdict(run, cid, result)

    sources = {cid: run.entries[cid].candidate.code for cid in ids}
    try:
        # Every example counts until the repair round had its chance: see _set_aside_examples.
        results = await verify(run.problem, sources, sandbox, on_done=done, set_aside=False)
    except ProblemError as error:
        first = (str(error).strip().splitlines() or ["the tests do not load"])[0]
        raise BadInput(f"{run.problem.origin or run.problem.name}: {first}") from None
    for cid, result in results.items():
        run.entries[cid].run = result


def _set_aside_examples(run: _Run) -> None:
    """After the repair round (whose prompts show the failed examples), a call example that no
    candidate satisfies, first round or repaired, is set aside: more likely wrong than them all
    (:mod:`codegen.ranking.soft_tests`)."""
    tested = {cid: e.run for cid, e in run.entries.items() if e.run is not None}
    for cid, result in set_aside_examples(run.problem, tested).items():
        if result is not tested[cid]:
            run.entries[cid].run = result
            _show_verdict(run, cid, result)


def _show_verdict(run: _Run, cid: str, result: RunResult) -> None:
    passed, total = tests_passed(result)
    why = result.message.strip().splitlines()[0] if result.message.strip() else ""
    detail = f"{passed}/{total} tests" + (f": {why}" if why else "")
    run.emit(CandidateProgress(cid, result.verdict.value, _author(run.entries[cid]), detail))


async def _repair(run: _Run, sandbox: Sandbox) -> None:
    """One round: the closest failures and their test output go back to the models, at most
    `max_candidates` requests, spread over the workers and sent in parallel, under the same
    caps as the fan-out (one Throttle per roster, shared by all its repair requests)."""
    settings = run.session.settings.repair
    failing = sorted(
        (e for e in run.entries.values() if e.run is not None),
        key=lambda e: closeness(e.run),  # type: ignore[arg-type]
    )[: settings.failing_shown]
    pairs = [(roster, w) for roster in run.session.rosters for w in roster.workers]
    if not failing or not pairs:
        return
    count = settings.max_candidates
    run.emit(StageProgress("repair", f"{count} repair request(s) from {len(failing)} failure(s)"))
    throttles = {
        id(roster): Throttle(roster.limits.max_concurrency, roster.limits.per_provider)
        for roster in run.session.rosters
    }

    async def one(index: int) -> tuple[str, GenerationResult]:
        entry = failing[index % len(failing)]
        roster, worker = pairs[index % len(pairs)]
        feedback = RepairFeedback(
            code=entry.candidate.code,
            test_output=feedback_text(entry.run, settings.feedback_chars),  # type: ignore[arg-type]
        )
        task = generation_task(run.problem).model_copy(update={"feedback": feedback})
        single = Roster(
            workers=(worker.model_copy(update={"samples": 1, "sample_offset": index}),),
            limits=roster.limits,
        )
        throttle = throttles[id(roster)]
        return entry.id, await _generate_all(run, task, [single], "repair", throttle)

    outcomes = await asyncio.gather(*(one(i) for i in range(count)))
    new: list[str] = []
    for repair_of, result in outcomes:
        new.extend(run.add(result.candidates, "repair", repair_of))
    await _test(run, sandbox, new)


async def _rank(run: _Run, sandbox: Sandbox, passing: dict[str, str]) -> RankingRun:
    """Rank the passing candidates; the jury only sits when there is more than one."""
    judges = run.session.judges if len(passing) > 1 else []
    names: list[str] = []

    def relay(event: RankEvent) -> None:
        if event.stage == "jury" and not names:
            names.extend(j.model for j in judges)
            for name in names:
                run.emit(JudgeProgress(name, "judging"))
        who = f"{event.candidate}: " if event.candidate else ""
        run.emit(StageProgress(event.stage, who + event.message))

    run.emit(StageProgress("rank", f"ranking {len(passing)} passing candidate(s)"))
    ranking = await rank_candidates(
        run.problem,
        passing,
        sandbox,
        judges=judges or None,
        rounds=run.session.settings.sandbox.timing_rounds,
        on_event=relay,
        verified={cid: run.entries[cid].run for cid in passing},
    )
    if ranking.jury is not None:
        for judge in dict.fromkeys(names):
            ballots = sum(b.judge.split("#")[0] == judge for b in ranking.jury.ballots)
            failed = [f for f in ranking.jury.failures if f.judge.split("#")[0] == judge]
            status = "done" if ballots else "failed"
            detail = f"{ballots} ballot(s)" + (f", {failed[0].kind}: {failed[0].message}"
                                               if failed else "")  # fmt: skip
            run.emit(JudgeProgress(judge, status, detail))
    return ranking


async def _hidden_verdict(run: _Run, sandbox: Sandbox, winner: str | None) -> Verdict | None:
    """The winner on the hidden tests (a HumanEval `check`), reported, never used to choose."""
    if winner is None or not run.problem.has_hidden_tests:
        return None
    code = {winner: run.entries[winner].candidate.code}
    try:
        results = await verify(run.problem, code, sandbox, hidden=True)
    except ProblemError as error:
        run.notes.append(f"hidden tests not run: {error}")
        return None
    return results[winner].verdict


def _passing(run: _Run) -> dict[str, str]:
    return {
        cid: e.candidate.code
        for cid, e in run.entries.items()
        if e.run is not None and e.run.passed
    }


def _report(
    run: _Run,
    ranking: RankingRun | None,
    winner: str | None,
    hidden: Verdict | None,
    repaired: bool,
) -> SolveReport:
    summaries = {cid: _summary(e, ranking) for cid, e in run.entries.items()}
    ranked = sorted((s for s in summaries.values() if s.rank is not None), key=lambda s: s.rank)
    rest = sorted(
        (s for s in summaries.values() if s.rank is None),
        key=lambda s: closeness(run.entries[s.id].run) if run.entries[s.id].run else (1.0, 9),
    )
    candidates = ranked + rest
    proposals = [p for s in candidates for p in s.proposers]
    problem = run.problem
    return SolveReport(
        problem=problem.name,
        entry_point=problem.entry_point,
        origin=problem.origin,
        solved=winner is not None,
        winner=winner,
        code=run.entries[winner].candidate.code if winner else None,
        hidden_tests=hidden,
        repair_round=repaired,
        candidates=candidates,
        closest=[] if winner else [s.id for s in rest[:CLOSEST_SHOWN]],
        generation_failures=run.failures,
        roster=describe_rosters(run.session.rosters),
        judges=[j.model for j in run.session.judges],
        totals=Totals(
            requests=run.requests,
            candidates=len(candidates),
            passing=sum(s.verdict is Verdict.PASSED for s in candidates),
            prompt_tokens=sum(p.prompt_tokens for p in proposals),
            completion_tokens=sum(p.completion_tokens for p in proposals),
            cost_usd=sum(p.cost_usd for p in proposals),
        ),
        phases_s={k: round(v, 3) for k, v in run.phases.items()},
        ranking=ranking,
        notes=[*run.notes, *(ranking.notes if ranking else [])],
        warnings=list(problem.warnings),
    )


def _summary(entry: _Entry, ranking: RankingRun | None) -> CandidateSummary:
    first = entry.candidate.proposers[0]
    proposers = entry.candidate.proposers
    run = entry.run or RunResult(verdict=Verdict.ERROR, message="not run")
    ranked = None
    if ranking is not None:
        ranked = next((c for c in ranking.candidates if c.id == entry.id), None)
    passed, total = tests_passed(run)
    return CandidateSummary(
        id=entry.id,
        round=entry.round,
        repair_of=entry.repair_of,
        model=first.model,
        persona=first.persona,
        proposers=proposers,
        prompt_tokens=sum(p.prompt_tokens for p in proposers),
        completion_tokens=sum(p.completion_tokens for p in proposers),
        cost_usd=sum(p.cost_usd for p in proposers),
        latency_s=first.latency_s,
        verdict=ranked.verdict if ranked else run.verdict,
        tests_passed=passed,
        tests_total=total,
        message=(ranked.message if ranked and ranked.message else run.message),
        cpu_seconds=run.cpu_seconds,
        wall_seconds=run.wall_seconds,
        peak_memory_mb=run.peak_memory_mb,
        timing=ranked.timing if ranked else None,
        rank=ranked.rank if ranked else None,
        tied=ranked.tied if ranked else False,
        explanation=ranked.explanation if ranked else "",
        code=entry.candidate.code,
    )


def _author(entry: _Entry) -> str:
    first = entry.candidate.proposers[0]
    more = len(entry.candidate.proposers) - 1
    return f"{first.model}[{first.persona}]" + (f" +{more}" if more else "")


def _requests(rosters: Sequence[Roster]) -> int:
    return sum(r.request_count for r in rosters)


def _safe(on_event: EventCallback | None) -> EventCallback:
    """A broken progress display must not end the run."""

    def emit(event: SolveEvent) -> None:
        if on_event is None:
            return
        try:
            on_event(event)
        except Exception:
            log.exception("on_event callback failed")

    return emit
