"""Dual execution agreement on candidate pools whose truth is known: model-written tests and
agreement order the passing candidates, never decide who passes, and give a confidence."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.ranking.consensus import GeneratedTest, passes
from codegen.ranking.rule import CandidateEvidence, rank
from sandbox.harness import plaindata
from sandbox.models import CallOutcome, RunResult, Verdict

INPUTS = [[n] for n in range(-3, 5)]  # the first four are the model-written tests' inputs


def square(n: int) -> int:
    return n * n


def abs_square(n: int) -> int:  # wrong on negatives; the visible examples only use n >= 0
    return n * abs(n)


def ok(value: Any) -> CallOutcome:
    return CallOutcome(ok=True, value=plaindata.canonical(value))


def evidence(
    cid: str, function: Any, *, votes: int = 1, fails: bool = False, seconds: float | None = None
) -> CandidateEvidence:
    run = RunResult(verdict=Verdict.FAILED if fails else Verdict.PASSED)
    samples = [seconds * (1 + 0.01 * i) for i in range(9)] if seconds else None
    outputs = [ok(function(*args)) for args in INPUTS]
    return CandidateEvidence(
        id=cid, run=run, outputs=outputs, votes=votes, source=cid, timing_samples=samples
    )


def written_tests(function: Any, count: int = 4) -> list[GeneratedTest]:
    return [GeneratedTest(args=args, expected=function(*args)) for args in INPUTS[:count]]


def test_model_written_tests_outweigh_a_wrong_majority() -> None:
    pool = [
        *(evidence(f"wrong{i}", abs_square) for i in range(3)),
        *(evidence(f"right{i}", square) for i in range(2)),
    ]
    without = rank(pool, weak_tests=True, inputs=INPUTS)
    assert without.winner == "wrong0"  # agreement alone: 3 against 2
    report = rank(pool, weak_tests=True, inputs=INPUTS, generated_tests=written_tests(square))
    assert report.winner in ("right0", "right1")  # 2 × (1 + 4) beats 3 × (1 + 1)
    assert report.candidate("wrong0").demoted
    assert report.evidence == (
        "2 of 5 candidates agree on 8 inputs; they pass 4 of 4 model-written tests; "
        "no other model confirms it"
    )


def test_a_program_written_several_times_counts_each_time() -> None:
    pool = [evidence("once", square), evidence("thrice", abs_square, votes=3)]
    assert rank(pool, weak_tests=True, inputs=INPUTS).winner == "thrice"
    report = rank(pool, weak_tests=True, inputs=INPUTS, generated_tests=written_tests(square, 3))
    assert report.winner == "once"  # 1 × (1 + 3) against 3 × (1 + 0)


def test_generated_tests_never_make_a_candidate_pass_or_fail() -> None:
    pool = [evidence("fails_visible", square, fails=True), evidence("passes", abs_square)]
    report = rank(pool, weak_tests=True, inputs=INPUTS, generated_tests=written_tests(square))
    assert report.winner == "passes"
    assert report.candidate("fails_visible").rank is None
    assert report.candidate("passes").passed


def test_with_strong_tests_agreement_only_breaks_ties_after_speed() -> None:
    tests = written_tests(square)
    fast_wrong = evidence("fast", abs_square, seconds=1e-3)
    slow_right = evidence("slow", square, seconds=5e-3)
    report = rank([slow_right, fast_wrong], inputs=INPUTS, generated_tests=tests)
    # Their answers differ on the differential inputs only (not timed), so speed decides.
    assert report.winner == "fast"
    tied = [evidence("a", abs_square, seconds=1e-3), evidence("b", square, seconds=1e-3)]
    report = rank(tied, inputs=INPUTS, generated_tests=tests)
    assert report.winner == "b"  # tied within noise: the better-supported one
    assert "less agreement" in report.candidate("a").explanation


def test_each_set_records_its_models_and_its_tests_weighed_by_their_testers() -> None:
    pool = [
        evidence("r1", square, votes=2),
        evidence("r2", square),
        evidence("w", abs_square),
    ]
    pool = [
        e.model_copy(update={"authors": authors})
        for e, authors in zip(pool, [["small", "large"], ["large"], ["small"]], strict=True)
    ]
    tests = [
        GeneratedTest(args=[-2], expected=4, authors=["small", "large"]),  # weighs 2
        GeneratedTest(args=[-1], expected=-1, authors=["small"]),  # abs_square's value
        GeneratedTest(args=[0], expected=0, authors=["large"]),
    ]
    report = rank(pool, weak_tests=True, inputs=INPUTS, generated_tests=tests)
    consensus = report.consensus
    assert consensus is not None and (consensus.tests, consensus.tests_weight) == (3, 4.0)
    assert consensus.agreed == 1
    right, wrong = consensus.set_of("r1"), consensus.set_of("w")
    assert right is not None and wrong is not None
    assert right.models == {"large": 2, "small": 1} and wrong.models == {"small": 1}
    assert (right.tests_passed, right.tests_weight_passed, right.agreed_passed) == (2, 3.0, 1)
    assert (wrong.tests_passed, wrong.tests_weight_passed, wrong.agreed_passed) == (2, 2.0, 0)


def test_passes_compares_like_python_but_forgives_rounded_floats() -> None:
    assert passes(ok(1 / 3), 0.333333)
    assert passes(ok(2), 2.0) and passes(ok([1.0, 2]), [1, 2.0])
    assert not passes(ok([1, 2]), (1, 2))  # a list is not a tuple
    assert not passes(ok(0.34), 0.333333)
    assert not passes(CallOutcome(ok=False, error="ValueError"), None)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from([square, abs_square, abs]), min_size=1, max_size=8),
    st.integers(0, 4),
    st.randoms(use_true_random=False),
)
def test_the_winner_is_in_the_best_set_whatever_the_order(
    functions: list[Any], written: int, rng: random.Random
) -> None:
    pool = [evidence(f"c{i}", f, votes=1 + i % 2) for i, f in enumerate(functions)]
    tests = written_tests(square, written)
    report = rank(pool, weak_tests=True, inputs=INPUTS, generated_tests=tests)
    assert report.consensus is not None and report.winner is not None
    assert report.consensus.tier(report.winner) == 0
    assert report.confidence is not None and 0 < report.confidence < 1
    shuffled = rank(rng.sample(pool, len(pool)), weak_tests=True, inputs=INPUTS,
                    generated_tests=tests)  # fmt: skip
    same_set = report.consensus.set_of(report.winner)
    if len({s.score for s in report.consensus.sets}) == len(report.consensus.sets):
        assert same_set is not None and shuffled.winner in same_set.members
