"""Leaderboard throughput: wall time per problem and where it goes, with a fake model server of
negligible latency on loopback and the real sandbox.

- ``test_leaderboard_slice``: 20 HumanEval problems × 3 models × 2 samples (3 distinct programs
  per problem after dedupe), with one (fake) judge on the jury. Always run by ``make bench``.
- ``test_leaderboard_full``: the target, all 164 problems × 5 distinct candidates verified,
  ranked and timed; opt in with ``CODEGEN_BENCH_FULL=1`` (minutes of both cores).

Phases are summed over problems (problems overlap, so the sum exceeds the wall time):
generation, sandbox (hidden tests), ranking (its stages: verify = visible tests, behaviour =
differential calls, timing, which holds the canonical solution too; jury, beside them), timing
(a job of its own for the efficiency, only where the ranking's timing left a ratio out).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from codegen.bench.executors import LocalExecutor
from codegen.bench.metrics import summarize
from codegen.bench.progress import LineProgress
from codegen.bench.records import ProblemStatus
from codegen.bench.runner import BenchSpec, run_bench
from codegen.bench.store import Store
from codegen.bench.suites import HumanEvalSuite
from tests.bench_support import humaneval_server

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SUITE = HumanEvalSuite()
GOAL_S = 150.0  # the full leaderboard on 2 cores (issue 23)


def _measure(
    tmp_path: Path,
    problems: int,
    models: tuple[str, ...],
    samples: int,
    judges: tuple[str, ...] = (),
) -> dict:
    suite_problems = SUITE.problems()[:problems]
    with humaneval_server(suite_problems) as server, Store(tmp_path / "bench.sqlite") as store:
        spec = BenchSpec(
            suite=SUITE,
            models=tuple(f"openai/{m}" for m in models),
            samples=samples,
            limit=problems,
            run_name="bench",
            api_base=server.base_url,
            judges=judges,
        )
        started = time.perf_counter()
        outcome = asyncio.run(run_bench(spec, store, LocalExecutor(workers=2), LineProgress()))
        wall = time.perf_counter() - started
        data = store.load("bench")
    assert outcome.done == problems, [p.message for p in data.problems if p.message]
    phases: dict[str, float] = {}
    for record in data.problems:
        for name, seconds in record.phases.items():
            phases[name] = phases.get(name, 0.0) + seconds
    candidates = sum(len(p.candidates) for p in data.problems)
    board = summarize(data)
    missed = [p for p in data.problems if not p.pick_passed]
    figures = {
        "problems": problems,
        "candidates": candidates,
        "wall_s": round(wall, 1),
        "wall_per_problem_s": round(wall / problems, 2),
        "run_only_s": round(outcome.wall_s, 1),
        **{f"sum_{k}_s": round(v, 1) for k, v in sorted(phases.items())},
        "ensemble_pass1": board.ensemble.pass1,
        "done": sum(p.status is ProblemStatus.DONE for p in data.problems),
        "oracle_pass1": board.oracle.pass1,
        "ensemble_no_pick": sum(p.pick is None for p in missed),
        "ensemble_no_pick_timing_failure": sum(
            p.pick is None and "failed while being timed" in p.message for p in missed
        ),
        "ensemble_wrong_pick": sum(p.pick is not None for p in missed),
        "median_efficiency_slow": next(
            (m.median_efficiency for m in board.models if m.name == "openai/slow"), None
        ),
    }
    print("\n" + "\n".join(f"{k:>28}: {v}" for k, v in figures.items()))
    return figures


def test_leaderboard_slice(tmp_path: Path, benchmark) -> None:  # noqa: ANN001 - pytest fixture
    figures = benchmark.pedantic(
        _measure,
        args=(tmp_path, 20, ("canonical", "wrong", "slow"), 2, ("openai/judge",)),
        rounds=1,
        iterations=1,
    )
    benchmark.extra_info.update(figures)
    assert figures["candidates"] == 20 * 3


@pytest.mark.skipif(not os.environ.get("CODEGEN_BENCH_FULL"), reason="set CODEGEN_BENCH_FULL=1")
def test_leaderboard_full(tmp_path: Path, benchmark) -> None:  # noqa: ANN001 - pytest fixture
    models = ("canonical", "wrong", "slow", "wrapped", "raises")
    load = os.getloadavg()[0]
    figures = benchmark.pedantic(_measure, args=(tmp_path, 164, models, 1), rounds=1, iterations=1)
    benchmark.extra_info.update(figures)
    print(f"load average before {load:.1f}, after {os.getloadavg()[0]:.1f} (2 cores)")
    assert figures["candidates"] == 164 * 5
    assert figures["wall_s"] <= GOAL_S, f"{figures['wall_s']} s (goal {GOAL_S} s, issue 23)"
