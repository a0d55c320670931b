"""The sandbox's boundary: what goes in (a job and its limits) and what comes out (a verdict).

Everything here is plain data so that it can cross the process boundary into the container as
JSON, be stored in SQLite and be printed with ``--json``.
"""

from __future__ import annotations

import base64
import posixpath
import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Limits(BaseModel):
    """Resource limits for one job. Enforced inside the container and again from the host."""

    model_config = ConfigDict(frozen=True)

    wall_seconds: float = Field(30.0, gt=0, description="whole job, from the host")
    test_seconds: float = Field(10.0, gt=0, description="one test, inside the container")
    cpu_seconds: int = Field(20, gt=0, description="RLIMIT_CPU of a candidate process")
    memory_mb: int = Field(512, ge=64, description="container memory, equal to memory+swap")
    candidate_memory_mb: int = Field(384, ge=32, description="RLIMIT_AS of a candidate process")
    pids: int = Field(64, ge=16, description="processes in the container")
    tmp_mb: int = Field(64, ge=8, description="size of the /tmp tmpfs")
    output_bytes: int = Field(1_000_000, ge=1024, description="candidate stdout+stderr cap")
    cpus: float = Field(1.0, gt=0, description="CPU quota of a container")


DEFAULT_LIMITS = Limits()
PROJECT_DIR = "/project"  # where a project's source is mounted, read-only, in every container
_PATH_CHARS = re.compile(r"^[A-Za-z0-9_.\-/]+$")


def inside_project(path: str) -> bool:
    """A plain relative path that stays inside the project (no ``..``, not absolute)."""
    parts = path.split("/")
    return bool(_PATH_CHARS.match(path)) and path[0] not in "/-" and ".." not in parts


class Project(BaseModel):
    """A project's source, mounted read-only at PROJECT_DIR in every container of a backend:
    candidates import its package, and its own tests run there. ``root`` is a folder of the
    host the engine can bind-mount (a snapshot: :mod:`codegen.project.snapshot`)."""

    model_config = ConfigDict(frozen=True)

    root: str = Field(description="absolute path on the Docker host")
    image: str | None = Field(None, description="an image with its dependencies, or the plain one")


class ModuleSpec(BaseModel):
    """The candidate is this module of the mounted project: imported as ``name`` (so relative
    imports, ``__name__`` and ``__file__`` read as in the project, its package imported first
    as Python would), from ``import_path`` put first on the import path; ``solution`` names
    the same module."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
    path: str = Field(description="its file, from the project's root")
    import_path: str = Field(".", description="the folder it is imported from, from the root")

    @field_validator("path", "import_path")
    @classmethod
    def _inside(cls, path: str) -> str:
        if not inside_project(path):
            raise ValueError(f"{path!r} must be a relative path inside the project")
        return path

    def message(self) -> dict[str, Any]:
        """How the harness receives it: paths inside the container."""
        return {
            "name": self.name,
            "root": PROJECT_DIR,  # the working folder, as pytest at the project's root has
            "file": f"{PROJECT_DIR}/{self.path}",
            "import_path": posixpath.normpath(f"{PROJECT_DIR}/{self.import_path}"),
        }


ENTRY_POINT = r"^[A-Za-z_][A-Za-z0-9_]*$"  # a function's name


class RunJob(BaseModel):
    """``run``: one candidate against one problem's pytest files."""

    entry_point: str = Field(pattern=ENTRY_POINT)
    test_files: dict[str, str] = Field(description="file name -> source; names match test_*.py")
    candidate: str = Field(description="Python source of the module `solution`")
    limits: Limits = DEFAULT_LIMITS
    seed: str = Field(
        "",
        description="the run's secret: tests draw their random data from it, so that no "
        "candidate knows in advance the data it will be timed on; one per run, for every job",
    )
    module: ModuleSpec | None = Field(
        None, description="the project's module the candidate is (needs a backend's project)"
    )
    repository_tests: list[str] = Field(
        [],
        description="the project's own tests (pytest node ids from its root) to run as plain "
        "pytest with the candidate as `module`, once the isolated run passed: they can only "
        "take a pass away",
    )

    @field_validator("repository_tests")
    @classmethod
    def _node_ids(cls, ids: list[str]) -> list[str]:
        for node in ids:
            path = node.split("::")[0]
            if not inside_project(path) or not path.endswith(".py"):
                raise ValueError(f"test {node!r} must be a node id inside the project")
        return ids

    @field_validator("test_files")
    @classmethod
    def _names_are_plain(cls, files: dict[str, str]) -> dict[str, str]:
        for name in files:
            if "/" in name or "\\" in name or not name.endswith(".py") or name.startswith("."):
                raise ValueError(f"test file name {name!r} must be a plain *.py name")
            if name in {"solution.py", "conftest.py"}:
                raise ValueError(f"test file name {name!r} is reserved")
        return files


# A run's message when pytest found no test in the job's files (the harness's words, checked by
# the contract suite): the same for every candidate, so the tests' fault, not a candidate's.
NO_TESTS_COLLECTED = "no tests were collected"


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    CRASHED = "crashed"


class TestStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"


class TestOutcome(BaseModel):
    __test__ = False  # not a pytest class

    name: str
    status: TestStatus
    message: str = ""
    # Set when the test ended because of a limit or a dead candidate, not an assertion.
    cause: Verdict | None = None


class BenchmarkStats(BaseModel):
    """pytest-benchmark-style statistics, in seconds of candidate CPU time, for one test."""

    test: str
    rounds: int
    min: float
    max: float
    mean: float
    median: float
    stddev: float
    iqr: float
    samples: list[float] = Field(
        description="one CPU time per round, each in a fresh process, its import included"
    )
    digest: str = Field("", description="hash of every answer of a round, the same every round")
    behaviour: str = Field(
        "", description="the digest with floats to 10 digits: equal for candidates that agree"
    )


