"""Timing the passing candidates: interleaved rounds in the sandbox, and one look more (of the
candidates still tied with the fastest) when a candidate looks slower than the fastest but its
interval still says "tie"
(``benchmarks/test_bench_ranking.py``, 1.3× apart: 17 of 20 rankings right and 3 ties with 10
rounds only, 20 of 20 right with the extra look; equal code still tied 20 of 20).

A candidate that fails while being timed (a limit, an error, another answer than when tested
or screened, breaking the job) fails outright, as in a test: timing rounds are more runs of
the same workload. Except for a lone passing candidate, already the winner
(:mod:`codegen.ranking.decision`): its rounds only measure it for the report
(``verdicts=False``), and a failure is a warning in the notes.

A ``reference`` (bench's canonical solution: trusted code, never ranked) may run in the same
interleaved rounds, so that one job measures both the ranking and each candidate against the
reference (``codegen bench``'s efficiency). Its samples are kept apart (``reference_samples``);
if it fails in any job they are dropped (None), and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field

from codegen.evaluation.events import Event
from codegen.evaluation.workload import Workload
from codegen.problems import Problem
from codegen.problems.context import floor, module_spec, program
from codegen.ranking import DEFAULT_NOISE_FLOOR, compare_timings, samples_from_benchmarks
from sandbox import (
    BenchmarkStats,
    CallOutcome,
    Fault,
    ProblemError,
    RunResult,
    SandboxBackend,
    SandboxError,
    SandboxUnavailable,
    TimingJob,
)


@dataclass
class Timing:
    problem: Problem
    workload: Workload
    runs: MutableMapping[str, RunResult]  # corrected with the failures met while timing
    screened: dict[str, list[CallOutcome]]
    sandbox: SandboxBackend
    rounds: int
    notes: list[str]
    emit: Callable[[Event], None]
    seed: str = ""  # the run's secret (sandbox.RunJob.seed)
    verdicts: bool = True  # a failure while timed fails the candidate (else: a warning)
    reference: str | None = None  # a trusted program timed in the same rounds, never ranked
    # its CPU seconds per round, over the jobs so far; None once it failed in one
    reference_samples: list[float] | None = field(default_factory=list)

    async def samples(self, passing: dict[str, str]) -> dict[str, list[float]]:
        """CPU seconds per round per candidate: ``rounds`` rounds, and as many again when a
        candidate is undecided (slower than the fastest beyond the noise floor, yet tied)."""
        samples = await self.first(passing)
        if undecided(samples):
            samples = await self.second_look(passing, samples)
        return samples

    async def first(self, passing: dict[str, str]) -> dict[str, list[float]]:
        """The first job: ``rounds`` interleaved rounds of every passing candidate."""
        if not passing:
            return {}
        if self.workload.empty:
            reason = self.workload.inputs.reason if self.workload.inputs else "no workload"
            self.notes.append(f"not timed: no benchmark tests and no inputs ({reason})")
            return {}
        rounds = self.rounds
        self.emit(Event("timing", f"{len(passing)} candidate(s), {rounds} interleaved rounds"))
        return await self._job(passing)

    async def second_look(
        self, passing: dict[str, str], samples: dict[str, list[float]]
    ) -> dict[str, list[float]]:
        """As many rounds again, of the candidates still tied with the fastest (the fastest
        among them): one already slower beyond the noise stays so, compared on the rounds it
        ran (:func:`codegen.ranking.compare_timings`), and is not timed again."""
        slower = ", ".join(undecided(samples))
        tied = [t.id for t in compare_timings(samples) if t.tied_with_fastest]
        self.emit(Event("timing", f"{self.rounds} more rounds of {len(tied)}: {slower} may be "
                                  "slower"))  # fmt: skip
        more = await self._job({cid: passing[cid] for cid in tied})
        if not more:  # the extra job failed as a whole: keep what the first one measured
            return samples
        kept = {cid: s for cid, s in samples.items() if cid not in tied}  # not timed again
        return kept | {cid: samples[cid] + more[cid] for cid in more}

    async def _job(self, candidates: dict[str, str]) -> dict[str, list[float]]:
        timed = {cid: program(self.problem, code) for cid, code in candidates.items()}
        reference = _reference_id(candidates) if self.reference else None
        if reference is not None:
            assert self.reference is not None  # a reference id only for a reference
            timed[reference] = self.reference  # a full module: no program() around it
        try:
            job = TimingJob(
                test_files=self.workload.files,
                entry_point=self.problem.entry_point,
                candidates=timed,
                rounds=self.rounds,
                inputs=self.workload.calls,
                tested={cid: self.runs[cid] for cid in candidates},
                screened={cid: self.screened[cid] for cid in candidates if cid in self.screened},
                seed=self.seed,
                module=module_spec(self.problem, self.sandbox),
                floor=floor(self.problem),
            )
            timing = await self.sandbox.time(job)
        except (ProblemError, SandboxUnavailable):
            raise
        except SandboxError as error:  # the whole timing job failed: rank on what is known
            self.notes.append(f"not timed: {error}")
            self.emit(Event("timing", f"failed: {error}"))
            return {}  # the reference, too, keeps what the jobs before measured
        if reference is not None:
            self._keep_reference(
                timing.timings.pop(reference, None), timing.errors.pop(reference, None)
            )
        self.notes += timing.notes
        if timing.truncated:
            got = min((len(s[0].samples) for s in timing.timings.values() if s), default=0)
            self.notes.append(f"timing cut short: {got} of {self.rounds} rounds (time limit)")
        for cid, fault in timing.errors.items():
            if not self.verdicts:
                self.notes.append(
                    f"{cid}: failed while being timed ({fault.message}); it stays the winner, "
                    "as the only candidate that passes the tests: check it on large inputs"
                )
                self.emit(Event("timing", f"failed while being timed: {fault.message}", cid))
                continue
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

    def _keep_reference(self, stats: list[BenchmarkStats] | None, fault: Fault | None) -> None:
        """Add the reference's rounds to its samples; a failure drops them all, with a note
        (it is never ranked: its failure touches no candidate)."""
        if self.reference_samples is None:
            return
        samples = samples_from_benchmarks(stats or [])
        if fault is not None or not samples:
            why = fault.message if fault is not None else "no timings"
            self.notes.append(f"the reference failed while timed: {why}")
            self.reference_samples = None
            return
        self.reference_samples += samples


def _reference_id(candidates: dict[str, str]) -> str:
    """An id for the reference that no candidate has."""
    rid = "reference"
    while rid in candidates:
        rid += "'"
    return rid


def undecided(samples: dict[str, list[float]]) -> list[str]:
    """Candidates tied with the fastest yet slower by more than the noise floor: a second look
    may separate them (:func:`codegen.ranking.compare_timings`)."""
    return [
        t.id
        for t in compare_timings(samples)
        if t.tied_with_fastest and t.ratio > DEFAULT_NOISE_FLOOR
    ]
