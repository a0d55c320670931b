"""The strict reference backend (``isolation = "strict"``): slow on purpose, it defines what the
right verdict is. Nothing is warm and nothing is shared:

- **run**: each candidate gets a fresh hardened container where the harness runs the job
  isolated, the candidate in its own process; when that passes, a second fresh container
  where plain ``pytest`` runs the candidate as ``solution.py`` in the tests' own process
  (:mod:`sandbox.harness.plain`): the semantics a user's ``pytest`` has. The verdict is the
  isolated one, unless plain pytest fails what the isolated run passed: then the candidate
  fails, with plain pytest's reason. (Plain pytest alone could be forged by the candidate it
  runs beside; here it can only ever take a pass away.)
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
import re
import signal
import xml.etree.ElementTree as ElementTree
from typing import Any

from .container import ContainerLost, WarmContainer
from .models import (
    DEFAULT_LIMITS,
    BenchmarkStats,
    CallOutcome,
    Fault,
    Limits,
    RunResult,
    SandboxJob,
    TestOutcome,
    TestStatus,
    TimingResult,
    Verdict,
)
from .pool import (
    HOST_MARGIN_S,
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

PLAIN_COMMAND = ["python3", "-s", "-P", "-m", "codegen_harness.plain"]
PYTEST_NO_TESTS = 5


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
    ) -> None:
        self.limits = limits
        self.image_tag = image_tag
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
        async with self.slots:
            container = WarmContainer(
                self.client, self.image_tag, limits, cpuset, self.runtime, command
            )
            try:
                await asyncio.to_thread(container.start)
                return await asyncio.to_thread(
                    container.exchange, message, limits.wall_seconds + HOST_MARGIN_S
                )
            except ContainerLost as lost:
                verdict = "timeout" if lost.deadline else "crashed"
                return {"verdict": verdict, "message": f"sandbox container lost: {lost}"}
            finally:
                await asyncio.to_thread(container.close)

    # -- the jobs -------------------------------------------------------------------------
    async def run(self, job: SandboxJob) -> RunResult:
        isolated = await self._fresh(run_message(job), job.limits)
        raise_problem(isolated)
        result = RunResult.model_validate(result_fields(isolated))
        if not result.passed:
            return result  # plain pytest could only take a pass away
        plain = await self._fresh(job.model_dump(mode="json"), job.limits, PLAIN_COMMAND)
        return judged_by_plain_pytest(result, plain)

    async def call(
        self,
        candidate: str,
        entry_point: str,
        inputs: list[tuple[tuple, dict]],
        limits: Limits | None = None,
        max_timeouts: int = 3,
        value_bytes: int | None = None,
    ) -> list[CallOutcome]:
        limits = limits or self.limits
        message = call_message(candidate, entry_point, inputs, limits, max_timeouts, value_bytes)
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


def judged_by_plain_pytest(isolated: RunResult, plain: dict) -> RunResult:
    """The isolated verdict, unless plain pytest fails what the isolated run passed."""
    if not isolated.passed:
        return isolated
    verdict, message = plain_verdict(plain)
    if verdict is Verdict.PASSED:
        return isolated
    return isolated.model_copy(update={"verdict": verdict, "message": f"plain pytest: {message}"})


def plain_verdict(plain: dict) -> tuple[Verdict, str]:
    """What plain pytest said, as a verdict and one line."""
    if "exit_code" not in plain:
        return Verdict(plain.get("verdict", "crashed")), plain.get("message", "no answer")
    if plain.get("timed_out"):
        return Verdict.TIMEOUT, "ran past the job's wall-clock limit"
    killed = plain.get("signal") or 0
    if killed:
        by = {signal.SIGXCPU: Verdict.TIMEOUT, signal.SIGXFSZ: Verdict.OUTPUT_LIMIT,
              signal.SIGKILL: Verdict.MEMORY_LIMIT}  # fmt: skip
        return by.get(killed, Verdict.CRASHED), f"pytest died of signal {killed}"
    outcomes = junit_outcomes(plain.get("report", ""))
    code = plain["exit_code"]
    if code == 0 and outcomes and all(o.status is TestStatus.PASSED for o in outcomes):
        return Verdict.PASSED, ""
    bad = [o for o in outcomes if o.status is not TestStatus.PASSED]
    if code == PYTEST_NO_TESTS or (code != 0 and not bad):
        tail = plain.get("output", "").strip().splitlines()[-1:] or [f"exit code {code}"]
        return Verdict.ERROR, tail[0][:300]
    status = Verdict.ERROR if all(o.status is TestStatus.ERROR for o in bad) else Verdict.FAILED
    first = bad[0] if bad else None
    said = f"{first.name}: {first.message}" if first else f"exit code {code}"
    return status, f"{len(bad)} of {len(outcomes)} tests {status}: {said}"[:500]


def junit_outcomes(report: str) -> list[TestOutcome]:
    """Each test case of pytest's JUnit XML, named as the harness names tests
    (``tests/test_x.py::test_y``)."""
    try:
        root = ElementTree.fromstring(report) if report.strip() else None
    except ElementTree.ParseError:
        return []
    outcomes = []
    for case in root.iter("testcase") if root is not None else []:
        module = (case.get("classname") or "").replace(".", "/")
        name = f"{module}.py::{case.get('name', '')}"
        status, message = TestStatus.PASSED, ""
        for kind, found in (("failure", TestStatus.FAILED), ("error", TestStatus.ERROR)):
            element = case.find(kind)
            if element is not None:
                status = found
                message = re.sub(r"\s+", " ", element.get("message") or "")[:300]
                break
        outcomes.append(TestOutcome(name=name, status=status, message=message))
    return outcomes


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
