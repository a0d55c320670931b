"""An in-memory sandbox backend answering from a script, for the tests of the flows built on the
sandbox (as httpx's ``MockTransport`` is for its clients): no Docker, no pytest, no candidate
code run, and every job it received kept in :attr:`ScriptedSandbox.jobs` to be asserted on.

Each candidate's :class:`Script` says what its run gives, what its entry point answers, and
what a timing round of it costs. A job's candidate is matched to its script by source: the
script whose key is the source, else the one key found in it (so a test can key a script by a
line of the candidate, whatever the flow wraps around it).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import SandboxError
from ..harness import plaindata
from ..models import (
    DEFAULT_LIMITS,
    BenchmarkStats,
    CallJob,
    CallOutcome,
    Fault,
    Limits,
    Project,
    RunJob,
    RunResult,
    TimingJob,
    TimingResult,
    Verdict,
)
from ..timing_checks import INPUTS_BENCHMARK, expected_digests

PASSED = RunResult(verdict=Verdict.PASSED)
SCRIPTED_BENCHMARK = (
    "tests/test_problem.py::test_speed"  # when neither the run nor a test names one
)
Job = RunJob | CallJob | TimingJob


@dataclass(frozen=True)
class Script:
    """What one candidate does. ``run``: the result of every run job. ``answer``: the entry
    point as a plain Python function (its value, or the exception it raises, is the call's
    outcome), or ``outcomes`` given as they are, one per input. ``seconds``: the CPU cost of one
    timing round (a list: one per round, in turn), or the Fault it gets when timed."""

    run: RunResult = field(default_factory=lambda: PASSED.model_copy())
    answer: Callable[..., Any] | None = None
    outcomes: list[CallOutcome] | None = None
    seconds: float | list[float] | Fault = 0.001


@dataclass
class ScriptedSandbox:
    """A :class:`~sandbox.backend.SandboxBackend` answering each candidate from its script;
    ``default`` for a candidate none matches (None: that is a SandboxError, naming it)."""

    scripts: Mapping[str, Script]
    default: Script | None = None
    limits: Limits = DEFAULT_LIMITS
    project: Project | None = None
    jobs: list[Job] = field(default_factory=list)

    async def __aenter__(self) -> ScriptedSandbox:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        pass

    def script_for(self, source: str) -> Script:
        if source in self.scripts:
            return self.scripts[source]
        found = [key for key in self.scripts if key in source]
        if len(found) == 1:
            return self.scripts[found[0]]
        if len(found) > 1:
            raise SandboxError(f"candidate matches several scripts: {', '.join(map(repr, found))}")
        if self.default is not None:
            return self.default
        first = source.strip().splitlines()[:1] or [""]
        raise SandboxError(f"no script for the candidate starting {first[0][:60]!r}")

    async def run(self, job: RunJob) -> RunResult:
        self.jobs.append(job)
        return self.script_for(job.candidate).run.model_copy(deep=True)

    async def call(self, job: CallJob) -> list[CallOutcome]:
        self.jobs.append(job)
        script = self.script_for(job.candidate)
        if script.outcomes is not None:
            if len(script.outcomes) != len(job.inputs):
                raise SandboxError(
                    f"the script has {len(script.outcomes)} outcomes for {len(job.inputs)} inputs"
                )
            return [outcome.model_copy(deep=True) for outcome in script.outcomes]
        if script.answer is None:
            if not script.run.passed:  # it would not start: every input fails as the run did
                failed = CallOutcome(ok=False, error=script.run.message, cause=script.run.verdict)
                return [failed] * len(job.inputs)
            raise SandboxError("the candidate's script has neither `answer` nor `outcomes`")
        return [called(script.answer, args, kwargs) for args, kwargs in job.inputs]

    async def time(self, job: TimingJob) -> TimingResult:
        self.jobs.append(job)
        expected = expected_digests(job)
        timings: dict[str, list[BenchmarkStats]] = {}
        errors: dict[str, Fault] = {}
        for cid, source in job.candidates.items():
            seconds = self.script_for(source).seconds
            if isinstance(seconds, Fault):
                errors[cid] = seconds
                continue
            per_round = seconds if isinstance(seconds, list) else [seconds]
            samples = list(itertools.islice(itertools.cycle(per_round), job.rounds))
            timings[cid] = [
                stats_of(test, samples, expected.get(cid, {}).get(test, "scripted"))
                for test in self._benchmarks(job, cid, source)
            ]
        return TimingResult(timings=timings, errors=errors, rounds=job.rounds)

    def _benchmarks(self, job: TimingJob, cid: str, source: str) -> list[str]:
        """The benchmarks a candidate is timed on: the inputs, else those of its run."""
        if job.inputs:
            return [INPUTS_BENCHMARK]
        run = job.tested.get(cid) or self.script_for(source).run
        return [stats.test for stats in run.benchmarks] or [SCRIPTED_BENCHMARK]


def called(answer: Callable[..., Any], args: tuple, kwargs: dict) -> CallOutcome:
    """One call's outcome as the harness reports it: a plain value and its digests, or the
    exception's type and message."""
    try:
        value = answer(*args, **kwargs)
    except Exception as error:
        name = type(error).__name__
        return CallOutcome(ok=False, error=name, message=f"{name}: {error}"[:300])
    return CallOutcome(
        ok=True,
        value=plaindata.canonical(value),
        repr=repr(value)[:300],
        digest=plaindata.digest([value, None]),
        behaviour=plaindata.digest([value, None], loose=True),
    )


def stats_of(test: str, samples: list[float], digest: str) -> BenchmarkStats:
    """pytest-benchmark's statistics of these samples."""
    quartiles = statistics.quantiles(samples, n=4, method="inclusive") if len(samples) > 1 else []
    return BenchmarkStats(
        test=test,
        rounds=len(samples),
        min=min(samples),
        max=max(samples),
        mean=statistics.fmean(samples),
        median=statistics.median(samples),
        stddev=statistics.stdev(samples) if len(samples) > 1 else 0.0,
        iqr=quartiles[2] - quartiles[0] if quartiles else 0.0,
        samples=samples,
        digest=digest,
        behaviour=digest,
    )
