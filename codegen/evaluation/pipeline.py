"""The one evaluation path: gather the evidence in the sandbox and from the jury, then apply the
pure ranking rule (:mod:`codegen.ranking`). This module only orchestrates I/O.

    verify (all candidates at once)   ─▶ decided? (one passes, or none)
    differential calls and model-written tests (passing ones, same inputs)
    the timing workload, screened
    interleaved timing, first job     ─▶ decided? (no second look, growth and jury can't move it)
    a second look, when a candidate is undecided                        ─▶ decided?
    growth: the timed ones on inputs of doubling size                   ─▶ decided?
    jury (passing ones, beside all of the above) ─▶ rank() on all the evidence

The calls run before the timing, never beside it: the pool's workers share CPUs with the timing
container, and a busy neighbour is noise.

**Decide early, report fully.** After each step the ranking of the evidence so far is checked
against what is still to come (:mod:`codegen.ranking.decision`): once nothing pending can
change its winner, the winner is *decided*: an ``Event("decided")``, ``on_decided`` (solve
shows and returns the answer then), and with ``enrich=False`` (``--fast``) the ranking stops
there. Otherwise the rest still runs, only enriching the report, and the final ranking (all
the evidence, the same rule) names the same winner, by construction
(``tests/test_early_decision.py``). The report says when it was decided (``decision``).

:class:`Evaluation` writes what it learns into the candidates' records (:mod:`ledger`), so that
``codegen solve`` can verify each generation round as it comes, give the repair round its
chance, and then rank, all on one ledger; ``codegen rank`` and ``codegen bench`` call
:func:`rank_candidates`. What it measures beyond the tests is one :class:`Policy`, given
when it is built.

Nothing is fatal but bad input and a missing sandbox: a judge, a timing job or a growth
measurement that fails is recorded (``notes``, the jury's ``failures``) and the ranking goes on.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from codegen.evaluation.behaviour import behaviour, screen, screen_copies, tested_arguments
from codegen.evaluation.events import Event
from codegen.evaluation.growth import growth_templates, measure_growth
from codegen.evaluation.ledger import Ledger
from codegen.evaluation.policy import Policy
from codegen.evaluation.report import DEFAULT_ROUNDS, InputsUsed, RankingRun
from codegen.evaluation.timing import Timing, undecided
from codegen.evaluation.verify import run_placeholder, set_aside_examples, verify
from codegen.evaluation.workload import Drawn, Workload, draw, perturbed_benchmark
from codegen.problems import Problem
from codegen.ranking import (
    CandidateEvidence,
    GeneratedTest,
    Growth,
    InputSet,
    JudgeSpec,
    JuryResult,
    run_jury,
)
from codegen.ranking.decision import Decision, Pending, Stage, decide
from codegen.ranking.inputs import example_args, input_size
from codegen.ranking.rule import Ordering, ordering
from sandbox import CallOutcome, RunResult, SandboxBackend, SandboxUnavailable


class Evaluation:
    """Every candidate of one problem, verified once, then ranked on the evidence; what it
    learns about each is written into the candidate's record (:mod:`ledger`)."""

    def __init__(
        self,
        problem: Problem,
        sandbox: SandboxBackend,
        policy: Policy | None = None,
        *,
        ledger: Ledger | None = None,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        self.problem = problem
        self.sandbox = sandbox
        self.policy = policy or Policy()
        self.ledger = ledger if ledger is not None else Ledger()
        self.emit = on_event or (lambda event: None)
        # The run's secret: the tests' random data and the generated timing inputs come from
        # it, so no candidate can know in advance what it will be timed on.
        self.seed = self.policy.seed or secrets.token_hex(8)
        self._drawing: asyncio.Task[Drawn] | None = None
        self._hidden: list[asyncio.Task[None]] = []  # the hidden tests, beside everything
        self.hidden_s = 0.0  # the seconds they took, summed over their batches

    async def verify(
        self,
        ids: Sequence[str],
        *,
        set_aside: bool = True,
        on_done: Callable[[str, RunResult], None] | None = None,
    ) -> dict[str, RunResult]:
        """Run the ledger's candidates ``ids`` against the visible tests, all at once, and
        write each run into its record. With ``set_aside`` (the default), call examples no
        candidate satisfies are set aside right away; a caller that first gives the models a
        repair round passes False and calls :meth:`set_aside_examples` after it."""
        self.start_drawing()  # the inputs are drawn in the sandbox beside the tests
        if self.policy.hidden_tests:
            self._hidden.append(asyncio.create_task(self._verify_hidden(ids)))

        def done(cid: str, run: RunResult) -> None:
            self.emit(Event("verify", _verdict_line(run), cid))
            if on_done is not None:
                on_done(cid, run)

        runs = await verify(
            self.problem, self.ledger.sources(ids), self.sandbox, on_done=done, set_aside=False,
            seed=self.seed,
        )  # fmt: skip
        for cid, run in runs.items():
            self.ledger[cid].run = run
        if set_aside:
            self.set_aside_examples()
        return {cid: self.ledger.runs[cid] for cid in ids}

    def set_aside_examples(self) -> dict[str, RunResult]:
        """Apply :mod:`codegen.ranking.soft_tests` to every run so far; the changed runs."""
        runs = dict(self.ledger.runs)
        updated = set_aside_examples(self.problem, runs)
        changed = {cid: run for cid, run in updated.items() if run is not runs[cid]}
        for cid, run in changed.items():
            self.ledger[cid].run, self.ledger[cid].excused = run, run.message
        return changed

    def passing(self) -> dict[str, str]:
        return self.ledger.passing()

    async def _verify_hidden(self, ids: Sequence[str]) -> None:
        started = time.perf_counter()
        hidden = self.problem.has_hidden_tests
        try:
            runs = await verify(self.problem, self.ledger.sources(ids), self.sandbox,
                                hidden=hidden, seed=self.seed)  # fmt: skip
        finally:
            self.hidden_s += time.perf_counter() - started
        for cid, run in runs.items():
            self.ledger[cid].hidden = run

    async def hidden_runs(self) -> dict[str, RunResult]:
        """Every verified candidate's run against the hidden tests (``Policy.hidden_tests``;
        the visible ones as written when the problem has none), once they are all back."""
        await asyncio.gather(*self._hidden)
        return {r.id: r.hidden for r in self.ledger if r.hidden is not None}

    async def rank(
        self,
        generated_tests: Sequence[GeneratedTest] | Awaitable[Sequence[GeneratedTest]] = (),
        *,
        enrich: bool = True,
        on_decided: Callable[[Decision, RankingRun], None] | None = None,
    ) -> RankingRun:
        """Rank every verified candidate; see the module docstring. ``generated_tests``:
        model-written test cases, soft evidence (:mod:`codegen.ranking.consensus`), or a task
        that will have them (awaited after the tests' decision: a lone passing candidate does
        not wait for them).

        As soon as the evidence decides the winner (:mod:`codegen.ranking.decision`),
        ``on_decided`` gets the decision and the ranking so far; without ``enrich`` that
        ranking is returned then, and nothing more is measured."""
        found = _Found(
            notes=sorted({r.excused for r in self.ledger if r.excused}),
            passing=self.passing(),
            tests=[] if isinstance(generated_tests, Awaitable) else list(generated_tests),
            started=time.perf_counter(),
        )
        passing = found.passing
        judges = self.policy.judges
        if judges and len(passing) > 1:
            self.emit(Event("jury", f"{len(judges)} judge(s) on {len(passing)} candidate(s)"))
            found.jury = asyncio.create_task(self._jury(passing, found.notes))
            found.jury.add_done_callback(self._jury_done)
        try:
            pending = Pending(behaviour=True, timing=True, growth=self.policy.growth, jury=True)
            if self._check(found, "tests", pending, on_decided) and not enrich:
                return self._stop(found)
            if isinstance(generated_tests, Awaitable):
                found.tests = list(await generated_tests)
            drawn = await self._drawn()
            found.differential, found.workload = drawn.differential, drawn.workload
            found.mutated = drawn.mutated
            found.outputs, found.screened, found.workload = await self._behaviour(
                passing, found.differential, found.tests, found.workload
            )
            timing = Timing(self.problem, found.workload, self.ledger.runs, found.screened,
                            self.sandbox, self.policy.rounds, found.notes, self.emit, self.seed,
                            verdicts=len(passing) > 1, reference=self.policy.reference)  # fmt: skip
            found.timing = timing
            found.samples = await timing.first(passing)
            second = bool(undecided(found.samples))
            pending = Pending(timing=second, growth=self._grows(found), jury=True)
            if self._check(found, "timing", pending, on_decided) and not enrich:
                return self._stop(found)
            if second:
                found.samples = await timing.second_look(passing, found.samples)
                pending = Pending(growth=self._grows(found), jury=True)
                if self._check(found, "timing", pending, on_decided) and not enrich:
                    return self._stop(found)
            found.growth = await self._growth(found)
            if self._check(found, "growth", Pending(jury=True), on_decided) and not enrich:
                return self._stop(found)
            found.verdict = await found.jury if found.jury else None
        except BaseException:
            if found.jury:
                found.jury.cancel()
            raise
        ordering, run = self._ranking(found)
        final = decide(ordering, Pending(), "all evidence")
        if found.decision is None and final is not None:
            found.decision = final.model_copy(update={"seconds": found.elapsed()})
        if found.decision is not None and found.decision.winner != run.winner:
            # by construction this never happens (tests/test_early_decision.py): say so if it does
            run.notes.append(
                f"the early decision ({found.decision.winner}) differs from the final ranking"
            )
        run.decision = found.decision
        self.emit(Event("rank", f"winner: {run.winner}"))
        return run

    def _check(
        self,
        found: _Found,
        after: Stage,
        pending: Pending,
        on_decided: Callable[[Decision, RankingRun], None] | None,
    ) -> bool:
        """Whether the winner is decided (once it is, it stays); the first time, say so."""
        if found.decision is not None:
            return True
        if found.jury is not None and found.jury.done():
            found.verdict = found.jury.result()
        jury_pending = found.jury is not None and not found.jury.done()
        ordering, run = self._ranking(found)
        decision = decide(ordering, replace(pending, jury=pending.jury and jury_pending), after)
        if decision is None:
            return False
        found.decision = decision.model_copy(update={"seconds": found.elapsed()})
        run.decision = found.decision
        who = f"winner: {decision.winner}" if decision.winner else "no winner"
        self.emit(Event("decided", f"{who} ({decision.reason}; {found.elapsed():.1f} s)"))
        if on_decided is not None:
            on_decided(found.decision, run)
        return True

    def _stop(self, found: _Found) -> RankingRun:
        """The ranking at the decision, nothing more measured (``enrich=False``)."""
        if found.jury is not None and not found.jury.done():
            found.jury.cancel()
            found.jury = None
            found.verdict = None
        _, run = self._ranking(found)
        run.decision = found.decision
        run.enriched = False
        run.notes.append("measured no further once the winner was decided (fast)")
        self.emit(Event("rank", f"winner: {run.winner}"))
        return run

    def _ranking(self, found: _Found) -> tuple[Ordering, RankingRun]:
        """The ranking of the evidence found so far (all of it, at the end)."""
        passing = found.passing
        differential = found.differential or InputSet(reason="not drawn: decided before")
        written = tested_arguments(found.tests)
        inputs = [*differential.args, *written]
        vouched = [*vouched_for(self.problem, differential), *(True for _ in written)]
        outputs = found.outputs
        workload = found.workload
        if found.screened and len(passing) > 1:  # the timed inputs are behaviour evidence too
            assert workload is not None and workload.inputs is not None
            inputs += list(workload.inputs.args)
            vouched += vouched_for(self.problem, workload.inputs)
            outputs = {cid: outputs.get(cid, []) + found.screened[cid] for cid in passing}
        evidence = [
            CandidateEvidence(
                id=record.id,
                source=record.code,
                run=record.run,
                outputs=_complete(outputs.get(record.id), len(inputs)),
                timing_samples=found.samples.get(record.id),
                timed_outputs=found.screened.get(record.id),
                votes=record.votes,
                authors=record.authors,
                growth=found.growth.get(record.id),
            )
            for record in self.ledger
            if record.run is not None  # verified: a record not yet run is not evidence
        ]
        ordered = ordering(
            evidence,
            weak_tests=self.problem.weak_tests,
            inputs=inputs,
            entry_point=self.problem.entry_point,
            jury=found.verdict,
            generated_tests=found.tests,
            timed_size=_largest(workload),
            vouched=vouched,
        )
        run = RankingRun(
            **dict(ordered.report),
            problem=self.problem.name,
            differential_inputs=_used(differential, found.mutated),
            timing_workload=workload.name if workload else "none: decided before timing",
            timing_rounds=max(map(len, found.samples.values()), default=0),
            notes=list(found.notes),
            timed=found.samples,
            reference_timed=found.timing.reference_samples if found.timing else [],
        )
        return ordered, run

    async def _behaviour(
        self,
        passing: dict[str, str],
        differential: InputSet,
        tests: Sequence[GeneratedTest],
        workload: Workload,
    ) -> tuple[dict[str, list[CallOutcome]], dict[str, list[CallOutcome]], Workload]:
        """Outputs on the differential inputs and then the model-written tests' inputs; with
        generated timing inputs, the screened ones and the outcomes every candidate must give
        again when timed."""
        outputs = await behaviour(
            self.problem, passing, differential, tested_arguments(tests), self.sandbox, self.emit
        )
        screened: dict[str, list[CallOutcome]] = {}
        if workload.inputs is None and passing:  # benchmark tests: time perturbed copies
            runs = (self.ledger.runs[cid] for cid in passing)
            copies, groups = perturbed_benchmark(runs, int(self.seed, 16))
            if copies.args:
                usable, screened = await screen_copies(
                    self.problem, passing, copies, groups, self.sandbox
                )
                if len(usable.args) * 2 >= len(groups):
                    return outputs, screened, Workload(workload.files, usable)
                copies.reason = "most perturbed copies broke the problem's preconditions"
            self.emit(Event("timing", f"on the benchmark tests as written: {copies.reason}"))
            return outputs, {}, workload
        if workload.inputs is not None and passing:
            usable, screened = await screen(self.problem, passing, workload.inputs, self.sandbox)
            workload = Workload(workload.files, usable)
        return outputs, screened, workload

    def _grows(self, found: _Found) -> bool:
        """Whether growth will be measured: on, something timed, and an input that grows."""
        timed, templates = self._growth_plan(found)
        return bool(self.policy.growth and timed and templates)

    def _growth_plan(self, found: _Found) -> tuple[dict[str, str], list[tuple[Any, ...]]]:
        timed = {cid: found.passing[cid] for cid in found.samples if self.ledger[cid].passed}
        differential = found.differential.args if found.differential else []
        workload = found.workload
        drawn = workload.inputs.args if workload and workload.inputs is not None else []
        return timed, growth_templates(differential, drawn)

    async def _growth(self, found: _Found) -> dict[str, Growth]:
        """The growth of the timed candidates, on inputs shaped like the drawn ones (none when
        nothing can be drawn); a failure is a note, never the end of the ranking."""
        timed, templates = self._growth_plan(found)
        notes = found.notes
        if not self.policy.growth or not timed:
            return {}
        if not templates:
            notes.append("growth not measured: no generated input grows with n")
            return {}
        self.emit(Event("growth", f"{len(timed)} candidate(s) on inputs of doubling size"))
        try:
            measured = await measure_growth(self.problem, timed, templates, self.sandbox)
        except SandboxUnavailable:
            raise
        except Exception as error:
            notes.append(f"growth not measured: {type(error).__name__}: {error}")
            self.emit(Event("growth", f"failed: {error}"))
            return {}
        for cid, growth in measured.items():
            self.emit(Event("growth", growth.label, cid))
        return measured

    def start_drawing(self) -> asyncio.Task[Drawn]:
        """Draw the differential inputs and the timing workload, once: they depend on the
        problem alone, so a caller may start them before any candidate exists (solve does,
        beside the models); a broken ``strategies.py`` then shows before they answer."""
        if self._drawing is None:
            self._drawing = asyncio.create_task(
                draw(self.problem, self.sandbox, int(self.seed, 16))
            )
        return self._drawing

    async def _drawn(self) -> Drawn:
        return await self.start_drawing()

    async def _jury(self, passing: dict[str, str], notes: list[str]) -> JuryResult | None:
        """The jury's own failures are in its result; this catches the rest (never fatal)."""
        try:
            return await run_jury(passing, list(self.policy.judges), task=self.problem.prompt)
        except Exception as error:
            notes.append(f"jury skipped: {type(error).__name__}: {error}")
            return None

    def _jury_done(self, task: asyncio.Task[JuryResult | None]) -> None:
        """Says when the jury is back (it sits beside the calls and the timing)."""
        if not task.cancelled() and (verdict := task.result()) is not None:
            ballots, failed = len(verdict.ballots), len(verdict.failures)
            self.emit(Event("jury", f"{ballots} ballot(s), {failed} failed"))

    def cancel(self) -> None:
        for task in [self._drawing, *self._hidden]:
            if task is None:
                continue
            task.cancel()
            if task.done() and not task.cancelled():
                task.exception()  # seen: a run that ended otherwise need not log it again


@dataclass
class _Found:
    """The evidence one ranking has gathered so far, and its decision once made."""

    notes: list[str]
    passing: dict[str, str]  # the candidates that passed when the ranking began
    tests: list[GeneratedTest]
    started: float
    differential: InputSet | None = None
    workload: Workload | None = None
    mutated: int = 0  # how many differential inputs are mutations of the examples
    outputs: dict[str, list[CallOutcome]] = field(default_factory=dict)
    screened: dict[str, list[CallOutcome]] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)
    timing: Timing | None = None  # its jobs so far (and the reference's samples in them)
    growth: dict[str, Growth] = field(default_factory=dict)
    jury: asyncio.Task[JuryResult | None] | None = None
    verdict: JuryResult | None = None
    decision: Decision | None = None

    def elapsed(self) -> float:
        return round(time.perf_counter() - self.started, 3)


