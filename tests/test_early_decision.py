"""The early decision (codegen.ranking.decision) never names another winner than the full
ranking: on the ranking suites' evidence (tests/test_ranking_rule.py, test_ranking_integrity.py,
test_ranking_examples.py), and for any evidence hypothesis draws, hostile completions included
(whatever the growth fits, the jury's points, the second look's rounds and the failures while
timed turn out to be). The same end to end, in the sandbox, on tests/rank_candidates and the
bench's cases: tests/sandboxed/test_early_decision_sandboxed.py.

``early`` replays what the pipeline (codegen.evaluation.pipeline) checks, in its order: after
the tests, after the first timing job, after the second look (when one runs), after growth.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.evaluation.timing import undecided
from codegen.ranking import (
    CandidateEvidence,
    Growth,
    JuryResult,
    compare_timings,
    fit_growth,
    rank,
)
from codegen.ranking.decision import Decision, Pending, decide, second_look_can_reverse
from codegen.ranking.rule import ordering
from sandbox import CallOutcome, RunResult, TestOutcome, Verdict
from sandbox.models import TestStatus as Status
from tests import test_ranking_integrity as integrity
from tests import test_ranking_rule as rule
from tests.test_ranking_examples import evidence_for

SIZES = [2**k for k in range(4, 13)]


@dataclass
class Case:
    """Evidence as the pipeline gathers it: runs as tested, ``2 * rounds`` samples per passing
    candidate (the first job's, then the second look's, used only when a second look runs),
    growth fits, the jury; and the candidates that fail while timed in either job."""

    evidence: list[CandidateEvidence]
    rounds: int
    jury: JuryResult | None = None
    growth_on: bool = True
    failed_first: set[str] = field(default_factory=set)
    failed_second: set[str] = field(default_factory=set)
    kw: dict[str, Any] = field(default_factory=dict)

    @property
    def lone(self) -> bool:
        return sum(e.run.passed for e in self.evidence) == 1

    def first_job(self) -> dict[str, list[float]]:
        return {
            e.id: e.timing_samples[: self.rounds]
            for e in self.evidence
            if e.run.passed and e.timing_samples and e.id not in self.failed_first
        }

    def second_look(self) -> bool:
        return bool(undecided(self.first_job()))

    def at(self, stage: str) -> list[CandidateEvidence]:
        """The evidence after ``stage``: tests, timing (the first job), second, growth, final."""
        second = self.second_look() and stage != "timing"
        # a second look re-times only the candidates still tied with the fastest
        tied = {t.id for t in compare_timings(self.first_job()) if t.tied_with_fastest}
        out = []
        for e in self.evidence:
            first_fail = e.id in self.failed_first and stage != "tests"
            again = second and e.id in tied
            second_fail = e.id in self.failed_second and again and stage != "tests"
            samples = None
            if stage != "tests" and e.run.passed and e.timing_samples and not first_fail:
                samples = e.timing_samples[: self.rounds * (2 if again else 1)]
                if second_fail:
                    samples = None
            failed = (first_fail or second_fail) and not self.lone  # a lone winner: a warning
            grown = stage in ("growth", "final") and self.growth_on and samples is not None
            update = {
                "run": _failed(e.run) if failed else e.run,
                "outputs": e.outputs if stage != "tests" else None,
                "timing_samples": samples,
                "timed_outputs": None,
                "growth": e.growth if grown else None,
            }
            out.append(e.model_copy(update=update))
        return out


def _failed(run: RunResult) -> RunResult:
    return run.model_copy(update={"verdict": Verdict.FAILED, "message": "failed while timed"})


def early(case: Case) -> Decision | None:
    """The first decision the pipeline reaches, or the final one (None: disputed)."""
    jury = case.jury is not None
    timed = any(e.timing_samples for e in case.at("timing"))
    second = case.second_look()
    checks = [
        ("tests", "tests", Pending(behaviour=True, timing=True, growth=case.growth_on, jury=jury)),
        ("timing", "timing", Pending(timing=second, growth=case.growth_on and timed, jury=jury)),
    ]
    if second:
        grows = case.growth_on and any(e.timing_samples for e in case.at("second"))
        checks.append(("second", "timing", Pending(growth=grows, jury=jury)))
    checks.append(("growth", "growth", Pending(jury=jury)))
    for stage, after, pending in checks:
        decision = decide(ordering(case.at(stage), **case.kw), pending, after)  # type: ignore[arg-type]
        if decision is not None:
            return decision
    return decide(ordering(case.at("final"), jury=case.jury, **case.kw), Pending(), "all evidence")


def check(case: Case) -> Decision | None:
    """The early decision, asserted to name the full ranking's winner (none when disputed)."""
    decision = early(case)
    full = rank(case.at("final"), jury=case.jury, **case.kw)
    if full.disputed:
        assert decision is None
    if decision is not None:
        assert decision.winner == full.winner, (decision, full.winner)
    return decision


