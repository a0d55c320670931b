"""The seam between what the sandbox does and how: one protocol every backend implements.

Why it exists: the flows built on the sandbox (solve, rank, bench) need only the three jobs
below (run tests, call the entry point, time candidates), yet the only implementation used to be
a pool of hardened Docker containers, so testing a flow meant starting Docker. With the seam, a
flow takes any :class:`SandboxBackend`; the Docker pool stays the one that is safe to point at
untrusted code, ``"unsafe-local"`` runs the same jobs in-process, and
:class:`sandbox.testing.ScriptedSandbox` answers from a script. It is modelled on httpx's
``BaseTransport`` (one small interface taking one request, a real and a test implementation)
and on Inspect's sandbox environments (every implementation must pass one shared self-check
suite, importable by any backend's tests: :class:`sandbox.testing.SandboxContract`).

Each job is one value (:class:`~sandbox.models.RunJob`, :class:`~sandbox.models.CallJob`,
:class:`~sandbox.models.TimingJob`), so a wrapper passes it on as it is. Backends are named in
:mod:`sandbox.registry`; this module imports none of them.
"""

from __future__ import annotations

from typing import Any, Protocol, Self, runtime_checkable

from .models import (
    CallJob,
    CallOutcome,
    Limits,
    Project,
    RunJob,
    RunResult,
    TimingJob,
    TimingResult,
)


@runtime_checkable
class SandboxBackend(Protocol):
    """What callers use of a sandbox: an async context that runs, calls and times candidates.
    A candidate misbehaving is a verdict, never an exception; a broken problem is ProblemError."""

    limits: Limits  # the limits of a call or timing job that names none
    project: Project | None  # a project's source, mounted read-only in every container

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: Any) -> None: ...

    async def run(self, job: RunJob) -> RunResult:
        """The candidate against the job's pytest files: verdict, outcomes, benchmarks."""
        ...

    async def call(self, job: CallJob) -> list[CallOutcome]:
        """The entry point's outcome on each of the job's inputs, in order."""
        ...

    async def time(self, job: TimingJob) -> TimingResult:
        """The job's candidates timed in interleaved rounds; one answering otherwise than when
        tested or screened gets a Fault instead of timings."""
        ...
