"""Which inputs the evidence is gathered on, chosen in one place for solve, rank and bench.

- differential inputs: small generated inputs every passing candidate is called on, then the
  docstring's examples mutated (:mod:`codegen.ranking.mutations`): near misses of what the
  author showed, where a rule the examples state, or a bug candidates share, shows;
- the timing workload: the benchmark tests when the problem has some (hidden ones too, when
  the caller may see them: bench times against the canonical solution on HumanEval's
  ``check``); else the largest generated inputs, screened before they are timed.

No candidate may know in advance what it is timed on: generated timing inputs are drawn from
the run's secret, the tests' random data comes from it too (``RunJob.seed``), and the
benchmark tests' own calls to the entry point, as they ran when tested, are replaced by
perturbed copies (:func:`perturbed_benchmark`), screened like generated inputs. Only when no
copy survives the screening are the benchmark tests timed as written.

Inputs are drawn in the sandbox (the problem's strategies and type hints are its author's code;
:mod:`codegen.ranking.inputs`), a job beside the tests: callers start :func:`draw` with them.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from codegen.problems import Problem
from codegen.ranking import InputSet
from codegen.ranking.inputs import Ask, draw_each, example_args, input_size, pool_of, timing_pool
from codegen.ranking.inputs import draw as draw_inputs
from codegen.ranking.mutations import mutate_examples
from codegen.ranking.perturb import perturbed_copies
from sandbox import RunResult, SandboxBackend

TIMING_INPUTS = 3  # the largest generated inputs, when a problem has no benchmark tests
TIMING_POOL = 10  # large inputs screened for the workload: some break the preconditions
# Drawn to pick those from: large values cost hypothesis time on the host (30 draws took 0.35 s
# of CPU per HumanEval problem, 15 take 0.18 s) and the largest few are what gets timed.
TIMING_DRAWS = 15
CHECK_FILE = "test_bench_timing.py"
BENCHMARK_CALLS = 2000  # at most this many of a benchmark's calls are perturbed and timed
# copies drawn per benchmark call, the first the candidates answer alike is timed (a copy can
# break a precondition the candidates rely on: a second solution to a two-sum, say); a
# benchmark of many calls gets one copy of each
PERTURB_TRIES = 8
PERTURB_TRIES_UP_TO = 50


@dataclass(frozen=True)
class Workload:
    """What ``Sandbox.time`` runs: ``files``' benchmark tests, or the entry point on
    ``inputs`` (generated, when no benchmark test exists)."""

    files: dict[str, str]
    inputs: InputSet | None = None

    @property
    def name(self) -> str:
        if self.inputs is None:
            return "benchmark tests"
        if not self.inputs.args:
            return f"none: {self.inputs.reason}"
        if self.inputs.origin == "benchmark tests":
            return f"perturbed copies of the benchmark tests' {len(self.inputs.args)} call(s)"
        return f"{len(self.inputs.args)} largest generated inputs ({self.inputs.origin})"

    @property
    def calls(self) -> list[tuple[tuple[Any, ...], dict[Any, Any]]] | None:
        if self.inputs is None:
            return None
        return [(tuple(args), {}) for args in self.inputs.args]

    @property
    def empty(self) -> bool:
        return (
            not self.files
            and self.inputs is None
            or (self.inputs is not None and not self.inputs.args)
        )


def perturbed_benchmark(
    runs: Iterable[RunResult], secret: int, tries: int = PERTURB_TRIES
) -> tuple[InputSet, list[int]]:
    """Up to ``tries`` perturbed copies of each call the benchmark tests made to the entry
    point (read from the first run that recorded them), the largest call's first, and how
    many copies each call has: one of each call's copies is timed in its stead
    (:func:`codegen.evaluation.behaviour.screen_copies` picks it)."""
    calls = next((calls for run in runs if (calls := run.calls_made())), [])
    if not calls:
        return InputSet(reason="the benchmark tests' calls were not recorded"), []
    if any(kwargs for _, kwargs in calls) or len(calls) > BENCHMARK_CALLS:
        return InputSet(reason="the benchmark tests' calls cannot be perturbed"), []
    rng = random.Random(secret)
    tries = tries if len(calls) <= PERTURB_TRIES_UP_TO else 1
    groups = [perturbed_copies(args, tries, rng) for args, _ in calls]
    if not all(groups):
        return InputSet(reason="the benchmark tests' inputs have nothing to perturb"), []
    groups.sort(key=lambda copies: input_size(copies[0]), reverse=True)
    flat = [copy for copies in groups for copy in copies]
    return InputSet(args=flat, origin="benchmark tests"), [len(copies) for copies in groups]


@dataclass(frozen=True)
class Drawn:
    """The differential inputs (``mutated`` of them from the examples, at the end) and the
    ranking's timing workload."""

    differential: InputSet
    mutated: int
    workload: Workload