class RunResult(BaseModel):
    verdict: Verdict
    tests: list[TestOutcome] = []
    benchmarks: list[BenchmarkStats] = []
    cpu_seconds: float = Field(0.0, description="CPU time of the candidate's processes")
    wall_seconds: float = Field(0.0, description="job wall time, measured inside the container")
    peak_memory_mb: float = Field(0.0, description="largest RSS of a candidate process")
    stdout: str = ""
    stderr: str = ""
    message: str = Field("", description="one line saying why, when the verdict is not passed")
    sandbox_fault: bool = Field(
        False, description="the sandbox failed (container lost, harness error), not the candidate"
    )
    phases: dict[str, float] = Field({}, description="seconds per harness phase")
    benchmark_calls: str = Field(
        "",
        description="the calls the benchmark tests made to the entry point in their first "
        "round, as base64 of a pickle of [(args, kwargs)] (read with calls_made())",
    )

    def calls_made(self) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        """The benchmark's calls (``benchmark_calls``), read as plain data only: nothing in
        them can build anything on the host but builtin values."""
        if not self.benchmark_calls:
            return []
        from .harness.plaindata import loads_plain  # the harness's safe loader

        try:
            calls = loads_plain(base64.b64decode(self.benchmark_calls))
            return [(a, k) for a, k in calls if type(a) is tuple and type(k) is dict]
        except Exception:
            return []

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED


class Fault(BaseModel):
    """Why a candidate got no result from a job: the verdict it amounts to and one line. A
    value, so that no caller reads verdicts out of message text."""

    verdict: Verdict
    message: str

    def __str__(self) -> str:
        return f"{self.verdict}: {self.message}"


class TimingResult(BaseModel):
    """Interleaved timings: per candidate id, one BenchmarkStats per benchmark test.

    ``errors`` names every candidate that has no timings and why: it failed, stalled, answered
    differently than when tested, or broke the timing job (the others were then timed again
    without it). ``truncated`` says the job ran out of time before ``rounds`` rounds; each
    BenchmarkStats says how many it got."""

    timings: dict[str, list[BenchmarkStats]]
    errors: dict[str, Fault] = {}
    rounds: int = 0
    truncated: bool = False
    notes: list[str] = []
    phases: dict[str, float] = {}  # seconds per harness phase, clean-ups between rounds too
    floor: dict[str, float] = Field(
        {},
        description="per benchmark, the median round of a do-nothing candidate timed beside "
        "the others (the process and the protocol), already taken out of every sample",
    )


class CallOutcome(BaseModel):
    """What one call of the entry point did: a plain-data value, or the exception's type."""

    ok: bool
    value: Any = Field(
        None, description="a JSON form that compares equal iff outputs do; None when too large"
    )
    repr: str = ""
    error: str = Field("", description="the exception's type name when not ok")
    message: str = ""
    cause: Verdict | None = None
    digest: str = Field("", description="hash of the answer (value and changed arguments)")
    behaviour: str = Field("", description="the digest with floats to 10 digits")
    value_omitted: bool = Field(
        False, description="the value was too large to send: ``behaviour`` stands for it"
    )
    cpu_seconds: float = Field(0.0, description="CPU time of the call, children included")


Inputs = list[
    tuple[tuple[Any, ...], dict[str, Any]]
]  # positional and keyword arguments of each call


class CallJob(BaseModel):
    """``call``: the entry point's outcome on each input, in order (for differential testing).

    After ``max_timeouts`` calls that hit the test deadline the rest are skipped (cause
    timeout): a candidate stuck on these inputs would otherwise cost a deadline per input."""

    model_config = ConfigDict(frozen=True)

    candidate: str = Field(description="Python source of the module `solution`")
    entry_point: str = Field(pattern=ENTRY_POINT)
    inputs: Inputs
    limits: Limits | None = Field(None, description="None: the backend's own")
    max_timeouts: int = Field(3, ge=1)
    value_bytes: int | None = Field(
        None, description="largest value sent back whole (default 64 KiB, at most 4 MiB); "
        "larger ones come as their digests only",
    )  # fmt: skip
    module: ModuleSpec | None = Field(None, description="the project's module the candidate is")
    hypothesis: bool = Field(
        False, description="run in a process forked with hypothesis already imported: for the "
        "host's own drawing program, whose cost is mostly that import (never a candidate's: "
        "its memory would differ from a plain process's)",
    )  # fmt: skip


class TimingJob(BaseModel):
    """``time``: candidates timed in interleaved rounds (A B C, B C A…), each round in a fresh
    process, on the benchmark tests or else on ``inputs``.

    Pass what is known of each candidate, and its timed answers are held to it: ``tested``,
    its run against these test files; ``screened``, its outcomes on exactly ``inputs``. One
    answering otherwise when timed gets a Fault instead of timings. Candidates that are a
    project's ``module`` have ``floor`` (the module with an empty body: its imports cost the
    same) as their do-nothing version, whose cost is taken out of theirs."""

    model_config = ConfigDict(frozen=True)

    test_files: dict[str, str] = Field(description="as RunJob.test_files; none: time on inputs")
    entry_point: str = Field(pattern=ENTRY_POINT)
    candidates: dict[str, str] = Field(description="candidate id -> source")
    rounds: int = Field(10, ge=1)
    inputs: Inputs | None = None
    limits: Limits | None = Field(None, description="None: the backend's own")
    tested: dict[str, RunResult] = {}
    screened: dict[str, list[CallOutcome]] = {}
    seed: str = Field("", description="the run's secret, as RunJob.seed")
    module: ModuleSpec | None = None
    floor: str | None = Field(None, description="the do-nothing version of a project's module")
