"""The differential calls' time limits, on the real sandbox: a quick limit first, and the full
one only for a candidate that was slower than another on the same input. An input every
candidate is stuck on costs each of them the quick limit, once."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen.evaluation.behaviour import CALL_SECONDS, QUICK_SECONDS, call_each
from codegen.problems import load_problem
from sandbox import CallJob, CallOutcome, Verdict
from tests.test_problem import write

pytestmark = pytest.mark.docker

STUB = '''\
def f(n: int) -> int:
    """Return n; n is never negative."""
'''
TESTS = "from solution import f\n\n\ndef test_f():\n    assert f(3) == 3\n"
STUCK_BELOW_ZERO = "    while n < 0:\n        pass\n"
CANDIDATES = {
    "fast": f"def f(n):\n{STUCK_BELOW_ZERO}    return n\n",
    # Half a second of CPU on large n: past the quick limit, well within the full one.
    "slow": f"""\
import time


def f(n):
{STUCK_BELOW_ZERO}    if n >= 100:
        end = time.process_time() + 0.5
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
        self.limits = sandbox.limits
        self.jobs: list[tuple[str, float]] = []

    def __getattr__(self, name: str):
        return getattr(self.sandbox, name)

    async def call(self, job: CallJob) -> list[CallOutcome]:
        name = next(n for n, code in CANDIDATES.items() if code in job.candidate)
        assert job.limits is not None
        self.jobs.append((name, job.limits.test_seconds))
        return await self.sandbox.call(job)


def test_only_the_slower_candidate_gets_the_full_limit(sandbox_driver, tmp_path: Path) -> None:
    problem = load_problem(write(tmp_path / "f", {"problem.py": STUB, "test_f.py": TESTS}))
    recording = Recording(sandbox_driver.sandbox)
    inputs = [(1,), (100,), (-1,), (5,)]
    outcomes = sandbox_driver.wait(call_each(problem, CANDIDATES, inputs, recording))
    fast, slow, raises = outcomes["fast"], outcomes["slow"], outcomes["raises"]
    # Slower than `fast` on 100 but not stuck: called again from there, and it answers.
    assert [o.value for o in slow[:2]] == [1, 100] and slow[1].ok
    # -1: `raises` finished (it raised), so `fast` too is called again from there: a timeout
    # beside a candidate that finished counts only under the full limit.
    assert sorted(recording.jobs) == sorted(
        [("fast", QUICK_SECONDS), ("fast", CALL_SECONDS), ("raises", QUICK_SECONDS),
         ("slow", QUICK_SECONDS), ("slow", CALL_SECONDS)]
    )  # fmt: skip
    assert raises[2].error == "ValueError" and raises[3].value == 5
    for stuck in (fast, slow):  # what follows a timeout is skipped, as before
        assert stuck[2].cause is Verdict.TIMEOUT and stuck[3].error == "skipped"


def test_an_input_every_candidate_is_stuck_on_costs_only_the_quick_limit(
    sandbox_driver, tmp_path: Path
) -> None:
    problem = load_problem(write(tmp_path / "f", {"problem.py": STUB, "test_f.py": TESTS}))
    recording = Recording(sandbox_driver.sandbox)
    stuck = {name: CANDIDATES[name] for name in ("fast", "slow")}
    outcomes = sandbox_driver.wait(call_each(problem, stuck, [(2,), (-1,), (3,)], recording))
    assert sorted(recording.jobs) == [("fast", QUICK_SECONDS), ("slow", QUICK_SECONDS)]
    for mine in outcomes.values():
        assert mine[0].value == 2 and mine[1].cause is Verdict.TIMEOUT
        assert mine[2].error == "skipped"
