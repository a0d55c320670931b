"""The service's API as data: what a client sends and what it gets back (pydantic, so FastAPI
serves the schema at /docs). Sizes are bounded here, where the request is first read."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from codegen.problems import Problem
from codegen.settings import Overrides

MAX_SOURCE = 200_000  # characters of one stub, test file or candidate
MAX_FILES = 32  # test files of one task, candidates of one rank or run job
MAX_ARCHIVE = 4 << 20  # characters of a project's base64 archive (within the body's limit)
ModelName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class JobKind(StrEnum):
    SOLVE = "solve"
    RANK = "rank"
    RUN = "run"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # the service stopped while it ran: resubmit it

    @property
    def final(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING)


class Task(BaseModel):
    """A problem the way a person types it: a stub (or a plain-text task), its tests, its
    entry point, as ``codegen solve`` takes them from files."""

    model_config = ConfigDict(extra="forbid")

    stub: str = Field(min_length=1, max_length=MAX_SOURCE, description="Python stub or text")
    tests: dict[str, str] = Field(
        default_factory=dict,
        max_length=MAX_FILES,
        description="test_*.py file name -> source; none: the stub's doctests are the tests",
    )
    entry: str | None = Field(None, description="the function's name, when not clear")

    @model_validator(mode="after")
    def _bounded(self) -> Task:
        for name, source in self.tests.items():
            if len(source) > MAX_SOURCE:
                raise ValueError(f"test file {name!r} is over {MAX_SOURCE} characters")
        return self


class ProjectInput(BaseModel):
    """The project a problem comes from: its source as a .tar.gz archive (base64, within the
    body's limit), or a folder on the server under one its operator allows
    (``codegen serve --allow-project-path``). Its code runs in the sandbox only; the service
    builds its image only when its operator lets it (``--build-project-images``)."""

    model_config = ConfigDict(extra="forbid")

    archive: str | None = Field(None, max_length=MAX_ARCHIVE, description="base64 of a .tar.gz")
    path: str | None = Field(None, max_length=4096, description="a folder on the server")
    function: str | None = Field(
        None,
        max_length=1000,
        description="path.py::name inside the project: the problem is that function, read "
        "there as `codegen solve path.py::name` reads it (instead of `task` or `problem`)",
    )

    @model_validator(mode="after")
    def _one_source(self) -> ProjectInput:
        if (self.archive is None) == (self.path is None):
            raise ValueError("give exactly one of `archive` and `path`")
        return self


class ProblemInput(BaseModel):
    """Exactly one of ``task`` (built here, as the CLI builds it), ``problem`` (already
    loaded by a client such as ``codegen solve --server``) or ``project.function``; with a
    ``project``, the problem's candidates run in its context."""

    model_config = ConfigDict(extra="forbid")

    task: Task | None = None
    problem: Problem | None = None
    project: ProjectInput | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ProblemInput:
        function = self.project is not None and self.project.function is not None
        if [self.task is not None, self.problem is not None, function].count(True) != 1:
            raise ValueError("give exactly one of `task` and `problem` (or `project.function`)")
        if self.problem is not None:
            sources = [self.problem.prompt, *(t.source for t in self.problem.visible_tests)]
            sources += [t.source for t in self.problem.hidden_tests]
            if len(sources) > 2 * MAX_FILES or any(len(s) > MAX_SOURCE for s in sources):
                raise ValueError(f"the problem is too large (files over {MAX_SOURCE} characters)")
        return self


class SolveFlags(BaseModel):
    """The flags of ``codegen solve``, meaning what they mean there."""

    model_config = ConfigDict(extra="forbid")

    models: list[ModelName] | None = Field(
        None, min_length=1, max_length=32, description="replaces the roster"
    )
    samples: int | None = Field(None, ge=1, le=64)
    jury: bool | None = None
    tester: bool | None = None
    isolation: Literal["warm", "strict"] | None = Field(
        None, description="the service runs the warm pool: `strict` is refused (run it locally)"
    )

    def overrides(self) -> Overrides:
        return Overrides(models=self.models, samples=self.samples, jury=self.jury,
                         tester=self.tester, isolation=self.isolation)  # fmt: skip


class PlanRequest(SolveFlags):
    """``POST /v1/plan``: a solve's flags, to count its model requests before submitting."""


class SolveRequest(ProblemInput, SolveFlags):
    """``POST /v1/solve``: the problem, and the flags of ``codegen solve``."""

    optimise: int = Field(0, ge=0, le=10, description="then N rounds of `codegen optimise`")
    fast: bool = Field(
        False,
        description="end once the winner is known: no growth, extra timing rounds, jury or "
        "hidden tests in the report (`codegen solve --fast`)",
    )


class RankRequest(ProblemInput):
    """``POST /v1/rank``: existing implementations ranked, as ``codegen rank`` ranks them."""

    candidates: dict[str, str] = Field(min_length=1, max_length=MAX_FILES)
    judges: list[ModelName] = Field(default_factory=list, max_length=8)
    rounds: int = Field(10, ge=3, le=100)

    @model_validator(mode="after")
    def _bounded_candidates(self) -> RankRequest:
        _check_sources(self.candidates)
        return self


class RunRequest(ProblemInput):
    """``POST /v1/run``: each candidate against the problem's visible tests."""

    candidates: dict[str, str] = Field(min_length=1, max_length=MAX_FILES)

    @model_validator(mode="after")
    def _bounded_candidates(self) -> RunRequest:
        _check_sources(self.candidates)
        return self


def _check_sources(candidates: dict[str, str]) -> None:
    for name, source in candidates.items():
        if len(source) > MAX_SOURCE:
            raise ValueError(f"candidate {name!r} is over {MAX_SOURCE} characters")


class JobError(BaseModel):
    """Why a job failed, and the exit code ``codegen solve`` would have ended with."""

    kind: Literal["bad_input", "environment", "internal"]
    message: str
    exit_code: int


class Interruption(StrEnum):
    """Why a job reads ``interrupted``."""

    SHUTDOWN = "shutdown"  # the service was stopped and the job outlasted the grace period
    LOST = "lost"  # the service died while the job was queued or running (kill -9, a crash)


class JobView(BaseModel):
    """``GET /v1/jobs/{id}``: the job's state and, when done, its report (for a solve job, the
    same JSON that ``codegen solve --json`` prints)."""

    id: str
    kind: JobKind
    state: JobState
    created: float
    started: float | None = None
    finished: float | None = None
    problem: str = Field("", description="the function the problem asks for")
    models: list[str] = Field(default_factory=list, description="the models a solve asks")
    winner: str | None = Field(None, description="the winning candidate, once ranked")
    winner_model: str | None = Field(None, description="the model that wrote it (a solve)")
    reason: Interruption | None = Field(None, description="why it was interrupted")
    retry_of: str | None = Field(None, description="the interrupted job this one runs again")
    report: dict[str, Any] | None = None
    error: JobError | None = None


class Accepted(BaseModel):
    """``202 Accepted`` for a new job (``200`` when an Idempotency-Key names a known one):
    where to follow it. ``retry_of`` names the interrupted job that this new run replaces."""

    id: str
    state: JobState
    status_url: str
    events_url: str
    replayed: bool = Field(False, description="the job was submitted before under this key")
    retry_of: str | None = None
