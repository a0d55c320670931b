"""Jobs: admitted or refused, queued, run a few at a time on the warm parts, followed through
their events, cancelled, and recorded.

- **Admission.** At most ``max_pending`` jobs queued or running in all, and ``per_owner`` per
  API token; past that a submit is refused with a Retry-After (HTTP 429).
- **Scheduling.** ``max_running`` jobs run at once; each sees the sandbox through its own
  :class:`~codegen.service.fair.FairSandbox`, so jobs share its containers in turn, and every
  model call goes through the warm throttles shared by all jobs.
- **Events.** Each job keeps its progress events (bounded) for late subscribers and pushes new
  ones to every subscriber; the last event says how it ended.
- **Cancellation** cancels the job's task: its model requests stop and its sandbox work is
  released (a container interrupted mid-job is replaced, never reused).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from codegen.errors import BadInput, EnvironmentProblem
from codegen.service.api import JobError, JobKind, JobState, JobView
from codegen.service.store import JobStore
from sandbox import SandboxUnavailable

MAX_EVENTS = 5000  # kept per job for late subscribers


class Refused(Exception):
    """Admission control said no: the client should come back after ``retry_after`` s."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Conflict(Exception):
    """An Idempotency-Key reused for a different request."""


Work = Callable[["Job"], Awaitable[dict[str, Any]]]  # runs the job, returns its report


@dataclass
class Job:
    view: JobView
    owner: str
    work: Work
    events: list[dict[str, Any]] = field(default_factory=list)
    listeners: set[asyncio.Queue[dict[str, Any] | None]] = field(default_factory=set)
    task: asyncio.Task[None] | None = None

    @property
    def id(self) -> str:
        return self.view.id

    def emit(self, event: dict[str, Any]) -> None:
        if len(self.events) < MAX_EVENTS:
            self.events.append(event)
        for queue in self.listeners:
            queue.put_nowait(event)


class JobManager:
    def __init__(
        self,
        store: JobStore,
        *,
        max_running: int = 4,
        max_pending: int = 32,
        per_owner: int = 8,
        on_finished: Callable[[Job], None] | None = None,
    ) -> None:
        self.store = store
        self.max_pending = max_pending
        self.per_owner = per_owner
        self.running = asyncio.Semaphore(max_running)
        self.live: dict[str, Job] = {}
        self.on_finished = on_finished or (lambda job: None)

    # -- submitting -----------------------------------------------------------------------
    def submit(
        self,
        kind: JobKind,
        request: str,
        problem: str,
        work: Work,
        owner: str,
        idempotency_key: str | None = None,
    ) -> tuple[JobView, bool]:
        """(the job, whether it is new). An Idempotency-Key seen before returns that job."""
        digest = hashlib.sha256(request.encode()).hexdigest()
        if idempotency_key:
            known = self.store.by_idempotency_key(owner, idempotency_key)
            if known is not None:
                view, known_digest = known
                if known_digest != digest:
                    raise Conflict("this Idempotency-Key was used for a different request")
                return self.view(view.id) or view, False
        self._admit(owner)
        view = JobView(
            id=uuid.uuid4().hex, kind=kind, state=JobState.QUEUED, created=time.time(),
            problem=problem,
        )  # fmt: skip
        self.store.insert(view, owner, idempotency_key, request, digest)
        job = Job(view, owner, work)
        self.live[job.id] = job
        job.task = asyncio.create_task(self._run(job))
        return view, True

    def _admit(self, owner: str) -> None:
        if len(self.live) >= self.max_pending:
            raise Refused(f"the service has {len(self.live)} jobs queued or running", 5)
        mine = sum(job.owner == owner for job in self.live.values())
        if mine >= self.per_owner:
            raise Refused(f"{mine} of your jobs are queued or running (limit {self.per_owner})", 5)

    # -- running --------------------------------------------------------------------------
    async def _run(self, job: Job) -> None:
        state, report, error = JobState.CANCELLED, None, None
        try:
            async with self.running:
                self._set(job, state=JobState.RUNNING, started=time.time())
                await asyncio.to_thread(self.store.started, job.id, job.view.started)
                report = await job.work(job)
                state = JobState.DONE
        except asyncio.CancelledError:
            state = JobState.CANCELLED
        except Exception as failure:
            state, error = JobState.FAILED, job_error(failure)
        finally:
            await self._finish(job, state, report, error)

    async def _finish(
        self, job: Job, state: JobState, report: dict[str, Any] | None, error: JobError | None
    ) -> None:
        self._set(job, state=state, finished=time.time(), report=report, error=error)
        await asyncio.to_thread(
            self.store.finished, job.id, state, job.view.finished, report, error
        )  # the report and the final state land together, before anyone reads "done"
        job.emit({"type": "end", "state": state, "error": error.model_dump() if error else None})
        for queue in job.listeners:
            queue.put_nowait(None)
        self.live.pop(job.id, None)
        self.on_finished(job)

    def _set(self, job: Job, **fields: Any) -> None:
        job.view = job.view.model_copy(update=fields)
        if "state" in fields:
            job.emit({"type": "state", "state": fields["state"]})

    # -- reading --------------------------------------------------------------------------
    def view(self, job_id: str) -> JobView | None:
        live = self.live.get(job_id)
        return live.view if live is not None else self.store.get(job_id)

    def cancel(self, job_id: str) -> bool:
        """Cancel a live job; False when there is none (unknown, or already over)."""
        job = self.live.get(job_id)
        if job is None or job.task is None:
            return False
        job.task.cancel()
        return True

    async def events(self, job_id: str) -> AsyncIterator[dict[str, Any]]:
        """What happened so far, then what happens, until the job ends."""
        job = self.live.get(job_id)
        if job is None:  # over (or unknown): its final state is the only event left
            view = self.store.get(job_id)
            if view is not None:
                yield {"type": "end", "state": view.state,
                       "error": view.error.model_dump() if view.error else None}  # fmt: skip
            return
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        backlog = list(job.events)
        job.listeners.add(queue)
        try:
            for event in backlog:
                yield event
            while (event := await queue.get()) is not None:
                yield event
        finally:
            job.listeners.discard(queue)

    def counts(self) -> dict[str, int]:
        """Live jobs by state (for /metrics)."""
        counts = dict.fromkeys(("queued", "running"), 0)
        for job in self.live.values():
            counts[job.view.state] = counts.get(job.view.state, 0) + 1
        return counts

    async def stop(self) -> None:
        """On shutdown: cancel what runs (each is recorded as cancelled)."""
        tasks = [job.task for job in self.live.values() if job.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def job_error(failure: Exception) -> JobError:
    """The failure as the CLI would report it: its one line and its exit code."""
    if isinstance(failure, BadInput):
        return JobError(kind="bad_input", message=str(failure), exit_code=BadInput.exit_code)
    if isinstance(failure, EnvironmentProblem | SandboxUnavailable):
        return JobError(kind="environment", message=str(failure), exit_code=3)
    return JobError(kind="internal", message=f"{type(failure).__name__}: {failure}", exit_code=3)


def event_record(event: object) -> dict[str, Any]:
    """A progress event (a dataclass of codegen.solve.events or codegen.evaluation) as JSON."""
    record: dict[str, Any] = {"type": type(event).__name__}
    for name, value in dataclasses.asdict(event).items():  # type: ignore[call-overload]
        record[name] = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
    return record
