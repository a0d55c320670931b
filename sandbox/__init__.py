"""Run untrusted candidate code against pytest tests in hardened Docker containers.

This package knows nothing about LLMs: it takes source code and tests, and gives verdicts and
timings. :class:`Sandbox` is the Docker backend; :mod:`sandbox.backend` says what every backend
provides, and names them (``open_backend("docker")``). ``UnsafeLocalSandbox`` runs candidates
in-process with no isolation at all: for tests only.
"""

from typing import TYPE_CHECKING, Any

from .errors import ProblemError, SandboxError, SandboxUnavailable
from .models import (
    DEFAULT_LIMITS,
    BenchmarkStats,
    CallOutcome,
    Fault,
    Limits,
    ModuleSpec,
    Project,
    RunResult,
    SandboxJob,
    TestOutcome,
    TestStatus,
    TimingResult,
    Verdict,
)

if TYPE_CHECKING:
    from .backend import BACKENDS, SandboxBackend, open_backend
    from .pool import Sandbox
    from .unsafe_local import UnsafeLocalSandbox

# The backends import the Docker SDK (a tenth of a second): loaded when first asked for, so
# that reading a verdict does not pay for them.
_LAZY = {
    "BACKENDS": "backend", "SandboxBackend": "backend", "open_backend": "backend",
    "Sandbox": "pool", "UnsafeLocalSandbox": "unsafe_local",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BACKENDS",
    "DEFAULT_LIMITS",
    "BenchmarkStats",
    "CallOutcome",
    "Fault",
    "Limits",
    "ModuleSpec",
    "ProblemError",
    "Project",
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
