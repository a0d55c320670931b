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
- **Tenancy.** A job is read, followed and cancelled only by its owner (or the admin, who
  reads as ``owner=None``); to anyone else it does not exist.
- **Retries.** An Idempotency-Key seen before returns that job, unless it was interrupted:
  then the same request runs again as a new job that names the old one (``retry_of``).
- **Draining** (SIGTERM): no new job is admitted, queued jobs end ``interrupted``, running ones
  get a grace period to finish and are then interrupted too (reason ``shutdown``); every
  follower gets the ``end`` event either way.
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
from codegen.service.api import Interruption, JobError, JobKind, JobState, JobView
from codegen.service.store import JobStore
from sandbox import SandboxError, SandboxUnavailable

MAX_EVENTS = 5000  # kept per job for late subscribers


class Refused(Exception):
    """Admission control said no: the client should come back after ``retry_after`` s."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Conflict(Exception):
    """An Idempotency-Key reused for a different request."""


class Draining(Exception):
    """The service is shutting down: no new job."""


Work = Callable[["Job"], Awaitable[dict[str, Any]]]  # runs the job, returns its report


@dataclass
class Job:
    view: JobView
    owner: str
    work: Work
    events: list[dict[str, Any]] = field(default_factory=list)
    listeners: set[asyncio.Queue[dict[str, Any] | None]] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    stop_reason: Interruption | None = None  # set when the service, not the client, stops it
    began: bool = False  # its task has started (a task cancelled before that never runs)
    cancelling: bool = False

    @property
    def id(self) -> str:
        return self.view.id

    def emit(self, event: dict[str, Any]) -> None:
        if len(self.events) < MAX_EVENTS or event["type"] == "end":
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
        self.accepting = True
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
        models: list[str] | None = None,
    ) -> tuple[JobView, bool]:
        """(the job, whether it was submitted before under this key). A key seen before
        returns that job, unless it was interrupted: then a new run starts (``retry_of``)."""
        digest = hashlib.sha256(request.encode()).hexdigest()
        retry_of = None
        if idempotency_key:
            known = self.store.by_idempotency_key(owner, idempotency_key)
            if known is not None:
                view, known_digest = known
                if known_digest != digest:
                    raise Conflict("this Idempotency-Key was used for a different request")
                if view.state is not JobState.INTERRUPTED:
                    return self.view(view.id, owner) or view, True
                retry_of = view.id
        self._admit(owner)
        view = JobView(
            id=uuid.uuid4().hex, kind=kind, state=JobState.QUEUED, created=time.time(),
            problem=problem, models=models or [], retry_of=retry_of,
        )  # fmt: skip
        self.store.insert(view, owner, idempotency_key, request, digest)
        job = Job(view, owner, work)
        self.live[job.id] = job
        job.task = asyncio.create_task(self._run(job))
        return view, False

    def _admit(self, owner: str) -> None:
        if not self.accepting:
            raise Draining("the service is shutting down; submit again once it is back")
        if len(self.live) >= self.max_pending:
            raise Refused(f"the service has {len(self.live)} jobs queued or running", 5)
        mine = sum(job.owner == owner for job in self.live.values())
        if mine >= self.per_owner:
            raise Refused(f"{mine} of your jobs are queued or running (limit {self.per_owner})", 5)

    # -- running --------------------------------------------------------------------------
    async def _run(self, job: Job) -> None:
        job.began = True
        state, report, error = JobState.CANCELLED, None, None
        try:
            if job.cancelling:  # cancelled before its task started
                raise asyncio.CancelledError
            async with self.running:
                self._set(job, state=JobState.RUNNING, started=time.time())
                assert job.view.started is not None  # set on the line above
                await asyncio.to_thread(self.store.started, job.id, job.view.started)
                report = await job.work(job)
                state = JobState.DONE
        except asyncio.CancelledError:
            state = JobState.INTERRUPTED if job.stop_reason else JobState.CANCELLED
        except Exception as failure:
            state, error = JobState.FAILED, job_error(failure)
        finally:
            await self._finish(job, state, report, error)

    async def _finish(
        self, job: Job, state: JobState, report: dict[str, Any] | None, error: JobError | None
    ) -> None:
        reason = job.stop_reason if state is JobState.INTERRUPTED else None
        winner, model = winner_of(report)
        self._set(job, state=state, finished=time.time(), report=report, error=error,
                  reason=reason, winner=winner, winner_model=model)  # fmt: skip
        await asyncio.to_thread(self.store.finished, job.view)
        # the report and the final state land together, before anyone reads "done"
        job.emit(end_event(job.view))
        for queue in job.listeners:
            queue.put_nowait(None)
        self.live.pop(job.id, None)
        self.on_finished(job)

    def _set(self, job: Job, **fields: Any) -> None:
        job.view = job.view.model_copy(update=fields)
        if fields.get("state") in (JobState.QUEUED, JobState.RUNNING):
            job.emit({"type": "state", "state": fields["state"]})

    # -- reading --------------------------------------------------------------------------
    def view(self, job_id: str, owner: str | None) -> JobView | None:
        """The job as ``owner`` may see it (any job for None): None when it is not theirs."""
        live = self.live.get(job_id)
        if live is not None:
            return live.view if owner is None or live.owner == owner else None
        return self.store.get(job_id, owner)

    def cancel(self, job_id: str, reason: Interruption | None = None) -> bool:
        """Cancel a live job; False when there is none (unknown, or already over). With a
        reason, the service stopped it: it ends ``interrupted``, not ``cancelled``."""
        job = self.live.get(job_id)
        if job is None or job.task is None or job.task.done():
            return False
        if job.cancelling:
            return True  # on its way out already
        job.stop_reason = reason
        job.cancelling = True
        if job.began:
            job.task.cancel()
        return True

    async def events(self, job_id: str) -> AsyncIterator[dict[str, Any]]:
        """What happened so far, then what happens, until the job ends (the caller checked
        that the job is the follower's)."""
        job = self.live.get(job_id)
        if job is None:  # over (or unknown): its final state is the only event left
            view = self.store.get(job_id, None)
            if view is not None:
                yield end_event(view)
            return
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        backlog = list(job.events)
        job.listeners.add(queue)
        try:
            for event in backlog:
                yield event
            if backlog and backlog[-1]["type"] == "end":  # it had ended: nothing more comes
                return
            while (queued := await queue.get()) is not None:
                yield queued
        finally:
            job.listeners.discard(queue)

    def counts(self) -> dict[str, int]:
        """Live jobs by state (for /metrics)."""
        counts = dict.fromkeys(("queued", "running"), 0)
        for job in self.live.values():
            counts[job.view.state] = counts.get(job.view.state, 0) + 1
        return counts

    # -- stopping -------------------------------------------------------------------------
    async def drain(self, grace_s: float) -> None:
        """On SIGTERM: admit nothing more, interrupt the queued jobs, give the running ones
        ``grace_s`` to finish, then interrupt the rest. Returns once every job has ended."""
        self.accepting = False
        for job in list(self.live.values()):
            if job.view.state is JobState.QUEUED:
                self.cancel(job.id, Interruption.SHUTDOWN)
        tasks = [job.task for job in self.live.values() if job.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=grace_s)
        await self.stop()

    async def stop(self) -> None:
        """Interrupt whatever still runs (reason ``shutdown``) and wait for it to be recorded."""
        self.accepting = False
        tasks = [job.task for job in self.live.values() if job.task is not None]
        for job in list(self.live.values()):
            self.cancel(job.id, Interruption.SHUTDOWN)
        await asyncio.gather(*tasks, return_exceptions=True)


def end_event(view: JobView) -> dict[str, Any]:
    """The last event of every job: how it ended, and why."""
    error = view.error.model_dump() if view.error else None
    return {"type": "end", "state": view.state, "reason": view.reason, "error": error,
            "winner": view.winner, "winner_model": view.winner_model}  # fmt: skip


def winner_of(report: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """(the winner a solve or rank report names, the model that wrote it), for the list."""
    winner = (report or {}).get("winner")
    if not isinstance(winner, str):
        return None, None
    candidates = (report or {}).get("candidates") or []
    models = [c.get("model") for c in candidates if isinstance(c, dict) and c.get("id") == winner]
    return winner, models[0] if models and isinstance(models[0], str) else None


def job_error(failure: Exception) -> JobError:
    """The failure as the CLI would report it: its one line and its exit code."""
    if isinstance(failure, BadInput):
        return JobError(kind="bad_input", message=str(failure), exit_code=BadInput.exit_code)
    if isinstance(failure, EnvironmentProblem | SandboxUnavailable):
        return JobError(kind="environment", message=str(failure), exit_code=3)
    if isinstance(failure, SandboxError):  # the problem's tests are broken, as the CLI says
        line = str(failure).splitlines()[0] if str(failure) else type(failure).__name__
        return JobError(kind="bad_input", message=line, exit_code=BadInput.exit_code)
    return JobError(kind="internal", message=f"{type(failure).__name__}: {failure}", exit_code=3)


def event_record(event: object) -> dict[str, Any]:
    """A progress event (a dataclass of codegen.solve.events or codegen.evaluation) as JSON."""
    record: dict[str, Any] = {"type": type(event).__name__}
    for name, value in dataclasses.asdict(event).items():  # type: ignore[call-overload]  # a dataclass
        record[name] = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
    return record
