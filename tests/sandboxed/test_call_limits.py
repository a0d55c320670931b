"""The screening's time limits, on the real sandbox: a quick limit first, and the full one
only for a candidate that was slower than another on the same input. An input every
candidate is stuck on costs each of them the quick limit, once.

The limits are raised here (the deadlines are wall-clock, and CI runs two suites at once): a
slow candidate's CPU stays well above the quick limit and well below the full one."""

from __future__ import annotations

from pathlib import Path

import pytest

import codegen.evaluation.behaviour as behaviour
from codegen.evaluation.behaviour import call_each_quickly
from codegen.problems import Problem, load_problem
from sandbox import CallJob, CallOutcome, Verdict
from tests.test_problem import write

pytestmark = pytest.mark.docker

QUICK, FULL = 1.0, 5.0
STUB = '''\
def f(n: int) -> int:
    """Return n; n is never negative."""
'''
TESTS = "from solution import f\n\n\ndef test_f():\n    assert f(3) == 3\n"
STUCK_BELOW_ZERO = "    while n < 0:\n        pass\n"
CANDIDATES = {
    "fast": f"def f(n):\n{STUCK_BELOW_ZERO}    return n\n",
    # 1.3 s of CPU on large n: past the quick limit, well within the full one.
    "slow": f"""\
import time


def f(n):
{STUCK_BELOW_ZERO}    if n >= 100:
        end = time.process_time() + 1.3
        while time.process_time() < end:
            pass
    return n
""",
    "raises": "def f(n):\n    if n < 0:\n        raise ValueError(n)\n    return n\n",
}


class Recording:
    """The real sandbox, with each call job's candidate and time limit written down."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        self.limits = sandbox.limits.model_copy(update={"test_seconds": FULL + 1})
        self.jobs: list[tuple[str, float]] = []

    def __getattr__(self, name: str):
        return getattr(self.sandbox, name)

    async def call(self, job: CallJob) -> list[CallOutcome]:
        name = next(n for n, code in CANDIDATES.items() if code in job.candidate)
        assert job.limits is not None
        self.jobs.append((name, job.limits.test_seconds))
        return await self.sandbox.call(job)


@pytest.fixture
def problem(tmp_path: Path) -> Problem:
    return load_problem(write(tmp_path / "f", {"problem.py": STUB, "test_f.py": TESTS}))


@pytest.fixture
def screen(sandbox_driver, problem: Problem, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(behaviour, "QUICK_SECONDS", QUICK)
    monkeypatch.setattr(behaviour, "CALL_SECONDS", FULL)
    recording = Recording(sandbox_driver.sandbox)

    def run(names: tuple[str, ...], inputs: list[tuple[int]]) -> dict[str, list[CallOutcome]]:
        chosen = {name: CANDIDATES[name] for name in names}
        return sandbox_driver.wait(call_each_quickly(problem, chosen, inputs, recording))

    run.jobs = recording.jobs  # type: ignore[attr-defined]  # the test reads what ran
    return run


def test_only_the_slower_candidate_gets_the_full_limit(screen) -> None:
    outcomes = screen(("fast", "slow"), [(1,), (100,), (5,)])
    # Slower than `fast` on 100 but not stuck: called again from there, and it answers.
    assert [o.value for o in outcomes["slow"]] == [1, 100, 5]
    assert [o.value for o in outcomes["fast"]] == [1, 100, 5]
    assert sorted(screen.jobs) == [("fast", QUICK), ("slow", QUICK), ("slow", FULL)]


def test_an_input_every_candidate_is_stuck_on_costs_only_the_quick_limit(screen) -> None:
    outcomes = screen(("fast", "slow"), [(2,), (-1,), (3,)])
    assert sorted(screen.jobs) == [("fast", QUICK), ("slow", QUICK)]
    for mine in outcomes.values():
        assert mine[0].value == 2 and mine[1].cause is Verdict.TIMEOUT
        assert mine[2].error == "skipped"  # what follows a timeout is skipped, as before


def test_a_candidate_that_raised_finished_the_input(screen) -> None:
    """`raises` finished -1 (it raised), so the candidate stuck there is called again: a
    timeout beside a candidate that finished counts only under the full limit."""
    outcomes = screen(("fast", "raises"), [(-1,), (4,)])
    assert sorted(screen.jobs) == [("fast", QUICK), ("fast", FULL), ("raises", QUICK)]
    assert outcomes["raises"][0].error == "ValueError" and outcomes["raises"][1].value == 4
    assert outcomes["fast"][0].cause is Verdict.TIMEOUT and outcomes["fast"][1].error == "skipped"


def test_the_differential_calls_keep_the_full_limit_alone(
    sandbox_driver, problem: Problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A timeout there is a behaviour: it must not come from a stall of a loaded machine."""
    monkeypatch.setattr(behaviour, "CALL_SECONDS", FULL)
    recording = Recording(sandbox_driver.sandbox)
    slow = {"slow": CANDIDATES["slow"]}
    outcomes = sandbox_driver.wait(behaviour.call_each(problem, slow, [(100,)], recording))
    assert recording.jobs == [("slow", FULL)] and outcomes["slow"][0].value == 100
