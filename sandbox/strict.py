"""The strict reference backend (``isolation = "strict"``): slow on purpose, it defines what the
right verdict is. Nothing is warm and nothing is shared:

- **run**: each candidate gets a fresh hardened container where the harness runs the job
  isolated, the candidate in its own process; when that passes, a second fresh container
  where plain ``pytest`` runs the candidate as ``solution.py`` in the tests' own process
  (:mod:`sandbox.harness.plain`): the semantics a user's ``pytest`` has. The verdict is the
  isolated one, unless plain pytest fails what the isolated run passed: then the candidate
  fails, with plain pytest's reason. (Plain pytest alone could be forged by the candidate it
  runs beside; here it can only ever take a pass away.) A job with a project's own tests
  runs them too, the same way (:mod:`sandbox.plain_runs`).
- **call**: a fresh container per job.
- **time**: one fresh container per candidate per round, rounds interleaved across candidates;
  the cost of a round is the container's own CPU (its cgroup), less the harness's, read from
  outside the candidate's processes.

The warm pool (:class:`sandbox.Sandbox`) must agree with it on every candidate:
``tests/sandboxed/test_differential.py``.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from .faults import WireFault, job_failed, read_answer
from .messages import call_message, call_outcomes, run_message, run_result, time_message
from .models import (
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
)
from .plain_runs import (  # noqa: F401 - PLAIN_COMMAND and plain_verdict are the tests' too
    PLAIN_COMMAND,
    check_project,
    fresh_exchange,
    judged_by_plain_pytest,
    judged_by_repository_tests,
    junit_outcomes,
    plain_message,
    plain_verdict,
    repository_message,
)
from .pool import ready_engine
from .timing_checks import check_against_expected, expected_digests


class StrictSandbox:
    """``async with StrictSandbox() as sandbox``: the :class:`~sandbox.backend.SandboxBackend`
    jobs, each in fresh containers (see the module docstring)."""

    def __init__(
        self,
        workers: int = 2,
        limits: Limits = DEFAULT_LIMITS,
        image_tag: str | None = None,
        build: bool = True,
        runtime: str | None = None,
        timing_cpu: str | None = None,
        project: Project | None = None,
    ) -> None:
        self.limits = limits
        self.project = project
        self.image_tag = image_tag or (project.image if project else None)
        self.build = build
        self.runtime = runtime
        self.timing_cpu = timing_cpu or str((os.cpu_count() or 1) - 1)
        self.client: Any = None
        self.slots = asyncio.Semaphore(workers)

    async def __aenter__(self) -> StrictSandbox:
        self.client, self.image_tag = await ready_engine(self.runtime, self.image_tag, self.build)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None

    # -- one job, one fresh container -------------------------------------------------------
    async def _fresh(
        self,
        message: dict,
        limits: Limits,
        command: list[str] | None = None,
        cpuset: str | None = None,
    ) -> dict | WireFault:
        assert self.image_tag is not None  # __aenter__ found or built it
        async with self.slots:
            return await fresh_exchange(
                self.client, self.image_tag, message, limits, command=command, cpuset=cpuset,
                runtime=self.runtime, project=self.project.root if self.project else None,
            )  # fmt: skip

    # -- the jobs -------------------------------------------------------------------------
    async def run(self, job: RunJob) -> RunResult:
        check_project(job, self.project)
        result = run_result(_read(await self._fresh(run_message(job), job.limits)))
        if not result.passed:
            return result  # plain pytest could only take a pass away
        plain = await self._fresh(plain_message(job), job.limits, PLAIN_COMMAND)
        result = judged_by_plain_pytest(result, plain)
        if result.passed and job.repository_tests:
            plain = await self._fresh(repository_message(job), job.limits, PLAIN_COMMAND)
            result = judged_by_repository_tests(result, plain)
        return result

    async def call(self, job: CallJob) -> list[CallOutcome]:
        limits = job.limits or self.limits
        answer = _read(await self._fresh(call_message(job, limits), limits))
        return call_outcomes(answer, len(job.inputs))

    async def time(self, job: TimingJob) -> TimingResult:
        """Round after round, each candidate alone in a fresh container, pinned to the timing
        CPU, in the pool's interleaved order; a candidate that fails a round fails."""
        from .harness.pytest_plugin import round_order  # pytest: loaded when first needed

        limits = job.limits or self.limits
        expected = expected_digests(job)
        samples: dict[str, list[BenchmarkStats]] = {}
        errors: dict[str, Fault] = {}
        for round_index in range(job.rounds):
            for cid in round_order([c for c in job.candidates if c not in errors], round_index):
                one = {cid: job.candidates[cid]}
                message = time_message(job, one, limits, expected, rounds=1)
                answer = _read(await self._fresh(message, limits, cpuset=self.timing_cpu))
                fault = _round_fault(answer, cid)
                if fault is not None:
                    errors[cid] = fault
                    samples.pop(cid, None)
                    continue
                assert isinstance(answer, dict)
                samples[cid] = _merged(samples.get(cid), answer["timings"][cid])
        timing = TimingResult(timings=samples, errors=errors, rounds=job.rounds)
        return check_against_expected(timing, expected)


def _read(answer: dict | WireFault) -> dict | WireFault:
    return answer if isinstance(answer, WireFault) else read_answer(answer)


def _round_fault(answer: dict | WireFault, cid: str) -> Fault | None:
    """Why a candidate's round has no timings, if it has none."""
    if isinstance(answer, dict):
        if "timings" in answer and cid in answer["timings"]:
            return None
        fault = (answer.get("errors") or {}).get(cid)
        if fault:
            return Fault.model_validate(fault)
        answer = job_failed(answer)
    answer.raise_problem()
    return Fault(verdict=answer.verdict, message=f"broke the timing job: {answer.message}")


def _merged(known: list[BenchmarkStats] | None, new: list[dict]) -> list[BenchmarkStats]:
    """One more round's sample added to each benchmark's statistics."""
    import statistics

    rounds = [BenchmarkStats.model_validate(stats) for stats in new]
    if known is None:
        return rounds
    merged = []
    for old, more in zip(known, rounds, strict=False):
        values = old.samples + more.samples
        q = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else [0, 0, 0]
        merged.append(
            old.model_copy(
                update={
                    "rounds": len(values),
                    "samples": values,
                    "min": min(values),
                    "max": max(values),
                    "mean": statistics.fmean(values),
                    "median": statistics.median(values),
                    "stddev": statistics.stdev(values) if len(values) > 1 else 0.0,
                    "iqr": q[2] - q[0],
                    "digest": old.digest if old.digest == more.digest else "",
                }
            )
        )
    return merged
