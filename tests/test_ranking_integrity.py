"""The pure rule against the red team of issue #18 (classes 9 and the disputed case): growth
cannot be gamed with a nonsense fit, never overrules a loss measured at a larger size, and a
dispute between behaviours with equal support names no winner. Every test here failed on the
rule before #18. The same cases end to end, in the sandbox: tests/sandboxed/test_red_team_ii.py.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.ranking import CandidateEvidence, Growth, fit_growth, rank
from codegen.ranking.growth import MIN_QUALITY
from codegen.ranking.statistics import compare_timings
from sandbox import CallOutcome, RunResult, TestOutcome, Verdict
from sandbox.models import TestStatus as Status

SIZES = [2**k for k in range(6, 13)]  # 64 … 4096


def passed() -> RunResult:
    return RunResult(
        verdict=Verdict.PASSED,
        tests=[TestOutcome(name="test_a", status=Status.PASSED)],
        peak_memory_mb=11.0,
    )


def samples(factor: float, seed: int, rounds: int = 10) -> list[float]:
    rng = random.Random(seed)
    return [2e-3 * factor * (1 + 0.04 * rng.random()) for _ in range(rounds)]


def candidate(cid: str, factor: float, growth: Growth | None = None, **fields) -> CandidateEvidence:
    return CandidateEvidence(
        id=cid, source="x = 1\n", run=passed(), timing_samples=samples(factor, hash(cid) % 97),
        growth=growth, **fields,
    )  # fmt: skip


LINEAR = fit_growth([(n, 3e-6 * n) for n in SIZES])


def padded() -> Growth:
    """Small calls padded to a flat 12 ms, the largest a little above: an exponent near 0 and
    a fit that explains nothing."""
    rng = random.Random(7)
    return fit_growth([(n, 0.012 * (1 + 0.3 * rng.random())) for n in SIZES])


# -- 9. the growth rule ------------------------------------------------------------------------
def test_a_nonsense_fit_claims_no_slower_growth() -> None:
    flat = padded()
    assert flat.exponent is not None and (flat.quality or 0) < MIN_QUALITY
    report = rank([candidate("honest", 1.0, LINEAR), candidate("padded", 1.2, flat)])
    assert report.winner == "honest"  # before: "padded" won through "grows slower"
    assert report.candidate("padded").rank == 2


def test_growth_never_overrules_a_loss_measured_at_a_larger_size() -> None:
    quad = fit_growth([(n, 1e-8 * n * n) for n in SIZES])  # overtaken by LINEAR at 4096
    both = [candidate("quad", 1.0, quad), candidate("lin", 1.5, LINEAR)]
    assert rank(both).winner == "lin"  # the timed input is small: growth decides
    assert rank(both, timed_size=10_000).winner == "quad"  # measured larger, and lin lost


# -- the disputed case ---------------------------------------------------------------------------
INPUTS = [([1, 2, 3],), ([2] * 1200,)]
BOTH = [True, True]  # drawn from the problem's own strategies.py


def answers(*values) -> list[CallOutcome]:
    return [CallOutcome(ok=True, value=v, repr=repr(v)) for v in values]


def test_passing_candidates_that_disagree_with_no_majority_are_disputed() -> None:
    report = rank(
        [
            candidate("counts", 1.0, outputs=answers(1, 1200)),
            candidate("short", 1.0, outputs=answers(1, 0)),
        ],
        inputs=INPUTS,
        entry_point="count_even",
        vouched=BOTH,
    )
    assert report.disputed and report.winner is None and report.confidence is None
    assert report.dispute.startswith("on count_even([2, 2, 2")
    assert "counts returns 1200" in report.dispute and "short returns 0" in report.dispute


def test_a_majority_or_a_model_written_test_settles_it() -> None:
    majority = rank(
        [
            candidate("a", 1.0, outputs=answers(1, 1200)),
            candidate("b", 1.1, outputs=answers(1, 1200)),
            candidate("short", 0.5, outputs=answers(1, 0)),
        ],
        inputs=INPUTS,
        entry_point="count_even",
        vouched=BOTH,
    )
    assert not majority.disputed and majority.winner in {"a", "b"}
    votes = rank(
        [candidate("a", 1.0, outputs=answers(1, 1200), votes=2),
         candidate("short", 0.5, outputs=answers(1, 0))],
        inputs=INPUTS, entry_point="count_even", vouched=BOTH,
    )  # fmt: skip
    assert not votes.disputed and votes.winner == "a"


def test_a_split_on_inputs_nobody_vouches_for_is_a_finding_not_a_dispute() -> None:
    """Inputs guessed from type hints may break a precondition the text states (a sorted
    list): programs may differ there and both be right."""
    report = rank(
        [candidate("counts", 1.0, outputs=answers(1, 1200)),
         candidate("short", 1.0, outputs=answers(1, 0))],
        inputs=INPUTS, entry_point="count_even", vouched=[True, False],
    )  # fmt: skip
    assert not report.disputed and report.winner is not None and report.findings


def test_agreeing_candidates_are_never_disputed() -> None:
    report = rank(
        [candidate("a", 1.0, outputs=answers(1, 1200)),
         candidate("b", 1.0, outputs=answers(1, 1200))],
        inputs=INPUTS, entry_point="count_even", vouched=BOTH,
    )  # fmt: skip
    assert not report.disputed and report.winner is not None


# -- identical code ties, whatever the noise ------------------------------------------------------
@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 10**6),
    rounds=st.sampled_from([10, 20]),
    spikes=st.floats(0.0, 0.3),
)
def test_identical_copies_tie_under_heavy_tailed_noise(
    seed: int, rounds: int, spikes: float
) -> None:
    """A loaded machine: each sample is the same cost times skewed noise, a share of them hit by
    a spike of up to 3x (another process took the CPU). Copies of one program tie."""
    rng = random.Random(seed)

    def noisy() -> list[float]:
        return [
            1e-3 * (1 + rng.expovariate(8)) * (1 + 2 * rng.random() if rng.random() < spikes else 1)
            for _ in range(rounds)
        ]

    stats = compare_timings({"a": noisy(), "b": noisy()})
    assert all(s.tied_with_fastest for s in stats), stats