async def rank_candidates(
    problem: Problem,
    candidates: dict[str, str],
    sandbox: SandboxBackend,
    *,
    judges: Sequence[JudgeSpec] | None = None,
    rounds: int = DEFAULT_ROUNDS,
    on_event: Callable[[Event], None] | None = None,
    generated_tests: Sequence[GeneratedTest] = (),
    votes: Mapping[str, int] | None = None,
    growth: bool = True,
    authors: Mapping[str, Sequence[str]] | None = None,
    enrich: bool = True,
    on_decided: Callable[[Decision, RankingRun], None] | None = None,
    seed: str | None = None,
    reference: str | None = None,
) -> RankingRun:
    """Verify ``candidates`` (id -> source) against ``problem``'s visible tests and rank them,
    with model-written tests and each candidate's votes (and the models behind them,
    ``authors``) as soft evidence; ``growth``: measure how the timed ones grow with the input
    (a few seconds each); ``enrich``, ``on_decided``: see :meth:`Evaluation.rank`; ``judges``,
    ``rounds``, ``seed``, ``reference``: see :class:`~codegen.evaluation.policy.Policy`."""
    policy = Policy(rounds=rounds, growth=growth, judges=tuple(judges or ()), seed=seed,
                    reference=reference)  # fmt: skip
    evaluation = Evaluation(problem, sandbox, policy, on_event=on_event)
    try:
        # first: tests that fail or never end by themselves are the problem's fault
        # (ProblemError), not a verdict on every candidate
        await run_placeholder(problem, sandbox)
        await evaluation.verify(evaluation.ledger.give(candidates, votes, authors))
        return await evaluation.rank(generated_tests, enrich=enrich, on_decided=on_decided)
    finally:
        evaluation.cancel()


