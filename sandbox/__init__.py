"""Run untrusted candidate code against pytest tests in hardened Docker containers.

This package knows nothing about LLMs: it takes source code and tests, and gives verdicts and
timings. :mod:`sandbox.backend` says what every backend provides: three jobs, each one value
(:class:`RunJob`, :class:`CallJob`, :class:`TimingJob`). :mod:`sandbox.registry` names the
backends (``open_backend("docker")``, and any a package registers). :class:`Sandbox` is the
Docker backend; ``UnsafeLocalSandbox`` runs candidates in-process with no isolation at all: for
tests only. :mod:`sandbox.testing` holds the contract suite every backend passes and
``ScriptedSandbox``, an in-memory double answering from a script.
"""

from typing import TYPE_CHECKING, Any

from .errors import ProblemError, SandboxError, SandboxUnavailable
from .models import (
    DEFAULT_LIMITS,
    NO_TESTS_COLLECTED,
    BenchmarkStats,
    CallJob,
    CallOutcome,
    Fault,
    Limits,
    ModuleSpec,
    Project,
    RunJob,
    RunResult,
    TestOutcome,
    TestStatus,
    TimingJob,
    TimingResult,
    Verdict,
)

if TYPE_CHECKING:
    from .backend import SandboxBackend
    from .pool import Sandbox
    from .registry import backend_names, open_backend
    from .unsafe_local import UnsafeLocalSandbox

# The backends import the Docker SDK (a tenth of a second): loaded when first asked for, so
# that reading a verdict does not pay for them.
_LAZY = {
    "SandboxBackend": "backend", "open_backend": "registry", "backend_names": "registry",
    "Sandbox": "pool", "UnsafeLocalSandbox": "unsafe_local",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_LIMITS",
    "NO_TESTS_COLLECTED",
    "BenchmarkStats",
    "CallJob",
    "CallOutcome",
    "Fault",
    "Limits",
    "ModuleSpec",
    "ProblemError",
    "Project",
    "RunJob",
    "RunResult",
    "Sandbox",
    "SandboxBackend",
    "SandboxError",
    "SandboxUnavailable",
    "TestOutcome",
    "TestStatus",
    "TimingJob",
    "TimingResult",
    "UnsafeLocalSandbox",
    "Verdict",
    "backend_names",
    "open_backend",
]
