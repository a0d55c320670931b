"""The bundled examples keep their known truth through the pure pipeline.

The sandbox is not used here: the example candidates are our own files, so this test runs them
in-process (all but `crashes.py`, which ends its process) to produce the evidence the sandbox
would, then checks the pass set, the clusters and the winner.
"""

from __future__ import annotations

import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest

from codegen.problems import Problem, load_problem
from codegen.ranking import CandidateEvidence, draw_here, rank, timing_here
from sandbox.models import CallOutcome, RunResult, TestOutcome, Verdict
from sandbox.models import TestStatus as Status

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(path: Path) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace


def run_visible_tests(
    problem: Problem, candidate: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> RunResult:
    module = types.ModuleType("solution")
    module.__dict__.update(candidate)
    monkeypatch.setitem(sys.modules, "solution", module)
    outcomes = []
    for name, source in problem.sandbox_test_files().items():
        namespace: dict[str, Any] = {}
        exec(compile(source, name, "exec"), namespace)
        for test_name, test in namespace.items():
            if not test_name.startswith("test_"):
                continue
            cases = namespace["CASES"] if test_name == "test_doctest" else [()]
            for case in cases:
                args = [lambda f, *a: f(*a)] if "benchmark" in test.__code__.co_varnames else []
                try:
                    test(*case, *args)
                    outcomes.append(TestOutcome(name=test_name, status=Status.PASSED))
                except (AssertionError, pytest.fail.Exception) as error:
                    outcomes.append(
                        TestOutcome(name=test_name, status=Status.FAILED, message=str(error))
                    )
    ok = all(t.status is Status.PASSED for t in outcomes)
    return RunResult(verdict=Verdict.PASSED if ok else Verdict.FAILED, tests=outcomes)


def call(function: Any, args: tuple[Any, ...]) -> CallOutcome:
    try:
        return CallOutcome(ok=True, value=function(*args))
    except Exception as error:
        return CallOutcome(ok=False, error=f"{type(error).__name__}: {error}")


def interleaved_cpu(functions: dict[str, Any], args: tuple[Any, ...], rounds: int) -> dict:
    samples: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            start = time.process_time()
            function(*args)
            samples[name].append(time.process_time() - start)
    return samples


def evidence_for(
    folder: str, monkeypatch: pytest.MonkeyPatch, workload: tuple[Any, ...] | None = None
) -> tuple[Problem, list[CandidateEvidence], list[tuple[Any, ...]]]:
    problem = load_problem(EXAMPLES / folder)
    inputs = draw_here(problem, n=40).args
    entries = {
        path.name: load(path)
        for path in sorted((EXAMPLES / folder / "candidates").glob("*.py"))
        if path.name != "crashes.py"
    }
    runs = {name: run_visible_tests(problem, ns, monkeypatch) for name, ns in entries.items()}
    passing = {n: ns[problem.entry_point] for n, ns in entries.items() if runs[n].passed}
    workload = workload or timing_here(problem, k=1).args[0]
    samples = interleaved_cpu(passing, workload, rounds=7)
    evidence = [
        CandidateEvidence(
            id=name,
            source=(EXAMPLES / folder / "candidates" / name).read_text(),
            run=runs[name],
            outputs=[call(ns[problem.entry_point], a) for a in inputs]
            if runs[name].passed
            else None,
            timing_samples=samples.get(name),
        )
        for name, ns in entries.items()
    ]
    crashed = RunResult(verdict=Verdict.CRASHED, message="candidate process died (exit 3)")
    if folder == "two_sum":
        evidence.append(CandidateEvidence(id="crashes.py", run=crashed))
    return problem, evidence, inputs


def test_two_sum_known_truth(monkeypatch: pytest.MonkeyPatch) -> None:
    problem, evidence, inputs = evidence_for(
        "two_sum", monkeypatch, workload=(list(range(1500)), 2997)
    )
    report = rank(
        evidence, weak_tests=problem.weak_tests, inputs=inputs, entry_point=problem.entry_point
    )
    assert {c.id for c in report.candidates if c.passed} == {"fast_hash.py", "slow_quadratic.py"}
    assert report.winner == "fast_hash.py"
    slow = report.candidate("slow_quadratic.py")
    assert slow.rank == 2 and slow.timing and slow.timing.ratio_low > 10
    assert report.findings == []  # the two correct ones agree on every drawn input
    assert report.candidate("wrong_edge.py").rank is None


def test_sum_squares_weak_tests_demote_the_hidden_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    problem, evidence, inputs = evidence_for("sum_squares", monkeypatch)
    assert problem.weak_tests
    report = rank(
        evidence, weak_tests=problem.weak_tests, inputs=inputs, entry_point=problem.entry_point
    )
    assert all(c.passed for c in report.candidates)  # the doctests cannot tell them apart
    skips = report.candidate("skips_negatives.py")
    assert skips.demoted and skips.rank == 3
    assert report.winner in {"generator.py", "loop.py"}
    assert skips.disagreement and any(x < 0 for x in skips.disagreement.args[0])
    assert "the best-supported returns" in skips.explanation
