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
import base64
import os
import pickle
from typing import Any

import docker

from . import engine, image
from .container import ContainerLost, WarmContainer
from .errors import ProblemError, SandboxError, SandboxUnavailable
from .harness.plaindata import combine
from .models import (
    DEFAULT_LIMITS,
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
from .plain_runs import (
    HOST_MARGIN_S,
    PLAIN_COMMAND,
    check_project,
    fresh_exchange,
    judged_by_repository_tests,
    repository_message,
)
from .prune import prune

RECYCLE_VERDICTS = {"timeout", "memory_limit"}
INPUTS_BENCHMARK = "inputs"  # the benchmark's name when `inputs` are the workload
# A timing round may take this many times what the candidate cost when tested, plus the floor,
# and never more than a test may: sleeping or stalling when timed cannot hold the job up.
ROUND_BUDGET_FACTOR = 10.0
ROUND_BUDGET_FLOOR_S = 1.0
ROUND_OVERHEAD_S = 0.2  # clean-up, a fresh process and the host's share of one round
TIMING_ATTEMPTS = 3  # a broken timing job is run again without the candidate that broke it


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
    async def _exchange(self, message: dict, limits: Limits, timer: bool = False) -> dict:
        """Run one job; a test or call job the sandbox itself failed (a container found dead,
        a harness error) runs once more on another container before its fault is reported.
        Timing jobs have their own retry (:meth:`time`)."""
        if timer:
            return await self._on_timer(message, limits)
        answer = await self._on_worker(message, limits)
        if answer.get("sandbox_fault") and "culprit" not in answer:
            answer = await self._on_worker(message, limits)
        return answer

    async def _on_timer(self, message: dict, limits: Limits) -> dict:
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

    async def _on_worker(self, message: dict, limits: Limits) -> dict:
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
            answer = {
                "verdict": "timeout" if lost.deadline else "crashed",
                "message": f"sandbox container lost: {lost}",
                "sandbox_fault": not lost.deadline,
            }
            return answer | ({"culprit": lost.live} if lost.live else {}), False
        if "internal_error" in answer:
            return {
                "verdict": "crashed",
                "message": f"harness failure: {answer['internal_error']}",
                "sandbox_fault": True,
            }, False
        keep = (
            answer.get("clean", True)
            and container.uses < self.max_uses
            and answer.get("verdict") not in RECYCLE_VERDICTS
        )
        return answer, keep

    async def run(self, job: SandboxJob) -> RunResult:
        """Run one candidate against the problem's tests: a verdict, never an exception for
        anything the candidate does."""
        check_project(job, self.project)
        answer = await self._exchange(run_message(job), job.limits)
        raise_problem(answer)
        result = RunResult.model_validate(result_fields(answer))
        if result.passed and job.repository_tests:
            assert self.image_tag is not None  # __aenter__ found or built it
            async with self.plain_slots:
                plain = await fresh_exchange(
                    self.client, self.image_tag, repository_message(job), job.limits,
                    command=PLAIN_COMMAND, runtime=self.runtime, project=self.mounted,
                )  # fmt: skip
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
        """The entry point's output on each input, for differential testing. After
        ``max_timeouts`` calls that hit the test deadline the rest are skipped (cause timeout):
        a candidate stuck on these inputs would otherwise cost a deadline per input.
        ``value_bytes``: how large a value may be and still be sent back (larger ones come as
        digests only); by default 64 KiB, at most 4 MiB. ``module``: the project's module the
        candidate is."""
        limits = limits or self.limits
        if module is not None and self.project is None:
            raise SandboxError("the call names a project's module, but no project is mounted")
        message = call_message(
            candidate, entry_point, inputs, limits, max_timeouts, value_bytes, module
        )
        answer = await self._exchange(message, limits)
        return call_outcomes(answer, len(inputs))

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
        """Time candidates one at a time on the pinned CPU, in interleaved rounds (A B C, B C A…),
        each round in a fresh process, on the benchmark tests or else on `inputs`. Candidates
        that are a project's ``module`` have ``floor`` as their do-nothing version (the module
        with an empty body: its imports cost the same), whose cost is taken out of theirs.

        Pass what is known of each candidate, and its timed answers are held to it: `tested`,
        its run against these test files (its benchmark answers and its cost); `screened`, its
        outcomes on exactly `inputs`. A candidate answering otherwise when timed, or taking
        far longer than its cost said, gets an error instead of timings. A candidate that breaks
        the whole job (its round killed the harness or left the container dirty) is named in
        ``errors`` and the others are timed again without it."""
        if not candidates:
            return TimingResult(timings={}, rounds=rounds)
        limits = limits or self.limits
        expected = _expected(candidates, inputs, tested or {}, screened or {})
        budgets = _budgets(candidates, limits, tested or {}, screened or {})
        remaining = dict(candidates)
        errors: dict[str, Fault] = {}
        notes: list[str] = []
        for attempt in range(TIMING_ATTEMPTS):
            job_limits = _job_limits(limits, [budgets[cid] for cid in remaining], rounds)
            message = {
                "op": "time",
                "entry_point": entry_point,
                "test_files": test_files,
                "candidates": remaining,
                "rounds": rounds,
                "budgets": {cid: budgets[cid] for cid in remaining},
                "expected": {cid: expected[cid] for cid in remaining if cid in expected},
                "limits": job_limits.model_dump(),
                "inputs": _pack(inputs) if inputs else None,
                "seed": seed,
                "module": module.message() if module else None,
                "floor": floor,
            }
            answer = await self._exchange(message, job_limits, timer=True)
            raise_problem(answer)
            if "timings" in answer:
                result = TimingResult.model_validate(answer)
                result.errors = errors | result.errors
                result.notes = notes
                return _check_against_expected(result, expected)
            reason = answer.get("message") or answer.get("verdict", "no answer")
            culprit = answer.get("culprit")
            if culprit in remaining:
                errors[culprit] = Fault(
                    verdict=_verdict(answer.get("verdict")),
                    message=f"broke the timing job: {reason}",
                )
                notes.append(f"{culprit} broke the timing job ({reason}); the others were re-timed")
                del remaining[culprit]
                if not remaining:
                    return TimingResult(timings={}, errors=errors, rounds=rounds, notes=notes)
            elif attempt:
                raise SandboxError(f"timing failed: {reason}")
            else:
                notes.append(f"the timing job failed ({reason}); it was run again")
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


def run_message(job: SandboxJob) -> dict:
    return {
        "op": "run",
        "entry_point": job.entry_point,
        "test_files": job.test_files,
        "candidate": job.candidate,
        "limits": job.limits.model_dump(),
        "seed": job.seed,
        "module": job.module.message() if job.module else None,
    }


def call_message(
    candidate: str,
    entry_point: str,
    inputs: list[tuple[tuple, dict]],
    limits: Limits,
    max_timeouts: int,
    value_bytes: int | None = None,
    module: ModuleSpec | None = None,
) -> dict:
    return {
        "op": "call",
        "entry_point": entry_point,
        "candidate": candidate,
        "max_timeouts": max_timeouts,
        "inputs": _pack(inputs),
        "limits": limits.model_dump(),
        "value_bytes": value_bytes,
        "module": module.message() if module else None,
    }


def call_outcomes(answer: dict, count: int) -> list[CallOutcome]:
    if "outcomes" not in answer:
        return [failed_call(answer)] * count
    return [CallOutcome.model_validate(outcome) for outcome in answer["outcomes"]]


def raise_problem(answer: dict) -> None:
    if "problem_error" in answer:
        raise ProblemError(f"the problem's tests do not load: {answer['problem_error']}")


def _expected(
    candidates: dict[str, str],
    inputs: list[tuple[tuple, dict]] | None,
    tested: dict[str, RunResult],
    screened: dict[str, list[CallOutcome]],
) -> dict[str, dict[str, str]]:
    """What each candidate must answer when timed, as digests per benchmark: what it answered
    when tested (benchmark tests), or on these very inputs when screened."""
    expected: dict[str, dict[str, str]] = {}
    for cid in candidates:
        if inputs:
            outcomes = screened.get(cid)
            if outcomes and len(outcomes) == len(inputs) and all(o.digest for o in outcomes):
                expected[cid] = {INPUTS_BENCHMARK: combine([o.digest for o in outcomes])}
        elif cid in tested:
            expected[cid] = {b.test: b.digest for b in tested[cid].benchmarks if b.digest}
    return expected


def _budgets(
    candidates: dict[str, str],
    limits: Limits,
    tested: dict[str, RunResult],
    screened: dict[str, list[CallOutcome]],
) -> dict[str, float]:
    """Seconds one timing round of each candidate may take: a multiple of what it cost when
    tested and screened, at least the floor, at most a test's limit."""
    budgets = {}
    for cid in candidates:
        run = tested.get(cid)
        if run is None and cid not in screened:
            budgets[cid] = limits.test_seconds
            continue
        cost = 0.0
        if run is not None:
            cost = max((b.median for b in run.benchmarks), default=run.cpu_seconds)
        cost += sum(o.cpu_seconds for o in screened.get(cid, []))
        budget = ROUND_BUDGET_FLOOR_S + ROUND_BUDGET_FACTOR * cost
        budgets[cid] = min(limits.test_seconds, budget)
    return budgets


def _job_limits(limits: Limits, budgets: list[float], rounds: int) -> Limits:
    """A wall-clock limit the job cannot reach while every round keeps to its budget."""
    needed = rounds * (sum(budgets) + ROUND_OVERHEAD_S * len(budgets)) + HOST_MARGIN_S
    return limits.model_copy(update={"wall_seconds": max(limits.wall_seconds, needed)})


def _check_against_expected(
    timing: TimingResult, expected: dict[str, dict[str, str]]
) -> TimingResult:
    """Drop the timings of a candidate whose timed answers are not what it answered when
    tested or screened (the harness checks each round; this checks the harness's report)."""
    for cid, stats_list in list(timing.timings.items()):
        for stats in stats_list:
            want = expected.get(cid, {}).get(stats.test)
            if not stats.digest or (want is not None and stats.digest != want):
                del timing.timings[cid]
                timing.errors[cid] = Fault(
                    verdict=Verdict.FAILED,
                    message=f"{stats.test}: returned a different value when timed than when tested",
                )
                break
    return timing


def failed_call(answer: dict) -> CallOutcome:
    """The outcome of every input of a call job whose candidate could not be started."""
    return CallOutcome(
        ok=False,
        error=answer.get("message", "candidate failed"),
        cause=Verdict(answer.get("verdict", "error")),
    )


def _verdict(name: object) -> Verdict:
    try:
        return Verdict(str(name))
    except ValueError:
        return Verdict.CRASHED


def _pack(inputs: list[tuple[tuple, dict]]) -> str:
    return base64.b64encode(pickle.dumps([(tuple(a), dict(k)) for a, k in inputs])).decode()


def result_fields(answer: dict) -> dict:
    return {key: answer[key] for key in RunResult.model_fields if key in answer}
