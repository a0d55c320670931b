"""The second look re-times only the candidates still tied with the fastest: one already slower
beyond the noise stays slower on the rounds it ran, and its rounds are not spent again."""

from __future__ import annotations

import asyncio

from codegen.evaluation.timing import Timing
from codegen.evaluation.workload import Workload
from codegen.problems import load_problem
from codegen.ranking import compare_timings
from sandbox import RunResult, TimingJob, Verdict
from sandbox.testing import Script, ScriptedSandbox
from tests.cli_support import ROOT

ROUNDS = 10


def _source(name: str) -> str:
    return f"def two_sum(nums, target):\n    return {name!r}\n"


def test_a_second_look_leaves_out_the_clearly_slower() -> None:
    problem = load_problem(str(ROOT / "examples" / "two_sum"))
    sandbox = ScriptedSandbox({
        "'fast'": Script(seconds=[1.0, 1.0, 1.3]),
        "'close'": Script(seconds=[1.2, 1.2, 1.0]),  # 1.2× by the median, yet within the noise
        "'slow'": Script(seconds=10.0),
    })  # fmt: skip
    passing = {name: _source(name) for name in ("fast", "close", "slow")}
    runs = {name: RunResult(verdict=Verdict.PASSED) for name in passing}
    timing = Timing(problem, Workload(problem.sandbox_test_files()), runs, {}, sandbox, ROUNDS,
                    [], lambda event: None)  # fmt: skip

    samples = asyncio.run(timing.samples(passing))

    jobs = [job for job in sandbox.jobs if isinstance(job, TimingJob)]
    assert [sorted(job.candidates) for job in jobs] == [
        ["close", "fast", "slow"],
        ["close", "fast"],
    ]
    assert {name: len(s) for name, s in samples.items()} == {"fast": 20, "close": 20, "slow": 10}
    stats = {t.id: t for t in compare_timings(samples)}
    assert stats["slow"].tier > 1 and stats["slow"].method == "paired"  # on the rounds it ran
    assert stats["fast"].tied_with_fastest and stats["close"].tied_with_fastest