def vouched_for(problem: Problem, inputs: InputSet) -> list[bool]:
    """Which inputs the problem vouches for: all those drawn from its own ``strategies.py``,
    and its docstring examples' arguments; not those guessed from type hints or perturbed."""
    if inputs.origin == "strategies.py":
        return [True] * len(inputs.args)
    examples = {repr(tuple(args)) for args in example_args(problem)}
    return [repr(tuple(args)) in examples for args in inputs.args]


def _largest(workload: Workload | None) -> int | None:
    """Elements of the largest timed input, when the timed workload is a list of inputs."""
    if workload is None or workload.inputs is None or not workload.inputs.args:
        return None
    return max(input_size(args)[0] for args in workload.inputs.args)


def _complete(outputs: list[CallOutcome] | None, count: int) -> list[CallOutcome] | None:
    """Outputs on every input, or none: clustering compares candidates input by input."""
    return outputs if outputs is not None and len(outputs) == count else None


def _used(inputs: InputSet, mutated: int = 0) -> InputsUsed:
    return InputsUsed(
        origin=inputs.origin, count=len(inputs.args), mutated=mutated, reason=inputs.reason
    )


def _verdict_line(run: RunResult) -> str:
    first = run.message.strip().splitlines()[0] if run.message.strip() else ""
    return f"{run.verdict}" + (f": {first}" if first else "")
