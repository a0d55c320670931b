"""Run candidate files against a problem's tests in the sandbox, all at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from codegen.errors import BadInput
from codegen.problems import Problem
from codegen.problems.context import module_spec, program, repository_tests
from codegen.ranking.soft_tests import set_aside_unsatisfiable
from sandbox import NO_TESTS_COLLECTED, Limits, ProblemError, RunJob, RunResult, Verdict

if TYPE_CHECKING:
    from sandbox import SandboxBackend  # the backends load the Docker SDK: not for a client


def read_candidates(paths: Sequence[str]) -> dict[str, str]:
    """Candidate id (the path as given) -> source; a missing file is one clear error."""
    sources = {}
    for path in paths:
        file = Path(path)
        if file.is_dir():
            raise BadInput(f"{path}: a folder, not a candidate file; name the .py files in it")
        if not file.is_file():
            raise BadInput(f"{path}: no such candidate file")
        sources[path] = file.read_text(encoding="utf-8", errors="replace")
    return sources


async def verify(
    problem: Problem,
    candidates: dict[str, str],
    sandbox: SandboxBackend,
    limits: Limits | None = None,
    hidden: bool = False,
    on_done: Callable[[str, RunResult], None] | None = None,
    set_aside: bool = True,
    seed: str = "",
) -> dict[str, RunResult]:
    """Every candidate against the problem's visible (or hidden) tests, concurrently. Unless
    ``set_aside`` is False, call examples no candidate satisfies are set aside (see
    :func:`set_aside_examples`). ``seed``: the run's secret (:class:`sandbox.RunJob`)."""
    test_files = problem.sandbox_test_files(hidden=hidden)
    module, project_tests = module_spec(problem, sandbox), repository_tests(problem, sandbox)

    async def one(cid: str, source: str) -> tuple[str, RunResult]:
        job = RunJob(
            entry_point=problem.entry_point,
            test_files=test_files,
            candidate=program(problem, source),
            limits=limits or sandbox.limits,
            seed=seed,
            module=module,
            repository_tests=[] if hidden else project_tests,
        )
        result = await sandbox.run(job)
        if on_done is not None:
            on_done(cid, result)
        return cid, result

    runs = dict(await asyncio.gather(*(one(cid, src) for cid, src in candidates.items())))
    check_collected(runs, test_files)
    return set_aside_examples(problem, runs) if set_aside and not hidden else runs


async def run_placeholder(problem: Problem, sandbox: SandboxBackend) -> RunResult:
    """The tests once against a placeholder that raises NotImplementedError at once: what the
    tests do by themselves. Tests that do not load, collect nothing or run past their time
    limit are the problem's fault, the same for every candidate (ProblemError), found before
    any candidate is blamed for them."""
    placeholder = f"def {problem.entry_point}(*args, **kwargs):\n    raise NotImplementedError\n"
    job = RunJob(
        entry_point=problem.entry_point,
        test_files=problem.sandbox_test_files(),
        candidate=program(problem, placeholder),
        limits=sandbox.limits,
        module=module_spec(problem, sandbox),
    )
    result = await sandbox.run(job)
    check_collected({"placeholder": result}, job.test_files)
    if result.verdict is Verdict.TIMEOUT:
        raise ProblemError(
            f"{_named(job.test_files)}: ran past the time limit ({job.limits.test_seconds:g} s "
            "a test) against a placeholder that raises NotImplementedError at once; a test, or "
            "the file's top level, never ends by itself"
        )
    return result


def check_collected(runs: Mapping[str, RunResult], test_files: Mapping[str, str]) -> None:
    """pytest collects the tests apart from the candidate (its own process): runs in which it
    found none are the files' fault, the same for every candidate (ProblemError)."""
    if runs and all(run.message == NO_TESTS_COLLECTED for run in runs.values()):
        raise ProblemError(
            f"{_named(test_files)}: pytest collected no test; write a `def test_...` function"
        )


def _named(test_files: Mapping[str, str]) -> str:
    return ", ".join(sorted(test_files)) or "the tests"


def set_aside_examples(problem: Problem, runs: dict[str, RunResult]) -> dict[str, RunResult]:
    """The problem's call examples are soft (:mod:`codegen.ranking.soft_tests`)."""
    soft = {t.name for t in problem.visible_tests if t.origin == "examples"}
    return set_aside_unsatisfiable(runs, soft)
