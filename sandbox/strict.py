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

from .models import (
    DEFAULT_LIMITS,
    BenchmarkStats,
    CallOutcome,
    Fault,
    Limits,
    ModuleSpec,
    Project,
    RunResult,
    SandboxJob,
    TimingResult,
    Verdict,
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
from .pool import (
    _check_against_expected,
    _expected,
    _pack,
    call_message,
    call_outcomes,
    raise_problem,
    ready_engine,
    result_fields,
    run_message,
)


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
    ) -> dict:
        assert self.image_tag is not None  # __aenter__ found or built it
        async with self.slots:
            return await fresh_exchange(
                self.client, self.image_tag, message, limits, command=command, cpuset=cpuset,
                runtime=self.runtime, project=self.project.root if self.project else None,
            )  # fmt: skip

    # -- the jobs -------------------------------------------------------------------------
    async def run(self, job: SandboxJob) -> RunResult:
        check_project(job, self.project)
        isolated = await self._fresh(run_message(job), job.limits)
        raise_problem(isolated)
        result = RunResult.model_validate(result_fields(isolated))
        if not result.passed:
            return result  # plain pytest could only take a pass away
        plain = await self._fresh(plain_message(job), job.limits, PLAIN_COMMAND)
        result = judged_by_plain_pytest(result, plain)
        if result.passed and job.repository_tests:
            plain = await self._fresh(repository_message(job), job.limits, PLAIN_COMMAND)
            result = judged_by_repository_tests(result, plain)
        return result

    async def call(
        self,
        candidate: str,
        entry_point: str,
        inputs: list[tuple[tuple, dict]],
        limits: Limits | None = None,
        max_timeouts: int = 3,
        value_bytes: int | None = None,
        module: ModuleSpec | None = None,
    ) -> list[CallOutcome]:
        limits = limits or self.limits
        message = call_message(
            candidate, entry_point, inputs, limits, max_timeouts, value_bytes, module
        )
        return call_outcomes(await self._fresh(message, limits), len(inputs))

    async def time(
        self,
        test_files: dict[str, str],
        entry_point: str,
        candidates: dict[str, str],
        rounds: int = 10,
        inputs: list[tuple[tuple, dict]] | None = None,
        limits: Limits | None = None,
        tested: dict[str, RunResult] | None = None,
        screened: dict[str, list[CallOutcome]] | None = None,
        seed: str = "",
        module: ModuleSpec | None = None,
        floor: str | None = None,
    ) -> TimingResult:
        """Round after round, each candidate alone in a fresh container, pinned to the timing
        CPU, in the pool's interleaved order; a candidate that fails a round fails."""
        from .harness.pytest_plugin import round_order  # pytest: loaded when first needed

        limits = limits or self.limits
        expected = _expected(candidates, inputs, tested or {}, screened or {})
        samples: dict[str, list[BenchmarkStats]] = {}
        errors: dict[str, Fault] = {}
        for round_index in range(rounds):
            for cid in round_order([c for c in candidates if c not in errors], round_index):
                message = {
                    "op": "time", "entry_point": entry_point, "test_files": test_files,
                    "candidates": {cid: candidates[cid]}, "rounds": 1, "seed": seed,
                    "expected": {cid: expected[cid]} if cid in expected else {},
                    "limits": limits.model_dump(), "inputs": _pack(inputs) if inputs else None,
                    "module": module.message() if module else None, "floor": floor,
                }  # fmt: skip
                answer = await self._fresh(message, limits, cpuset=self.timing_cpu)
                raise_problem(answer)
                fault = _round_fault(answer, cid)
                if fault is not None:
                    errors[cid] = fault
                    samples.pop(cid, None)
                    continue
                samples[cid] = _merged(samples.get(cid), answer["timings"][cid])
        timing = TimingResult(timings=samples, errors=errors, rounds=rounds)
        return _check_against_expected(timing, expected)


def _round_fault(answer: dict, cid: str) -> Fault | None:
    if "timings" in answer and cid in answer["timings"]:
        return None
    fault = (answer.get("errors") or {}).get(cid)
    if fault:
        return Fault.model_validate(fault)
    verdict = answer.get("verdict", "crashed")
    return Fault(
        verdict=Verdict(verdict) if verdict in Verdict._value2member_map_ else Verdict.CRASHED,
        message=f"broke the timing job: {answer.get('message', 'no answer')}",
    )


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
