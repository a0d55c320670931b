"""The scripted sandbox (:class:`sandbox.testing.ScriptedSandbox`): the in-memory double of the
sandbox seam, answering each candidate from its script; and the rank flow conducted on it, with
no Docker and no sandbox running candidate code."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from codegen.evaluation import rank_candidates
from codegen.problems import load_problem
from codegen.ranking.drawing import draw_from_spec
from codegen.ranking.inputs import drawing_program
from sandbox import (
    CallJob,
    CallOutcome,
    Fault,
    RunJob,
    RunResult,
    SandboxBackend,
    SandboxError,
    TimingJob,
    Verdict,
)
from sandbox.testing import Script, ScriptedSandbox
from sandbox.testing.scripted import stats_of

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "two_sum"
BENCHMARK = "tests/test_two_sum.py::test_large_input"


def run_job(candidate: str) -> RunJob:
    return RunJob(entry_point="f", test_files={"test_f.py": "def test_x(): pass\n"},
                  candidate=candidate)  # fmt: skip


def call_job(candidate: str, inputs: list) -> CallJob:
    return CallJob(candidate=candidate, entry_point="f", inputs=inputs)


def test_it_is_a_sandbox_backend_that_answers_each_candidate_from_its_script() -> None:
    failing = RunResult(verdict=Verdict.FAILED, message="1 of 1 tests failed: test_x")
    sandbox = ScriptedSandbox(
        {"return a + b": Script(answer=lambda a, b: a + b), "return 0": Script(run=failing)}
    )
    assert isinstance(sandbox, SandboxBackend)

    async def jobs() -> tuple:
        async with sandbox:
            return (
                await sandbox.run(run_job("def f(a, b):\n    return a + b\n")),
                await sandbox.run(run_job("def f(a, b):\n    return 0\n")),
                await sandbox.call(
                    call_job("def f(a, b):\n    return a + b\n", [((1, 2), {}), ((1, "x"), {})])
                ),  # fmt: skip
                await sandbox.call(call_job("def f(a, b):\n    return 0\n", [((1, 2), {})])),
            )

    passed, failed, (three, error), (not_started,) = asyncio.run(jobs())
    assert passed.verdict is Verdict.PASSED and failed == failing
    assert (three.ok, three.value, three.repr) == (True, 3, "3") and three.digest
    assert (error.ok, error.error) == (False, "TypeError")
    assert error.message.startswith("TypeError: unsupported operand")
    assert (not_started.ok, not_started.cause) == (False, Verdict.FAILED)
    assert [type(job) for job in sandbox.jobs] == [RunJob, RunJob, CallJob, CallJob]


def test_a_candidate_without_a_script_is_a_clear_error_unless_there_is_a_default() -> None:
    sandbox = ScriptedSandbox({"return 1": Script(), "return 12": Script()})
    with pytest.raises(SandboxError, match="no script for the candidate starting 'def f"):
        asyncio.run(sandbox.run(run_job("def f():\n    return 2\n")))
    with pytest.raises(SandboxError, match="candidate matches several scripts"):
        asyncio.run(sandbox.run(run_job("def f():\n    return 12\n")))
    exact = ScriptedSandbox({"def f():\n    return 12\n": Script(), "return 1": Script()})
    assert asyncio.run(exact.run(run_job("def f():\n    return 12\n"))).passed
    error = RunResult(verdict=Verdict.ERROR, message="no")
    fallback = ScriptedSandbox({}, default=Script(run=error))
    assert asyncio.run(fallback.run(run_job("anything"))) == error


def test_scripted_outcomes_come_back_as_given_one_per_input() -> None:
    given = [CallOutcome(ok=True, value=1), CallOutcome(ok=False, error="ValueError")]
    sandbox = ScriptedSandbox({"f": Script(outcomes=given)})
    assert asyncio.run(sandbox.call(call_job("f", [((1,), {}), ((2,), {})]))) == given
    with pytest.raises(SandboxError, match="the script has 2 outcomes for 1 inputs"):
        asyncio.run(sandbox.call(call_job("f", [((1,), {})])))


def test_timing_gives_each_candidate_its_scripted_cost_or_fault() -> None:
    tested = RunResult(verdict=Verdict.PASSED, benchmarks=[stats_of(BENCHMARK, [1.0], "d1")])
    sandbox = ScriptedSandbox({
        "fast": Script(seconds=0.5),
        "noisy": Script(seconds=[1.0, 3.0]),
        "stalls": Script(seconds=Fault(verdict=Verdict.TIMEOUT, message="stalled when timed")),
    })  # fmt: skip
    job = TimingJob(test_files={}, entry_point="f", rounds=3,
                    candidates={"a": "fast", "b": "noisy", "c": "stalls"},
                    tested={"a": tested})  # fmt: skip
    timing = asyncio.run(sandbox.time(job))
    (fast,) = timing.timings["a"]
    assert (fast.test, fast.samples, fast.digest) == (BENCHMARK, [0.5] * 3, "d1")
    assert timing.timings["b"][0].samples == [1.0, 3.0, 1.0]
    assert timing.errors["c"].verdict is Verdict.TIMEOUT and "c" not in timing.timings
    on_inputs = job.model_copy(update={"inputs": [((1,), {})], "candidates": {"a": "fast"}})
    assert asyncio.run(sandbox.time(on_inputs)).timings["a"][0].test == "inputs"


def _example(name: str) -> tuple[str, Script]:
    """An example candidate's source and a script answering as it does (trusted code: the
    repository's own examples), its run passing, a round of it costing ``cost`` seconds."""
    source = (EXAMPLE / "candidates" / f"{name}.py").read_text()
    namespace: dict = {}
    exec(compile(source, f"{name}.py", "exec"), namespace)
    cost = {"fast_hash": 0.0004, "slow_quadratic": 0.08}[name]
    same = "their answers"  # the benchmark digest: both answer the benchmark alike
    run = RunResult(verdict=Verdict.PASSED, benchmarks=[stats_of(BENCHMARK, [cost] * 5, same)])
    return source, Script(run=run, answer=namespace["two_sum"], seconds=cost)


def test_the_rank_flow_runs_on_the_scripted_sandbox() -> None:
    """solve's and rank's conductor (verify, draw, call, time, rank) on the double: the
    candidate whose rounds cost less wins, every job went through the seam."""
    problem = load_problem(str(EXAMPLE))
    fast, slow = _example("fast_hash"), _example("slow_quadratic")
    sandbox = ScriptedSandbox(
        {
            fast[0]: fast[1],
            slow[0]: slow[1],
            drawing_program(): Script(answer=draw_from_spec),
            "raise NotImplementedError": Script(run=RunResult(verdict=Verdict.FAILED)),
        }  # the placeholder, run to see what the tests do by themselves
    )
    run = asyncio.run(
        rank_candidates(problem, {"fast": fast[0], "slow": slow[0]}, sandbox, growth=False)
    )
    assert run.winner == "fast", run.model_dump_json(indent=1)[:3000]
    kinds = {type(job).__name__ for job in sandbox.jobs}
    assert kinds == {"RunJob", "CallJob", "TimingJob"}
