"""solve, rank and bench end to end in seconds, without Docker: the flows take any sandbox
backend (sandbox.SandboxBackend), and these run them on the unsafe in-process one with trusted
candidates and a loopback fake model server. The Docker suites prove the same flows in the real
sandbox; these keep the flows' own logic quick to test."""

from __future__ import annotations

import asyncio
import time
import warnings
from pathlib import Path

import pytest

from codegen.bench.evaluate import evaluate
from codegen.bench.records import EvalRequest
from codegen.bench.suites import HumanEvalSuite
from codegen.evaluation import rank_candidates, read_candidates
from codegen.problems import load_problem
from codegen.settings import CodegenConfig, FileSettings, Overrides, resolve
from codegen.solve import SolveSession, solve
from codegen.testing import FakeOpenAIServer
from sandbox import UnsafeLocalSandbox
from tests.cli_support import ROOT, TWO_SUM_HASH, fenced

TWO_SUM = ROOT / "examples" / "two_sum"
# In one process, the backend's seeding of `random` for a job can meet hypothesis drawing the
# differential inputs in another thread: hypothesis notices and warns. Harmless here.
pytestmark = [
    pytest.mark.filterwarnings("ignore:UnsafeLocalSandbox runs candidate code"),
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]


def _in_seconds(work, limit: float = 60.0):  # noqa: ANN001, ANN202
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = asyncio.run(work)
    assert time.perf_counter() - started < limit
    return result


def test_rank_picks_the_fast_correct_candidate() -> None:
    # not crashes.py: it ends its process, which here is this one
    paths = [
        TWO_SUM / "candidates" / f"{n}.py" for n in ("fast_hash", "slow_quadratic", "wrong_edge")
    ]
    sources = read_candidates([str(p) for p in paths])

    async def work():  # noqa: ANN202
        async with UnsafeLocalSandbox() as sandbox:
            return await rank_candidates(load_problem(str(TWO_SUM)), sources, sandbox, rounds=3)

    report = _in_seconds(work())
    verdicts = {Path(c.id).stem: c.passed for c in report.candidates}
    assert verdicts["fast_hash"] and verdicts["slow_quadratic"]
    assert not verdicts["wrong_edge"]
    assert Path(report.winner).stem == "fast_hash"


def test_solve_generates_tests_and_returns_the_winner(monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    wrong = "def two_sum(nums, target):\n    return [0, 1]\n"
    script = {"models": {"coder": [fenced(TWO_SUM_HASH), fenced(wrong)]}}
    with FakeOpenAIServer(script) as server:
        monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
        file = FileSettings(sandbox={"backend": "unsafe-local", "timing_rounds": 3})
        config = CodegenConfig.model_validate(file.model_dump())
        settings = resolve(config, Overrides(models=["openai/coder"], samples=2, jury=False))

        async def work():  # noqa: ANN202
            async with SolveSession(settings) as session:
                return await solve(load_problem(str(TWO_SUM)), session)

        report = _in_seconds(work())
    assert report.solved and "seen = {}" in report.code
    assert report.totals.requests == 8  # 4 default personas × 2 samples
    assert report.totals.passing == 1 and report.totals.candidates == 2


def test_bench_evaluates_one_humaneval_problem() -> None:
    problem = next(p for p in HumanEvalSuite().problems() if p.name == "HumanEval/0")
    right = problem.prompt + problem.canonical_solution
    wrong = problem.prompt + "    return False\n"

    async def work():  # noqa: ANN202
        request = EvalRequest(problem=problem, candidates={"a": right, "b": wrong}, rounds=3)
        async with UnsafeLocalSandbox() as sandbox:
            return await evaluate(request, sandbox)

    result = _in_seconds(work())
    assert result.pick == "a"
    assert result.candidates["a"].passed and not result.candidates["b"].passed
    assert result.canonical_s is not None and result.candidates["a"].efficiency is not None


SLOW_CALL = 300_000  # a busy loop per call, far beyond the timing noise of a busy machine


def test_bench_times_each_problem_once_the_canonical_in_the_rankings_rounds() -> None:
    problem = next(p for p in HumanEvalSuite().problems() if p.name == "HumanEval/0")
    right = problem.prompt + problem.canonical_solution
    slow = (
        f"{right}\n\n_reference = has_close_elements\n\n\n"
        "def has_close_elements(*args):\n"
        f"    sum(range({SLOW_CALL}))\n    return _reference(*args)\n"
    )
    wrong = problem.prompt + "    return False\n"

    async def work():  # noqa: ANN202
        request = EvalRequest(
            problem=problem, candidates={"a": right, "s": slow, "b": wrong}, rounds=3
        )
        async with UnsafeLocalSandbox() as sandbox:
            return await evaluate(request, sandbox)

    result = _in_seconds(work())
    assert result.pick == "a" and not result.candidates["b"].passed
    assert "timing" not in result.phases  # no timing job of its own: the ranking's measured it
    assert result.canonical_s is not None
    right_ratio, slow_ratio = result.candidates["a"].efficiency, result.candidates["s"].efficiency
    assert right_ratio is not None and slow_ratio is not None
    assert slow_ratio > right_ratio
    assert result.candidates["b"].efficiency is None


def test_bench_a_failing_canonical_touches_no_candidate() -> None:
    problem = next(p for p in HumanEvalSuite().problems() if p.name == "HumanEval/0")
    right = problem.prompt + problem.canonical_solution
    broken = problem.model_copy(
        update={"canonical_solution": "def has_close_elements(*args):\n    raise ValueError\n"}
    )

    async def work():  # noqa: ANN202
        request = EvalRequest(problem=broken, candidates={"a": right}, rounds=3)
        async with UnsafeLocalSandbox() as sandbox:
            return await evaluate(request, sandbox)

    result = _in_seconds(work())
    assert result.pick == "a" and result.candidates["a"].passed
    assert result.canonical_s is None and result.candidates["a"].efficiency is None
    assert any("reference failed while timed" in note for note in result.notes), result.notes
    assert "timing" in result.phases  # timed again in a job of its own, which failed too
    assert any("canonical failed while timed" in note for note in result.notes), result.notes
