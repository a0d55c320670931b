"""The timed workload of a problem with benchmark tests: perturbed copies of the benchmark's own
calls (nobody knows them in advance), several per call, and of those the first every passing
candidate answers alike. A copy can break a precondition the candidates rely on (a second pair
summing to a two-sum's target), and two correct programs then answer it differently: timed on
it, neither could be ranked on speed, and the shorter, slower one won (a quadratic two-sum over
the hash one, seen on the service's page)."""

from __future__ import annotations

import asyncio
import base64
import pickle
import random
import warnings
from pathlib import Path

import pytest

from codegen.evaluation import rank_candidates
from codegen.evaluation.behaviour import pick_copies
from codegen.evaluation.workload import PERTURB_TRIES, perturbed_benchmark
from codegen.problems import load_problem
from codegen.ranking.perturb import perturbed_copies
from sandbox import CallOutcome, RunResult, UnsafeLocalSandbox, Verdict
from tests.cli_support import TWO_SUM_HASH

ROOT = Path(__file__).resolve().parent.parent
QUADRATIC = """def two_sum(nums, target):
    for i in range(len(nums)):
        for j in range(i + 1, len(nums)):
            if nums[i] + nums[j] == target:
                return [i, j]
    return []
"""


def _run_with_calls(calls: list[tuple[tuple, dict]]) -> RunResult:
    packed = base64.b64encode(pickle.dumps(calls)).decode()
    return RunResult(verdict=Verdict.PASSED, benchmark_calls=packed)


def _outcome(ok: bool, behaviour: str = "") -> CallOutcome:
    return CallOutcome(ok=ok, digest=behaviour, behaviour=behaviour, error="" if ok else "E")


def test_each_call_gets_several_distinct_copies_the_largest_call_first() -> None:
    small, large = (list(range(100, 1100, 100)), 5), (list(range(100, 3000, 7)), 7)
    copies, groups = perturbed_benchmark([_run_with_calls([(small, {}), (large, {})])], secret=1)
    assert groups == [PERTURB_TRIES, PERTURB_TRIES]
    first, second = copies.args[: groups[0]], copies.args[groups[0] :]
    assert all(len(c[0]) == 415 for c in first) and all(len(c[0]) == 10 for c in second)
    assert len({repr(c) for c in copies.args}) == len(copies.args)  # distinct
    assert repr(large) not in {repr(c) for c in first}  # never the public input itself
    again, _ = perturbed_benchmark([_run_with_calls([(small, {}), (large, {})])], secret=1)
    other, _ = perturbed_benchmark([_run_with_calls([(small, {}), (large, {})])], secret=2)
    assert again.args == copies.args and other.args != copies.args  # the run's secret decides


def test_the_first_copy_all_answer_alike_is_picked_else_the_first_handled() -> None:
    a = [_outcome(True, "x"), _outcome(True, "y"), _outcome(True, "z"), _outcome(False)]
    b = [_outcome(True, "w"), _outcome(True, "y"), _outcome(False), _outcome(False)]
    # group 1: copies 0 and 1 (1 is alike); group 2: copies 2 and 3 (only a handles 2)
    assert pick_copies([2, 2], [a, b]) == [1, 2]
    # a group no candidate handles is left out
    assert pick_copies([1, 1], [[_outcome(False), _outcome(True, "q")], [_outcome(False)] * 2]) == [
        1
    ]


def test_copies_keep_what_makes_the_input_valid() -> None:
    rng = random.Random(3)
    args = (sorted(random.Random(0).sample(range(10_000), 500)), 12)
    for copy in perturbed_copies(args, PERTURB_TRIES, rng):
        assert copy[0] == sorted(copy[0]) and len(set(copy[0])) == 500  # sorted, distinct
        assert copy[1] == 12  # a small integer is a count or an index: untouched


@pytest.mark.slow  # three rankings of a 2,000-number benchmark, in process
def test_the_hash_two_sum_beats_the_quadratic_one_on_its_benchmark(monkeypatch) -> None:
    """End to end on the evaluation (in-process sandbox, no Docker), over several runs' secrets
    (fixed here, random in a real run): about half the benchmark's copies give two_sum a second
    answer; they are passed over, and the 2,000-number benchmark ranks the hash version first.
    With one copy per call (before), the first of these secrets crowned the quadratic one."""
    seeds = iter(f"{n:016x}" for n in range(1, 100))
    monkeypatch.setattr("codegen.evaluation.pipeline.secrets.token_hex", lambda _: next(seeds))
    problem = load_problem(str(ROOT / "examples" / "two_sum"))
    candidates = {"quadratic": QUADRATIC, "hash": TWO_SUM_HASH}

    async def rank_once():  # noqa: ANN202
        async with UnsafeLocalSandbox() as sandbox:
            return await rank_candidates(problem, candidates, sandbox, rounds=5, growth=False)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(3):
            report = asyncio.run(rank_once())
            assert report.winner == "hash", [
                (c.id, c.rank, c.explanation) for c in report.candidates
            ]
            assert report.timing_workload.startswith("perturbed copies")