def with_mutations(problem: Problem, drawn: InputSet) -> tuple[InputSet, int]:
    """``drawn`` followed by the examples' mutations it does not already hold, and how many."""
    known = {repr(tuple(args)) for args in drawn.args}
    mutated = [
        args
        for args in mutate_examples(example_args(problem), problem.prompt)
        if repr(args) not in known and _fits(problem, args)
    ]
    if not mutated:
        return drawn, 0
    origin = drawn.origin if drawn.args else "examples"
    joined = drawn.model_copy(update={"args": [*drawn.args, *mutated], "origin": origin})
    return joined, len(mutated)


def _fits(problem: Problem, args: tuple[Any, ...]) -> bool:
    """As many arguments as the entry point takes without defaults (when known)."""
    if problem.parameters is None:
        return True
    required = [p for p in problem.parameters if p.kind == "positional" and not p.has_default]
    optional = [p for p in problem.parameters if p.kind == "positional" and p.has_default]
    return len(required) <= len(args) <= len(required) + len(optional)


async def draw(problem: Problem, sandbox: SandboxBackend, secret: int = 0) -> Drawn:
    """The differential inputs (drawn the same every run, then the examples' mutations) and
    the ranking's timing workload (visible tests only), its generated inputs drawn from the
    run's ``secret``; both drawings in one sandbox process (one import of hypothesis)."""
    workload = benchmark_workload(problem)
    if workload is not None:
        drawn = await draw_inputs(problem, sandbox)
    else:
        asks = [Ask(), Ask(TIMING_DRAWS, secret, large=True)]
        drawn, pool = await draw_each(problem, sandbox, asks)
        workload = Workload(problem.sandbox_test_files(), pool_of(pool, TIMING_POOL))
    return Drawn(*with_mutations(problem, drawn), workload)


def benchmark_workload(problem: Problem, hidden: bool = False) -> Workload | None:
    """The problem's benchmark tests (with ``hidden``, the hidden ones count, and a HumanEval
    ``check`` runs as one benchmark), when it has some: nothing to draw."""
    tests = (problem.hidden_tests or problem.visible_tests) if hidden else problem.visible_tests
    if any(t.uses_benchmark for t in tests):
        if not hidden:
            return Workload(problem.sandbox_test_files())
        return Workload({t.name: t.source for t in tests if t.uses_benchmark})
    check = next((t for t in problem.hidden_tests if t.origin == "humaneval_check"), None)
    if hidden and check is not None:
        bench = f"def test_timing(benchmark):\n    benchmark(check, {problem.entry_point})\n"
        return Workload({CHECK_FILE: f"{check.source}\n\n{bench}"})
    return None


async def timing_workload(
    problem: Problem, sandbox: SandboxBackend, hidden: bool = False, secret: int = 0
) -> Workload:
    """The problem's benchmark tests (:func:`benchmark_workload`); else a pool of its largest
    generated inputs."""
    workload = benchmark_workload(problem, hidden)
    if workload is not None:
        return workload
    pool = await timing_pool(problem, sandbox, k=TIMING_POOL, seed_value=secret, pool=TIMING_DRAWS)
    return Workload(problem.sandbox_test_files(), pool)
