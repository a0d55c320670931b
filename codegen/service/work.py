"""What each kind of job does, on the service's warm parts: the same library calls as the
commands (``codegen solve``, ``rank``, ``sandbox run``), with the problem built the way the CLI
builds it and the events sent to the job's followers."""

from __future__ import annotations

import ast
import tempfile
from pathlib import Path
from typing import Any

from codegen.errors import BadInput
from codegen.evaluation import rank_candidates, verify
from codegen.problems import Problem, problem_from_stub, problem_from_text
from codegen.ranking.jury import judges_for
from codegen.service.api import ProblemInput, RankRequest, RunRequest, SolveRequest, Task
from codegen.service.fair import FairSandbox, FairShare
from codegen.service.jobs import Job, event_record
from codegen.settings import CodegenConfig, Overrides, SolveSettings, resolve
from codegen.solve import SolveSession, solve
from codegen.solve.warm import Warm
from sandbox import ProblemError


def problem_of(request: ProblemInput) -> Problem:
    """The request's problem: as a client loaded it, or built from a task as the CLI builds
    a stub file (or a plain-text task) and its test files. BadInput says what is wrong."""
    if request.problem is not None:
        return request.problem
    task = request.task
    assert task is not None
    with tempfile.TemporaryDirectory(prefix="codegen-task-") as folder:
        tests = _write_tests(Path(folder), task)
        if _is_python(task.stub):
            return problem_from_stub(task.stub, name="task", where="<task>", entry=task.entry,
                                     tests=tests)  # fmt: skip
        return problem_from_text(task.stub, entry=task.entry or "", tests=tests)


def _write_tests(folder: Path, task: Task) -> list[Path]:
    paths = []
    for name, source in task.tests.items():
        if "/" in name or "\\" in name or not name.startswith("test_") or not name.endswith(".py"):
            raise BadInput(f"test file name {name!r} must be a plain test_*.py name")
        path = folder / name
        path.write_text(source, encoding="utf-8")
        paths.append(path)
    return paths


def _is_python(text: str) -> bool:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return any(isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) for node in tree.body)


class Worker:
    """Runs jobs on the warm parts; the base config is the service's own."""

    def __init__(self, warm: Warm, config: CodegenConfig, share: FairShare) -> None:
        self.warm = warm
        self.config = config
        self.share = share

    def sandbox_for(self, job: Job) -> FairSandbox:
        return FairSandbox(self.warm.sandbox, self.share, job.id)

    def settings_for(self, request: SolveRequest) -> SolveSettings:
        """The service's config under the request's flags; BadInput as the CLI says it."""
        overrides = Overrides(
            models=request.models, samples=request.samples, jury=request.jury, tester=request.tester
        )
        return resolve(self.config, overrides)

    async def solve(self, job: Job, problem: Problem, settings: SolveSettings) -> dict[str, Any]:
        lent = Warm(self.sandbox_for(job), self.warm.runtime, self.warm.throttles)
        async with SolveSession(settings, warm=lent) as session:
            report = await solve(problem, session, on_event=lambda e: job.emit(event_record(e)))
        return report.model_dump(mode="json")

    async def rank(self, job: Job, problem: Problem, request: RankRequest) -> dict[str, Any]:
        judges = judges_for(request.judges) if request.judges else None
        try:
            ranking = await rank_candidates(
                problem,
                request.candidates,
                self.sandbox_for(job),
                judges=judges,
                rounds=request.rounds,
                on_event=lambda e: job.emit(event_record(e)),
            )
        except ProblemError as error:
            raise BadInput(str(error).splitlines()[0]) from None
        return ranking.model_dump(mode="json")

    async def run(self, job: Job, problem: Problem, request: RunRequest) -> dict[str, Any]:
        try:
            runs = await verify(problem, request.candidates, self.sandbox_for(job))
        except ProblemError as error:
            raise BadInput(str(error).splitlines()[0]) from None
        return {cid: run.model_dump(mode="json") for cid, run in runs.items()}
