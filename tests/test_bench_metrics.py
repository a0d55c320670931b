"""Pure leaderboard metrics: the unbiased pass@k estimator, the calibration of the pick's
confidence (reliability bins, Brier score, expected calibration error) and the summaries built
on them."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codegen.bench.compare import compare, format_comparison
from codegen.bench.metrics import (
    brier_score,
    confidence_pairs,
    expected_calibration_error,
    mean_pass_at_k,
    pass_at_k,
    reliability,
    reliability_bins,
    summarize,
)
from codegen.bench.records import (
    CandidateOutcome,
    ProblemRecord,
    ProblemStatus,
    RunData,
    SampleRecord,
    SampleStatus,
    TesterRecord,
)


def _exact(n: int, c: int, k: int) -> float:
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (10, 3, 1, 0.3),
        (5, 0, 1, 0.0),
        (5, 5, 3, 1.0),
        (2, 1, 2, 1.0),  # n - c < k: a correct sample is always drawn
        (10, 1, 5, 0.5),  # 1 - C(9,5)/C(10,5) = 1 - 126/252
        (200, 10, 10, 1 - math.comb(190, 10) / math.comb(200, 10)),
        (4, 2, 2, 5 / 6),  # 1 - C(2,2)/C(4,2)
    ],
)
def test_pass_at_k_known_values(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("n", "c", "k"), [(3, 4, 1), (3, 1, 0), (3, 1, 4), (0, 0, 1)])
def test_pass_at_k_rejects_impossible_counts(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError, match="pass@k"):
        pass_at_k(n, c, k)


counts = st.integers(1, 60).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))
)


@given(counts)
def test_pass_at_k_equals_the_binomial_formula(nck: tuple[int, int, int]) -> None:
    n, c, k = nck
    assert pass_at_k(n, c, k) == pytest.approx(_exact(n, c, k), abs=1e-9)


@given(counts)
def test_pass_at_k_is_a_probability_monotone_in_c_and_k(nck: tuple[int, int, int]) -> None:
    n, c, k = nck
    value = pass_at_k(n, c, k)
    assert 0.0 <= value <= 1.0
    if c < n:
        assert pass_at_k(n, c + 1, k) >= value - 1e-12
    if k < n:
        assert pass_at_k(n, c, k + 1) >= value - 1e-12
    assert pass_at_k(n, c, 1) == pytest.approx(c / n)  # pass@1 is the plain pass rate


def test_mean_pass_at_k_needs_k_samples_everywhere() -> None:
    assert mean_pass_at_k([(2, 1), (2, 2)], 1) == pytest.approx(0.75)
    assert mean_pass_at_k([(2, 1), (1, 1)], 2) is None
    assert mean_pass_at_k([], 1) is None


def _sample(model: str, i: int, code_hash: str | None, status: str = "ok") -> SampleRecord:
    return SampleRecord(model=model, persona="simplest", sample=i, status=SampleStatus(status),
                        code="x" if code_hash else None, code_hash=code_hash, latency_s=1.0 + i,
                        prompt_tokens=10, completion_tokens=5, cost_usd=0.01)  # fmt: skip


def _run(name: str = "r", pick_b: str = "good") -> RunData:
    good = CandidateOutcome(verdict="passed", passed=True, efficiency=1.5)
    bad = CandidateOutcome(verdict="failed", passed=False)
    problems = [
        ProblemRecord(
            problem="P/0", position=0, status=ProblemStatus.DONE, pick="good", pick_passed=True,
            confidence=0.9,
            samples=[_sample("a", 0, "good"), _sample("a", 1, "bad"),
                     _sample("b", 0, "bad"), _sample("b", 1, None, "model_error")],
            candidates={"good": good, "bad": bad},
            tester=[TesterRecord(model="a", text="assert f(1) == 1", cost_usd=0.02)],
        ),
        ProblemRecord(
            problem="P/1", position=1, status=ProblemStatus.DONE, pick=pick_b,
            pick_passed=pick_b == "good", confidence=0.5,
            samples=[_sample("a", 0, "bad"), _sample("a", 1, "bad"),
                     _sample("b", 0, "good"), _sample("b", 1, "good")],
            candidates={"good": good, "bad": bad},
        ),
        ProblemRecord(  # an infrastructure error: neither a pass nor a failure
            problem="P/2", position=2, status=ProblemStatus.INFRA_ERROR,
            samples=[_sample("a", 0, None, "infra_error"), _sample("b", 0, "good")],
        ),
    ]  # fmt: skip
    config = {"models": ["a", "b"]}
    return RunData(name=name, config_hash="h", config=config, created_at="t", problems=problems)


def test_summary_counts_only_done_problems_and_ranks_the_ensemble() -> None:
    board = summarize(_run())
    a, b = board.models
    assert (board.problems_done, board.problems_infra) == (2, 1)
    assert a.pass1 == pytest.approx((0.5 + 0.0) / 2)
    assert a.pass_at[2] == pytest.approx((1.0 + 0.0) / 2)
    assert b.pass1 == pytest.approx((0.0 + 1.0) / 2)
    assert b.model_errors == 1 and a.model_errors == 0
    assert a.infra_errors == 1  # reported apart, never a failure
    assert board.ensemble.pass1 == 1.0 and board.oracle.pass1 == 1.0
    assert board.ensemble_minus_model == {"a": pytest.approx(0.75), "b": pytest.approx(0.5)}
    assert board.ensemble_gap_to_oracle == 0.0
    assert a.efficiency == [1.5] and b.efficiency == [1.5, 1.5]
    assert a.median_latency_s == pytest.approx(1.5)  # infra samples have no latency
    assert a.cost_usd == pytest.approx(0.05)  # the infra problem's spend still counts
    assert board.ensemble.cost_usd == pytest.approx(0.08 + 0.02)  # the tester's counts here
    assert board.total_cost_usd == pytest.approx(0.12) and board.tester_cost_usd == 0.02
    assert board.reliability.picks == 2  # P/0 (0.9) and P/1 (0.5); P/2 is not done
    assert [b.count for b in board.reliability.bins] == [0, 0, 1, 0, 1]
    assert board.reliability.brier == pytest.approx((0.1**2 + 0.5**2) / 2)


def test_compare_lists_per_problem_differences() -> None:
    comparison = compare(_run("one"), _run("two", pick_b="bad"))
    assert comparison.common == 2
    assert [(d.problem, d.who, d.a, d.b) for d in comparison.differences] == [
        ("P/1", "ensemble", "pass", "fail")
    ]
    assert "| P/1 | ensemble | pass | fail |" in format_comparison(comparison)


PAIRS = [(0.1, False), (0.2, True), (0.35, False), (0.85, False), (0.9, True), (1.0, True)]


def test_reliability_bins_hold_count_mean_confidence_and_accuracy() -> None:
    bins = reliability_bins(PAIRS)
    assert [(b.low, b.high) for b in bins] == [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8),
                                               (0.8, 1.0)]  # fmt: skip
    assert [b.count for b in bins] == [1, 2, 0, 0, 3]  # 0.2 opens its bin; 1.0 closes the last
    assert bins[1].mean_confidence == pytest.approx(0.275) and bins[1].accuracy == 0.5
    assert bins[4].mean_confidence == pytest.approx(2.75 / 3)
    assert bins[4].accuracy == pytest.approx(2 / 3)
    assert (bins[2].count, bins[2].mean_confidence, bins[2].accuracy) == (0, None, None)
    with pytest.raises(ValueError, match="increase"):
        reliability_bins(PAIRS, edges=(0.0, 0.5, 0.5, 1.0))


def test_brier_score_and_expected_calibration_error_known_values() -> None:
    assert brier_score([]) is None and expected_calibration_error([]) is None
    assert brier_score([(1.0, True), (0.0, False)]) == 0.0
    assert brier_score([(0.5, True), (0.5, False)]) == pytest.approx(0.25)
    assert brier_score(PAIRS) == pytest.approx((0.01 + 0.64 + 0.1225 + 0.7225 + 0.01 + 0.0) / 6)
    # Per bin |accuracy - mean confidence|, weighted by its share of the picks.
    expected = (1 / 6) * 0.1 + (2 / 6) * abs(0.5 - 0.275) + (3 / 6) * abs(2 / 3 - 2.75 / 3)
    assert expected_calibration_error(PAIRS) == pytest.approx(expected)
    # Perfectly calibrated: 10 picks at 0.7, 7 of which pass.
    calibrated = [(0.7, i < 7) for i in range(10)]
    assert expected_calibration_error(calibrated) == pytest.approx(0.0)
    assert brier_score(calibrated) == pytest.approx(0.7 * 0.09 + 0.3 * 0.49)
    table = reliability(calibrated)
    assert table.picks == 10 and table.bins[3].count == 10 and table.ece == pytest.approx(0.0)


@given(st.lists(st.tuples(st.floats(0.0, 1.0), st.booleans()), min_size=1, max_size=50))
def test_calibration_scores_are_bounded_and_bins_cover_every_pick(
    pairs: list[tuple[float, bool]],
) -> None:
    assert 0.0 <= brier_score(pairs) <= 1.0
    assert 0.0 <= expected_calibration_error(pairs) <= 1.0
    bins = reliability_bins(pairs)
    assert sum(b.count for b in bins) == len(pairs)
    for b in bins:
        if b.count:
            assert b.low - 1e-12 <= b.mean_confidence <= b.high + 1e-12


def test_confidence_pairs_take_done_problems_with_a_pick_and_a_confidence() -> None:
    run = _run(pick_b="bad")
    extra = [
        ProblemRecord(problem="P/3", position=3, status=ProblemStatus.DONE, pick=None,
                      pick_passed=False),  # no pick: no confidence to judge
        ProblemRecord(problem="P/4", position=4, status=ProblemStatus.DONE, pick="x",
                      pick_passed=True),  # stored before confidences were
    ]  # fmt: skip
    assert confidence_pairs([*run.problems, *extra]) == [(0.9, True), (0.5, False)]
