"""Run untrusted candidate code against pytest tests in hardened Docker containers.

This package knows nothing about LLMs: it takes source code and tests, and gives verdicts and
timings. :class:`Sandbox` is the Docker backend; :mod:`sandbox.backend` says what every backend
provides, and names them (``open_backend("docker")``). ``UnsafeLocalSandbox`` runs candidates
in-process with no isolation at all: for tests only.
"""

from .backend import BACKENDS, SandboxBackend, open_backend
from .errors import ProblemError, SandboxError, SandboxUnavailable
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
from .pool import Sandbox
from .unsafe_local import UnsafeLocalSandbox

__all__ = [
    "BACKENDS",
    "DEFAULT_LIMITS",
    "BenchmarkStats",
    "CallOutcome",
    "Fault",
    "Limits",
    "ProblemError",
    "RunResult",
    "Sandbox",
    "SandboxBackend",
    "SandboxError",
    "SandboxJob",
    "SandboxUnavailable",
    "TestOutcome",
    "TestStatus",
    "TimingResult",
    "UnsafeLocalSandbox",
    "Verdict",
    "open_backend",
]