# -- the ranking suites -------------------------------------------------------------------------


def jury_points(evidence: list[CandidateEvidence], seed: int) -> JuryResult:
    rng = random.Random(seed)
    return rule.jury_for({e.id: float(rng.randint(0, 8)) for e in evidence if e.run.passed})


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("with_same", [False, True])
def test_the_rule_suites_known_truth(seed: int, with_same: bool) -> None:
    evidence = rule.truth(seed, with_same=with_same)
    for jury in (None, jury_points(evidence, seed)):
        assert check(Case(evidence, rounds=rule.ROUNDS, jury=jury, growth_on=False))
        check(Case(evidence, rounds=rule.ROUNDS, jury=jury, growth_on=True))


def test_a_lead_beyond_the_noise_is_decided_after_the_first_timing_job() -> None:
    """fast.py is alone in its speed tier: the jury cannot reach it. Growth could (x2 and x10
    are speed-ranked beside it), so with growth on it waits for growth."""
    evidence = rule.truth(0)
    case = Case(evidence, rounds=rule.ROUNDS, jury=jury_points(evidence, 1), growth_on=False)
    decision = check(case)
    assert decision is not None and decision.winner == "fast.py" and decision.after == "timing"
    assert "speed" in decision.reason
    grown = check(Case(evidence, rounds=rule.ROUNDS, jury=case.jury, growth_on=True))
    assert grown is not None and grown.after == "growth"


def test_a_tie_waits_for_the_jury() -> None:
    evidence = rule.truth(0, with_same=True)
    jury = rule.jury_for({"same.py": 9.0, "fast.py": 1.0, "x2.py": 0.0, "x10.py": 0.0})
    decision = check(Case(evidence, rounds=rule.ROUNDS, jury=jury, growth_on=False))
    assert decision is not None and decision.after == "all evidence"
    assert decision.winner == "same.py"


def test_a_lone_passing_candidate_is_decided_by_its_tests() -> None:
    lone = [e for e in rule.truth(0) if not e.run.passed or e.id == "x10.py"]
    decision = check(Case(lone, rounds=rule.ROUNDS, jury=jury_points(lone, 0)))
    assert decision is not None and decision.winner == "x10.py" and decision.after == "tests"
    nobody = [e for e in rule.truth(0) if not e.run.passed]
    decision = check(Case(nobody, rounds=rule.ROUNDS))
    assert decision is not None and decision.winner is None and decision.after == "tests"


def test_the_integrity_suite() -> None:
    """Growth that overrules (or not) a measured loss, and disputes: never decided early."""
    quad = fit_growth([(n, 1e-8 * n * n) for n in integrity.SIZES])
    both = [
        integrity.candidate("quad", 1.0, quad),
        integrity.candidate("lin", 1.5, integrity.LINEAR),
    ]
    assert check(Case(both, rounds=10)).winner == "lin"
    assert check(Case(both, rounds=10, kw={"timed_size": 10_000})).winner == "quad"
    padded = [integrity.candidate("honest", 1.0, integrity.LINEAR),
              integrity.candidate("padded", 1.2, integrity.padded())]  # fmt: skip
    check(Case(padded, rounds=10))
    disputes = {"inputs": integrity.INPUTS, "entry_point": "count_even", "vouched": integrity.BOTH}
    split = [integrity.candidate("counts", 1.0, outputs=integrity.answers(1, 1200)),
             integrity.candidate("short", 1.0, outputs=integrity.answers(1, 0))]  # fmt: skip
    assert check(Case(split, rounds=10, kw=disputes)) is None
    majority = [
        integrity.candidate("a", 1.0, outputs=integrity.answers(1, 1200)),
        integrity.candidate("b", 1.1, outputs=integrity.answers(1, 1200)),
        integrity.candidate("short", 0.5, outputs=integrity.answers(1, 0)),
    ]
    check(Case(majority, rounds=10, kw=disputes))


