"""The winner's confidence: independent evidence in log-odds. Agreement across models counts,
samples of one model count little, model-written tests weigh by their testers, and the value
stays a probability."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.ranking.confidence import (
    CEILING,
    LOWEST,
    Evidence,
    confidence,
    describe,
    log_odds,
    support,
)
from codegen.ranking.consensus import GeneratedTest, written_weight
from codegen.ranking.rule import CandidateEvidence, rank
from sandbox import models
from sandbox.harness import plaindata
from sandbox.models import CallOutcome, RunResult, TestOutcome, Verdict

INPUTS = [[n] for n in range(-3, 5)]
SMALL, LARGE = "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"


def square(n: int) -> int:
    return n * n


def abs_square(n: int) -> int:
    return n * abs(n)


def candidate(
    cid: str, function: Any, authors: list[str], *, fails: bool = False, examples: int = 2
) -> CandidateEvidence:
    tests = [TestOutcome(name=f"t{i}", status=models.TestStatus.PASSED) for i in range(examples)]
    run = RunResult(verdict=Verdict.FAILED if fails else Verdict.PASSED, tests=tests)
    outputs = [CallOutcome(ok=True, value=plaindata.canonical(function(*a))) for a in INPUTS]
    return CandidateEvidence(
        id=cid, run=run, outputs=outputs, votes=len(authors), authors=authors, source=cid
    )


def confidence_of(pool: list[CandidateEvidence], tests: list[GeneratedTest] = ()) -> float:
    report = rank(pool, weak_tests=True, inputs=INPUTS, generated_tests=list(tests))
    assert report.confidence is not None and report.counted is not None
    return report.confidence


def test_agreement_across_models_outweighs_more_samples_of_one() -> None:
    one_model = [candidate("a", square, [SMALL] * 4)]
    two_models = [candidate("a", square, [SMALL, LARGE])]
    assert confidence_of(two_models) > confidence_of(one_model) + 0.1
    assert support(_counted(two_models)) == "models agree"


def test_samples_of_one_model_sharing_a_program_are_no_certainty() -> None:
    # the README's two_sum: four 0.5B candidates, one shared bug, 95 % before
    pool = [candidate("a", abs_square, [SMALL] * 4)]
    assert confidence_of(pool) <= CEILING["one model"] < 0.85
    assert _counted(pool).agreeing_models == 1
    assert "another model could confirm it" in rank(pool, weak_tests=True, inputs=INPUTS).evidence


def test_failing_the_model_written_tests_lowers_the_confidence() -> None:
    mine = [candidate("m", abs_square, [SMALL, SMALL, SMALL])]
    # the README's median passed 1 of 10 model-written tests, and had 67 %: this passes 1 of 8
    against = [GeneratedTest(args=[0], expected=0, authors=[SMALL])] + [
        GeneratedTest(args=[n], expected=n * n + 1, authors=[SMALL])
        for n in (-3, -2, -1, 1, 2, 3, 4)
    ]
    passed = [GeneratedTest(args=[n], expected=abs_square(n), authors=[SMALL]) for n in range(4)]
    without = confidence_of(mine)
    assert confidence_of(mine, against) < 0.5 < without
    assert confidence_of(mine, passed) == without  # as a right program would: no news
    # a test two testers wrote alike weighs twice, and failing it costs more than one of them
    one = [GeneratedTest(args=[-2], expected=4, authors=[SMALL]), *passed]
    both = [GeneratedTest(args=[-2], expected=4, authors=[SMALL, LARGE]), *passed]
    odds = [log_odds(_counted(mine, tests)) for tests in (both, one, passed)]
    assert odds[0] < odds[1] <= odds[2]  # one of five: a right program's usual agreement


def test_a_test_several_testers_wrote_weighs_once_per_tester() -> None:
    assert written_weight(GeneratedTest(args=[1], expected=1, authors=[SMALL, LARGE])) == 2
    assert written_weight(GeneratedTest(args=[1], expected=1, authors=[SMALL, SMALL])) == 1
    assert written_weight(GeneratedTest(args=[1], expected=1)) == 1


def test_a_winner_no_other_model_confirms_stays_below_a_coin() -> None:
    # another model was asked: its sample failed the visible tests, or behaves otherwise
    alone = [candidate("w", square, [LARGE] * 3), candidate("f", square, [SMALL], fails=True)]
    opposed = [candidate("w", square, [LARGE] * 3), candidate("o", abs_square, [SMALL, SMALL])]
    for pool in (alone, opposed):
        report = rank(pool, weak_tests=True, inputs=INPUTS)
        assert report.winner == "w" and report.confidence is not None
        assert report.confidence <= CEILING["unconfirmed"] < 0.5
        assert "unconfirmed: no other model's sample behaves like it" in report.evidence
    lone = [candidate("w", square, [LARGE])]
    assert confidence_of(lone) <= CEILING["unconfirmed"]
    assert describe(_counted(lone)) == "unconfirmed: no other sample behaves like it"


def test_candidates_of_unknown_models_count_as_one_model() -> None:
    pool = [candidate("a", square, []).model_copy(update={"votes": 3})]
    counted = _counted(pool)
    assert (counted.models, counted.votes) == (0, 3) and support(counted) == "one model"


def test_the_evidence_is_counted_as_ranked() -> None:
    pool = [
        candidate("r1", square, [SMALL, LARGE, LARGE]),
        candidate("r2", abs_square, [SMALL]),
        candidate("bad", square, [SMALL, SMALL], fails=True),
    ]
    tests = [
        GeneratedTest(args=[-2], expected=4, authors=[SMALL, LARGE]),
        GeneratedTest(args=[-1], expected=-1, authors=[SMALL]),
    ]
    report = rank(pool, weak_tests=True, inputs=INPUTS, generated_tests=tests)
    assert report.winner == "r1" and report.counted is not None
    counted = report.counted
    assert (counted.samples, counted.passing, counted.votes) == (6, 4, 3)
    assert (counted.models, counted.passing_models, counted.agreeing_models) == (2, 2, 2)
    assert (counted.written, counted.written_passed) == (3, 2)
    assert (counted.tests, counted.tests_passed, counted.agreed, counted.agreed_passed) == (
        2, 1, 1, 1,
    )  # fmt: skip
    assert counted.visible_tests == 2 and not counted.strong_tests
    assert report.evidence.endswith("; 2 models agree")
    assert report.confidence == confidence(counted)


def _counted(pool: list[CandidateEvidence], tests: Sequence[GeneratedTest] = ()) -> Evidence:
    report = rank(pool, weak_tests=True, inputs=INPUTS, generated_tests=list(tests))
    assert report.counted is not None
    return report.counted


@st.composite
def evidence(draw: st.DrawFn) -> Evidence:
    """Counts that can occur together."""
    samples = draw(st.integers(1, 12))
    passing = draw(st.integers(1, samples))
    votes = draw(st.integers(1, passing))
    models_ = draw(st.integers(0, 3))
    passing_models = draw(st.integers(min(models_, 1), models_))
    written = draw(st.sampled_from([0.0, 1.0, 5.0, 12.0, 30.0]))
    return Evidence(
        visible_tests=draw(st.integers(0, 8)),
        strong_tests=draw(st.booleans()),
        samples=samples,
        passing=passing,
        votes=votes,
        models=models_,
        passing_models=passing_models,
        agreeing_models=draw(st.integers(min(passing_models, 1), passing_models)),
        written=written,
        written_passed=draw(st.floats(0, written)),
    )


@settings(max_examples=300, deadline=None)
@given(evidence())
def test_more_evidence_for_never_lowers_and_against_never_raises(e: Evidence) -> None:
    e = e.model_copy(update={"written_passed": min(e.written_passed, e.written)})
    value = confidence(e)
    assert LOWEST <= value <= CEILING[support(e)]
    assert (
        confidence(
            e.model_copy(
                update={
                    "agreeing_models": e.agreeing_models + 1,
                    "passing_models": e.passing_models + 1,
                }
            )
        )
        >= value
    )
    assert (
        confidence(
            e.model_copy(
                update={"votes": e.votes + 1, "passing": e.passing + 1, "samples": e.samples + 1}
            )
        )
        >= value
    )
    if e.written:
        fewer = max(0.0, e.written_passed - 1)
        assert confidence(e.model_copy(update={"written_passed": fewer})) <= value
