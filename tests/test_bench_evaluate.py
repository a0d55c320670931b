"""The efficiency ratios taken from the ranking's timing rounds (pure): all of a problem's
ratios come from one job, or none do (then the candidates are timed again on their own)."""

from __future__ import annotations

from codegen.bench.evaluate import efficiency_from
from codegen.bench.records import CandidateOutcome


def _outcomes(**passed: bool) -> dict[str, CandidateOutcome]:
    return {cid: CandidateOutcome(verdict="passed" if p else "failed", passed=p)
            for cid, p in passed.items()}  # fmt: skip


def test_every_candidate_passing_the_hidden_tests_gets_its_ratio() -> None:
    outcomes = _outcomes(a=True, b=True, c=False)
    timed = {"a": [1.0, 1.2, 1.1], "b": [2.0, 2.4, 2.2], "c": [0.1, 0.1, 0.1]}
    canonical_s = efficiency_from(outcomes, timed, [1.0, 1.0, 1.1])
    assert canonical_s == 1.0
    assert outcomes["a"].efficiency == 1.1 and outcomes["a"].time_median_s == 1.1
    assert outcomes["b"].efficiency == 2.2
    assert outcomes["c"].efficiency is None  # fails the hidden tests: no ratio, timed or not


def test_a_passing_candidate_not_timed_beside_the_canonical_leaves_every_ratio_out() -> None:
    outcomes = _outcomes(a=True, b=True)
    assert efficiency_from(outcomes, {"a": [1.0, 1.0]}, [1.0, 1.0]) is None
    assert outcomes["a"].efficiency is None and outcomes["b"].efficiency is None


def test_no_ratio_without_the_canonicals_rounds() -> None:
    for reference in (None, [], [0.0]):
        outcomes = _outcomes(a=True)
        assert efficiency_from(outcomes, {"a": [1.0]}, reference) is None
        assert outcomes["a"].efficiency is None


def test_nothing_passing_nothing_to_compare() -> None:
    assert efficiency_from(_outcomes(a=False), {"a": [1.0]}, [1.0]) is None
