"""The seam between what the sandbox does and how: one protocol every backend implements, and a
registry of backends by name.

Why it exists: the flows built on the sandbox (solve, rank, bench) need only the three jobs
below (run tests, call the entry point, time candidates), yet the only implementation used to be
a pool of hardened Docker containers, so testing a flow meant starting Docker. With the seam, a
flow takes any :class:`SandboxBackend`; the Docker pool stays the one that is safe to point at
untrusted code, and ``"unsafe-local"`` runs the same jobs in-process so that flows can be
unit-tested in seconds. It is modelled on httpx's ``BaseTransport`` (one small interface, a real
and a test implementation) and on Inspect's sandbox environments (every implementation must pass
one shared self-check suite: ``tests/test_sandbox_contract.py``).

A new backend is a class with this shape, registered by name in :data:`BACKENDS` (as an llm
plugin registers a model), and run against the contract suite.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, Self, runtime_checkable

from .errors import SandboxError
from .models import CallOutcome, Limits, ModuleSpec, Project, RunResult, SandboxJob, TimingResult
from .pool import Sandbox
from .ray_backend import RaySandbox
from .strict import StrictSandbox
from .unsafe_local import UnsafeLocalSandbox


@runtime_checkable
class SandboxBackend(Protocol):
    """What callers use of a sandbox: an async context that runs, calls and times candidates.
    A candidate misbehaving is a verdict, never an exception; a broken problem is ProblemError."""

    limits: Limits
    project: Project | None  # a project's source, mounted read-only in every container

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: Any) -> None: ...

    async def run(self, job: SandboxJob) -> RunResult:
        """The candidate against the job's pytest files: verdict, outcomes, benchmarks."""
        ...

    async def call(
        self,
        candidate: str,
        entry_point: str,
        inputs: list[tuple[tuple[Any, ...], dict[str, Any]]],
        limits: Limits | None = None,
        max_timeouts: int = 3,
        value_bytes: int | None = None,
        module: ModuleSpec | None = None,
    ) -> list[CallOutcome]:
        """The entry point's outcome on each input, in order (for differential testing); a
        value larger than ``value_bytes`` (default 64 KiB) comes back as its digests only.
        ``module``: the project's module the candidate is."""
        ...

    async def time(
        self,
        test_files: dict[str, str],
        entry_point: str,
        candidates: dict[str, str],
        rounds: int = 10,
        inputs: list[tuple[tuple[Any, ...], dict[str, Any]]] | None = None,
        limits: Limits | None = None,
        tested: dict[str, RunResult] | None = None,
        screened: dict[str, list[CallOutcome]] | None = None,
        seed: str = "",
        module: ModuleSpec | None = None,
        floor: str | None = None,
    ) -> TimingResult:
        """Candidates timed in interleaved rounds on the benchmark tests, or on ``inputs``;
        one answering otherwise than when ``tested`` or ``screened`` gets a Fault instead.
        Candidates that are a project's ``module`` have ``floor`` (the module with an empty
        body) as the do-nothing version whose cost is taken out of theirs."""
        ...


BACKENDS: dict[str, Callable[..., SandboxBackend]] = {
    "docker": Sandbox,
    "ray": RaySandbox,
    "strict": StrictSandbox,
    "unsafe-local": UnsafeLocalSandbox,
}


def open_backend(name: str, **options: Any) -> SandboxBackend:
    """The backend registered as ``name``, built with ``options`` (not yet entered)."""
    factory = BACKENDS.get(name)
    if factory is None:
        known = ", ".join(sorted(BACKENDS))
        raise SandboxError(f"unknown sandbox backend {name!r} (known: {known})")
    return factory(**options)