@pytest.mark.parametrize("folder", ["two_sum", "sum_squares"])
def test_the_examples_suite(folder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    problem, evidence, inputs = evidence_for(folder, monkeypatch)
    kw = {"weak_tests": problem.weak_tests, "inputs": inputs, "entry_point": problem.entry_point}
    for jury in (None, jury_points(evidence, 3)):
        check(Case(evidence, rounds=10, jury=jury, kw=kw))
        check(Case(evidence, rounds=10, jury=jury, growth_on=False, kw=kw))


def test_a_second_look_can_reverse_any_tie_or_lead() -> None:
    """Why a pending second look decides nothing: for every rounds setting the paired interval
    of 2r rounds is [d_(k), d_(2r-k+1)] with k <= r."""
    assert all(second_look_can_reverse(rounds) for rounds in range(3, 101))


# -- anything hypothesis draws, hostile completions included ------------------------------------

INPUTS = [([1, 2],), ([3, 4, 5],)]


def _passed(memory: float) -> RunResult:
    tests = [TestOutcome(name="test_a", status=Status.PASSED)]
    return RunResult(verdict=Verdict.PASSED, tests=tests, peak_memory_mb=memory)


def _growth(exponent: float, quality: str) -> Growth:
    rng = random.Random(int(exponent * 100))
    if quality == "padded":
        return fit_growth([(n, 0.012 * (1 + 0.3 * rng.random())) for n in SIZES])
    return fit_growth([(n, 1e-6 * n**exponent * (1 + 0.02 * rng.random())) for n in SIZES])


candidates = st.lists(
    st.fixed_dictionaries(
        {
            "passes": st.booleans() | st.just(True),
            "memory": st.sampled_from([10.0, 12.0, 20.0, 40.0]),
            "factor": st.sampled_from([1.0, 1.02, 1.08, 1.3, 2.0, 10.0]),
            "second": st.sampled_from([0.1, 0.5, 1.0, 2.0, 10.0]),  # the second look's factor
            "votes": st.integers(1, 3),
            "lines": st.integers(1, 4),
            "answers": st.tuples(st.integers(0, 2), st.integers(0, 2)),
            "exponent": st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0]),
            "fit": st.sampled_from(["good", "good", "padded", "none"]),
            "fails": st.sampled_from(["no", "no", "no", "first", "second"]),
            "points": st.integers(0, 8),
        }
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    drawn=candidates,
    rounds=st.sampled_from([3, 5, 10]),
    seed=st.integers(0, 10**6),
    jury=st.booleans(),
    growth_on=st.booleans(),
    weak=st.booleans(),
    vouched=st.sampled_from([[False, False], [True, False], [True, True]]),
    timed_size=st.sampled_from([None, 30, 100_000]),
)
def test_any_evidence_any_completion(
    drawn: list[dict[str, Any]],
    rounds: int,
    seed: int,
    jury: bool,
    growth_on: bool,
    weak: bool,
    vouched: list[bool],
    timed_size: int | None,
) -> None:
    rng = random.Random(seed)
    base = [1e-3 * (1 + rng.expovariate(6)) for _ in range(2 * rounds)]
    evidence, failed_first, failed_second = [], set(), set()
    for i, d in enumerate(drawn):
        cid = f"c{i}"
        run = _passed(d["memory"]) if d["passes"] else _failed(_passed(d["memory"]))
        factors = [d["factor"]] * rounds + [d["factor"] * d["second"]] * rounds
        samples = [b * f * (1 + 0.05 * rng.random()) for b, f in zip(base, factors, strict=True)]
        growth = None if d["fit"] == "none" else _growth(d["exponent"], d["fit"])
        outputs = [CallOutcome(ok=True, value=v, repr=repr(v)) for v in d["answers"]]
        evidence.append(
            CandidateEvidence(
                id=cid, source="x = 1\n" * d["lines"], run=run, outputs=outputs,
                timing_samples=samples if d["passes"] else None, votes=d["votes"], growth=growth,
            )
        )  # fmt: skip
        if d["fails"] == "first":
            failed_first.add(cid)
        elif d["fails"] == "second":
            failed_second.add(cid)
    points = {f"c{i}": float(d["points"]) for i, d in enumerate(drawn) if d["passes"]}
    case = Case(
        evidence,
        rounds=rounds,
        jury=rule.jury_for(points) if jury and points else None,
        growth_on=growth_on,
        failed_first=failed_first,
        failed_second=failed_second,
        kw={"weak_tests": weak, "inputs": INPUTS, "entry_point": "f", "vouched": vouched,
            "timed_size": timed_size},
    )  # fmt: skip
    check(case)
