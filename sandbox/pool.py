"""The sandbox's public face: an async pool of warm, hardened containers.

Correctness jobs run concurrently, one per container. Timing jobs run one at a time in a separate
container pinned to one CPU, so that the figures of different candidates are comparable. A
container is replaced after a timeout, a dirty clean-up, a lost connection or `max_uses` jobs.

With a ``project``, every container has the project's source mounted read-only (and runs its
image, with its dependencies); a job may then name the project's module its candidate is, and
the project's own tests, which run as plain pytest in a fresh container once the isolated run
passed (:mod:`sandbox.plain_runs`): they can only take a pass away.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import docker

from . import engine, image
from .container import ContainerLost, WarmContainer
from .errors import SandboxError, SandboxUnavailable
from .faults import FaultKind, WireFault, container_lost, job_failed, read_answer
from .messages import call_message, call_outcomes, run_message, run_result, time_message
from .models import (
    DEFAULT_LIMITS,
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
from .plain_runs import (
    HOST_MARGIN_S,
    PLAIN_COMMAND,
    check_project,
    fresh_exchange,
    judged_by_repository_tests,
    repository_message,
)
from .prune import prune
from .timing_checks import check_against_expected, expected_digests, job_limits, round_budgets

RECYCLE_VERDICTS = {Verdict.TIMEOUT, Verdict.MEMORY_LIMIT}  # the container is not reused
TIMING_ATTEMPTS = 3  # a broken timing job is run again without the candidate that broke it
Answer = dict | WireFault  # the harness's answer, or why there is none


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
        runtime: str | None = None,
        project: Project | None = None,
    ) -> None:
        self.workers = workers
        self.limits = limits
        self.project = project
        self.image_tag = image_tag or (project.image if project else None)
        self.max_uses = max_uses
        self.timing_cpu = int(timing_cpu) if timing_cpu else (os.cpu_count() or 1) - 1
        self.build = build
        self.runtime = runtime  # a Docker runtime other than runc, e.g. "runsc" (gVisor)
        self.client = None
        self.idle: asyncio.Queue[WarmContainer | None] = asyncio.Queue()
        self.all: set[WarmContainer] = set()
        self.timer: WarmContainer | None = None
        self.timer_lock = asyncio.Lock()
        self.background: set[asyncio.Task] = set()
        self.broken: Exception | None = None
        self.plain_slots = asyncio.Semaphore(workers)  # fresh containers of the project's tests

    # -- lifecycle ------------------------------------------------------------------------
    async def __aenter__(self) -> Sandbox:
        self.client, self.image_tag = await ready_engine(self.runtime, self.image_tag, self.build)
        try:
            started = await asyncio.gather(
                *(self._new(cpuset=self.worker_cpu(i)) for i in range(self.workers))
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

    def worker_cpu(self, index: int) -> str:
        """Every container is pinned to one CPU, and the last worker shares the timing
        container's: no CPU number, affinity or cpuset tells a candidate it is being timed."""
        return str((self.timing_cpu - (self.workers - 1) + index) % (os.cpu_count() or 1))

    @property
    def mounted(self) -> str | None:
        return self.project.root if self.project else None

    async def _new(self, cpuset: str | None = None) -> WarmContainer:
        assert self.image_tag is not None  # __aenter__ found or built it
        container = WarmContainer(
            self.client, self.image_tag, self.limits, cpuset, self.runtime, project=self.mounted
        )
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
    async def _exchange(self, message: dict, limits: Limits, timer: bool = False) -> Answer:
        """Run one job; a test or call job the sandbox itself failed (a container found dead,
        a harness error) runs once more on another container before its fault is reported.
        Timing jobs have their own retry (:meth:`time`)."""
        if timer:
            return await self._on_timer(message, limits)
        answer = await self._on_worker(message, limits)
        if isinstance(answer, WireFault) and answer.by_sandbox:
            answer = await self._on_worker(message, limits)
        return answer

    async def _on_timer(self, message: dict, limits: Limits) -> Answer:
        async with self.timer_lock:
            if self.timer is None:
                self.timer = await self._new(cpuset=str(self.timing_cpu))
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

    async def _on_worker(self, message: dict, limits: Limits) -> Answer:
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
    ) -> tuple[Answer, bool]:
        try:
            raw = await asyncio.to_thread(
                container.exchange, message, limits.wall_seconds + HOST_MARGIN_S
            )
        except ContainerLost as lost:
            return container_lost(str(lost), lost.live, lost.deadline), False
        answer = read_answer(raw)
        if isinstance(answer, WireFault) and answer.kind is FaultKind.HARNESS:
            return answer, False
        keep = (
            raw.get("clean", True)
            and container.uses < self.max_uses
            and raw.get("verdict") not in RECYCLE_VERDICTS
        )
        return answer, keep

    async def run(self, job: RunJob) -> RunResult:
        """Run one candidate against the problem's tests: a verdict, never an exception for
        anything the candidate does."""
        check_project(job, self.project)
        result = run_result(await self._exchange(run_message(job), job.limits))
        if result.passed and job.repository_tests:
            assert self.image_tag is not None  # __aenter__ found or built it
            async with self.plain_slots:
                plain = await fresh_exchange(
                    self.client, self.image_tag, repository_message(job), job.limits,
                    command=PLAIN_COMMAND, runtime=self.runtime, project=self.mounted,
                )  # fmt: skip
            result = judged_by_repository_tests(result, plain)
        return result

    async def call(self, job: CallJob) -> list[CallOutcome]:
        """The entry point's output on each input, for differential testing (:class:`CallJob`):
        a value larger than ``job.value_bytes`` (by default 64 KiB, at most 4 MiB) comes back
        as its digests only."""
        limits = job.limits or self.limits
        if job.module is not None and self.project is None:
            raise SandboxError("the call names a project's module, but no project is mounted")
        answer = await self._exchange(call_message(job, limits), limits)
        return call_outcomes(answer, len(job.inputs))

    async def time(self, job: TimingJob) -> TimingResult:
        """Time candidates one at a time on the pinned CPU, in interleaved rounds, each round in
        a fresh process (:class:`TimingJob`). A candidate answering otherwise when timed than
        when tested or screened, or taking far longer than its cost said, gets an error instead
        of timings. A candidate that breaks the whole job (its round killed the harness or left
        the container dirty) is named in ``errors`` and the others are timed again without it."""
        if not job.candidates:
            return TimingResult(timings={}, rounds=job.rounds)
        limits = job.limits or self.limits
        expected = expected_digests(job)
        budgets = round_budgets(job, limits)
        remaining = dict(job.candidates)
        errors: dict[str, Fault] = {}
        notes: list[str] = []
        for attempt in range(TIMING_ATTEMPTS):
            spent = [budgets[cid] for cid in remaining]
            limits_now = job_limits(limits, spent, job.rounds, HOST_MARGIN_S)
            message = time_message(job, remaining, limits_now, expected, budgets=budgets)
            answer = await self._exchange(message, limits_now, timer=True)
            if isinstance(answer, dict) and "timings" in answer:
                result = TimingResult.model_validate(answer)
                result.errors = errors | result.errors
                result.notes = notes
                return check_against_expected(result, expected)
            fault = answer if isinstance(answer, WireFault) else job_failed(answer)
            fault.raise_problem()
            if fault.culprit in remaining:
                errors[fault.culprit] = Fault(
                    verdict=fault.verdict, message=f"broke the timing job: {fault.message}"
                )
                notes.append(
                    f"{fault.culprit} broke the timing job ({fault.message}); "
                    "the others were re-timed"
                )
                del remaining[fault.culprit]
                if not remaining:
                    return TimingResult(timings={}, errors=errors, rounds=job.rounds, notes=notes)
            elif attempt:
                raise SandboxError(f"timing failed: {fault.message}")
            else:
                notes.append(f"the timing job failed ({fault.message}); it was run again")
        raise SandboxError(f"timing failed: {len(errors)} candidates broke the timing job")


async def ready_engine(
    runtime: str | None, image_tag: str | None, build: bool
) -> tuple[docker.DockerClient, str]:
    """The engine (reachable, with the runtime asked for, our leftovers pruned) and the image
    tag to run (built first when missing and ``build``)."""
    client = await asyncio.to_thread(engine.connect)
    if runtime:
        await asyncio.to_thread(engine.require_runtime, client, runtime)
    await asyncio.to_thread(prune, client)
    if image_tag is None:
        found = await asyncio.to_thread(image.find_image, client)
        if found is None and not build:
            raise SandboxUnavailable("the sandbox image is not built: run `codegen sandbox build`")
        image_tag = found if found else await asyncio.to_thread(image.ensure_image, client)
    return client, image_tag
