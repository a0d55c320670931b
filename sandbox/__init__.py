"""Run untrusted candidate code against pytest tests in hardened Docker containers.

This package knows nothing about LLMs: it takes source code and tests, and gives verdicts and
timings.
"""

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
    Verdict,
)
from .pool import Sandbox, TimingResult

__all__ = [
    "DEFAULT_LIMITS",
    "BenchmarkStats",
    "CallOutcome",
    "Fault",
    "Limits",
    "ProblemError",
    "RunResult",
    "Sandbox",
    "SandboxError",
    "SandboxJob",
    "SandboxUnavailable",
    "TestOutcome",
    "TestStatus",
    "TimingResult",
    "Verdict",
]
