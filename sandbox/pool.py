"""The sandbox's public face: an async pool of warm, hardened containers.

Correctness jobs run concurrently, one per container. Timing jobs run one at a time in a separate
container pinned to one CPU, so that the figures of different candidates are comparable. A
container is replaced after a timeout, a dirty clean-up, a lost connection or `max_uses` jobs.
"""

from __future__ import annotations

import asyncio
import base64
import os
import pickle
from typing import Any

from pydantic import BaseModel

from . import engine, image
from .container import ContainerLost, WarmContainer
from .errors import ProblemError, SandboxError, SandboxUnavailable
from .models import (
    DEFAULT_LIMITS,
    BenchmarkStats,
    CallOutcome,
    Limits,
    RunResult,
    SandboxJob,
    Verdict,
)
from .prune import prune

RECYCLE_VERDICTS = {"timeout", "memory_limit"}
HOST_MARGIN_S = 5.0


class TimingResult(BaseModel):
    """Interleaved timings: per candidate id, one BenchmarkStats per benchmark test."""

    timings: dict[str, list[BenchmarkStats]]
    errors: dict[str, str] = {}


class Sandbox:
    """``async with Sandbox() as sandbox: result = await sandbox.run(job)``"""

    def __init__(
        self,
        workers: int = 2,
        limits: Limits = DEFAULT_LIMITS,
        image_tag: str | None = None,
        max_uses: int = 200,
        timing_cpu: str | None = None,
        build: bool = True,
    ) -> None:
        self.workers = workers
        self.limits = limits
        self.image_tag = image_tag
        self.max_uses = max_uses
        self.timing_cpu = timing_cpu or str((os.cpu_count() or 1) - 1)
        self.build = build
        self.client = None
        self.idle: asyncio.Queue[WarmContainer | None] = asyncio.Queue()
        self.all: set[WarmContainer] = set()
        self.timer: WarmContainer | None = None
        self.timer_lock = asyncio.Lock()
        self.background: set[asyncio.Task] = set()
        self.broken: Exception | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def __aenter__(self) -> Sandbox:
        self.client = await asyncio.to_thread(engine.connect)
        await asyncio.to_thread(prune, self.client)
        if self.image_tag is None:
            found = await asyncio.to_thread(image.find_image, self.client)
            if found is None and not self.build:
                raise SandboxUnavailable(
                    "the sandbox image is not built: run `codegen sandbox build`"
                )
            self.image_tag = found or await asyncio.to_thread(image.ensure_image, self.client)
        try:
            started = await asyncio.gather(
                *(self._new(cpuset=self._worker_cpu(i)) for i in range(self.workers))
            )
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        for container in started:
            self.idle.put_nowait(container)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        for task in self.background:
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        doomed = list(self.all)
        self.all.clear()
        await asyncio.gather(*(asyncio.to_thread(c.close) for c in doomed), return_exceptions=True)

    @staticmethod
    def _worker_cpu(index: int) -> str:
        """Every container is pinned to one CPU, the timing one too, so that a candidate cannot
        tell from its CPU affinity whether it is being timed."""
        return str(index % (os.cpu_count() or 1))

    async def _new(self, cpuset: str | None = None) -> WarmContainer:
        container = WarmContainer(self.client, self.image_tag, self.limits, cpuset)
        self.all.add(container)
        try:
            return await asyncio.to_thread(container.start)
        except BaseException:
            self.all.discard(container)
            await asyncio.to_thread(container.close)
            raise

    async def _retire(self, container: WarmContainer) -> None:
        self.all.discard(container)
        await asyncio.to_thread(container.close)

    def _replace(self, container: WarmContainer) -> None:
        """Retire a used-up container and start its successor, off the caller's critical path."""

        async def replace() -> None:
            await self._retire(container)
            try:
                self.idle.put_nowait(await self._new(cpuset=container.cpuset))
            except Exception as error:  # waiters get this error instead of hanging
                self.broken = error
                self.idle.put_nowait(None)

        task = asyncio.create_task(replace())
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    # -- jobs -----------------------------------------------------------------------------
    async def _exchange(self, message: dict, limits: Limits, timer: bool = False) -> dict:
        if timer:
            async with self.timer_lock:
                if self.timer is None:
                    self.timer = await self._new(cpuset=self.timing_cpu)
                try:
                    answer, keep = await self._on(self.timer, message, limits)
                except BaseException:  # cancelled mid-job: its answer must not reach the next
                    await self._retire(self.timer)
                    self.timer = None
                    raise
                if not keep:
                    await self._retire(self.timer)
                    self.timer = None
                return answer
        container = await self.idle.get()
        if container is None:
            self.idle.put_nowait(None)
            raise SandboxUnavailable(f"a sandbox container could not be replaced: {self.broken}")
        try:
            answer, keep = await self._on(container, message, limits)
        except BaseException:
            self._replace(container)
            raise
        if keep:
            self.idle.put_nowait(container)
        else:
            self._replace(container)
        return answer

    async def _on(
        self, container: WarmContainer, message: dict, limits: Limits
    ) -> tuple[dict, bool]:
        try:
            answer = await asyncio.to_thread(
                container.exchange, message, limits.wall_seconds + HOST_MARGIN_S
            )
        except ContainerLost as lost:
            return {
                "verdict": "timeout" if "deadline" in str(lost) else "crashed",
                "message": f"sandbox container lost: {lost}",
            }, False
        if "internal_error" in answer:
            return {
                "verdict": "crashed",
                "message": f"harness failure: {answer['internal_error']}",
            }, False
        keep = (
            answer.get("clean", True)
            and container.uses < self.max_uses
            and answer.get("verdict") not in RECYCLE_VERDICTS
        )
        return answer, keep

    @staticmethod
    def _raise_problem(answer: dict) -> None:
        if "problem_error" in answer:
            raise ProblemError(f"the problem's tests do not load: {answer['problem_error']}")

    async def run(self, job: SandboxJob) -> RunResult:
        """Run one candidate against the problem's tests: a verdict, never an exception for
        anything the candidate does."""
        message = {
            "op": "run",
            "entry_point": job.entry_point,
            "test_files": job.test_files,
            "candidate": job.candidate,
            "limits": job.limits.model_dump(),
        }
        answer = await self._exchange(message, job.limits)
        self._raise_problem(answer)
        return RunResult.model_validate(_result_fields(answer))

    async def call(
        self,
        candidate: str,
        entry_point: str,
        inputs: list[tuple[tuple, dict]],
        limits: Limits | None = None,
        max_timeouts: int = 3,
    ) -> list[CallOutcome]:
        """The entry point's output on each input, for differential testing. After
        ``max_timeouts`` calls that hit the test deadline the rest are skipped (cause timeout):
        a candidate stuck on these inputs would otherwise cost a deadline per input."""
        limits = limits or self.limits
        message = {
            "op": "call",
            "entry_point": entry_point,
            "candidate": candidate,
            "max_timeouts": max_timeouts,
            "inputs": _pack(inputs),
            "limits": limits.model_dump(),
        }
        answer = await self._exchange(message, limits)
        if "outcomes" not in answer:
            failure = CallOutcome(
                ok=False,
                error=answer.get("message", "candidate failed"),
                cause=Verdict(answer.get("verdict", "error")),
            )
            return [failure] * len(inputs)
        return [CallOutcome.model_validate(outcome) for outcome in answer["outcomes"]]

    async def time(
        self,
        test_files: dict[str, str],
        entry_point: str,
        candidates: dict[str, str],
        rounds: int = 10,
        inputs: list[tuple[tuple, dict]] | None = None,
        limits: Limits | None = None,
        tested: dict[str, RunResult] | None = None,
    ) -> TimingResult:
        """Time candidates one at a time on the pinned CPU, in interleaved rounds (A B C, B C A…),
        each round in a fresh process, on the benchmark tests or else on `inputs`. Pass the
        candidates' `tested` run results to drop any whose timed runs return something else."""
        if not candidates:
            return TimingResult(timings={})
        limits = limits or self.limits
        message = {
            "op": "time",
            "entry_point": entry_point,
            "test_files": test_files,
            "candidates": candidates,
            "rounds": rounds,
            "limits": limits.model_dump(),
            "inputs": _pack(inputs) if inputs else None,
        }
        answer = await self._exchange(message, limits, timer=True)
        self._raise_problem(answer)
        if "timings" not in answer:
            raise SandboxError(f"timing failed: {answer.get('message', answer.get('verdict'))}")
        return _check_against_tested(TimingResult.model_validate(answer), tested or {})


def _check_against_tested(timing: TimingResult, tested: dict[str, RunResult]) -> TimingResult:
    """Drop the timings of a candidate whose timed runs returned something other than what its
    tested run returned: it behaves differently when timed, so its figures mean nothing."""
    for cid, run in tested.items():
        expected = {stats.test: stats.digest for stats in run.benchmarks if stats.digest}
        for stats in timing.timings.get(cid, []):
            if stats.digest and expected.get(stats.test, stats.digest) != stats.digest:
                del timing.timings[cid]
                timing.errors[cid] = (
                    f"{stats.test}: returned a different value when timed than when tested"
                )
                break
    return timing


def _pack(inputs: list[tuple[tuple, dict]]) -> str:
    return base64.b64encode(pickle.dumps([(tuple(a), dict(k)) for a, k in inputs])).decode()


def _result_fields(answer: dict) -> dict:
    return {key: answer[key] for key in RunResult.model_fields if key in answer}
