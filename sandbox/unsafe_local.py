"""UNSAFE: a sandbox backend that is no sandbox. For tests only.

:class:`UnsafeLocalSandbox` runs candidate code *in the calling process*, with no isolation and
no limits: a candidate can read and change anything the caller can, hang it, exhaust its memory
or kill it. It exists only so that the flows built on the sandbox (solve, rank, bench) can be
unit-tested in seconds without Docker. Never point it at code you would not run yourself.
"""

from __future__ import annotations

import asyncio
import functools
import types
import warnings
from typing import Any

from .errors import SandboxError
from .models import (
    DEFAULT_LIMITS,
    CallJob,
    CallOutcome,
    Limits,
    ModuleSpec,
    Project,
    RunJob,
    RunResult,
    TimingJob,
    TimingResult,
)

WARNING = (
    "UnsafeLocalSandbox runs candidate code in this process with no isolation and no limits; "
    "it exists only to unit-test the flows built on the sandbox without Docker"
)


class UnsafeLocalSandbox:
    """UNSAFE, for tests only: the sandbox's jobs run in the calling process.

    Candidate code runs in this process with no isolation and no limits. It exists only so
    that the flows built on the sandbox (solve, rank, bench) can be unit-tested in seconds
    without Docker.

    What it keeps of the Docker backend is what a flow can observe: the same verdicts,
    messages, test names (``tests/test_x.py::test_y``), plain-data values, copied-back
    arguments, rebuilt builtin exceptions, benchmark statistics and answer digests (equal to
    Docker's for the same answers), because it runs the harness's own plugin, benchmark fixture
    and session around a candidate module exec'd here instead of in a container. Jobs run one
    at a time, off the event loop.

    What it does not do: enforce anything in ``limits`` (no time, memory, output or process
    limit, no deadline: a candidate that loops hangs the caller; ``max_timeouts`` is ignored);
    keep a candidate from reading or changing the caller's state; time precisely (a round
    costs the whole process's ``time.process_time``); tell candidate output from the tests'
    (``stdout`` holds all the process printed during the job); hand plain data to a test that
    imports ``solution`` inside a test function rather than at the top (it gets the module).
    The options of :class:`sandbox.Sandbox` (``workers``, ``image_tag``…) are accepted and
    ignored, so that one set of options opens either backend. A project is never mounted: its
    code would run on this machine (a job naming a project's module is refused).
    """

    project: Project | None = None

    def __init__(self, limits: Limits = DEFAULT_LIMITS, **docker_options: Any) -> None:
        self.limits = limits

    async def __aenter__(self) -> UnsafeLocalSandbox:
        warnings.warn(WARNING, RuntimeWarning, stacklevel=2)
        _jobs()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        pass

    async def run(self, job: RunJob) -> RunResult:
        """The candidate against the job's pytest files, as :meth:`sandbox.Sandbox.run`."""
        _refuse_project(job.module)
        return await asyncio.to_thread(_jobs().run_job, job)

    async def call(self, job: CallJob) -> list[CallOutcome]:
        """The entry point's outcome on each input, as :meth:`sandbox.Sandbox.call`."""
        _refuse_project(job.module)
        return await asyncio.to_thread(_jobs().call_inputs, job)

    async def time(self, job: TimingJob) -> TimingResult:
        """Interleaved rounds, each candidate re-exec'd every round, as
        :meth:`sandbox.Sandbox.time` (never truncated: there is no deadline)."""
        _refuse_project(job.module)
        if not job.candidates:
            return TimingResult(timings={}, rounds=job.rounds)
        return await asyncio.to_thread(_jobs().time_candidates, job)


def _refuse_project(module: ModuleSpec | None) -> None:
    if module is not None:
        raise SandboxError("a project's module runs in the docker backend only, never here")


@functools.cache
def _jobs() -> types.ModuleType:
    """The in-process machinery, imported on first use: it loads pytest and hypothesis, which
    importing :mod:`sandbox` must not. Importing the harness's plugin loads its hypothesis
    profile for the whole process; the caller's profile is put back here."""
    from hypothesis import settings

    profile = settings.get_current_profile_name()
    from . import unsafe_jobs

    settings.load_profile(profile)
    return unsafe_jobs
