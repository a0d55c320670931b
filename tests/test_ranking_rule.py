"""The final rule on known-truth candidates, as synthetic sandbox evidence.

Truth: `fast` is correct and fastest; `x2` and `x10` are correct and 2× / 10× slower; `same`
is correct and as fast as `fast`; `wrong` fails an edge-case test; `crash` kills its process;
`hostile` is stopped by a limit.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence

import pytest

from codegen.ranking.ballots import JuryResult
from codegen.ranking.criteria import CRITERIA, Facts, RankContext
from codegen.ranking.decision import Pending, decide
from codegen.ranking.explain import failure_line
from codegen.ranking.jury_prompts import Aspect
from codegen.ranking.report import CandidateReport
from codegen.ranking.rule import CandidateEvidence, ordering, rank, samples_of
from sandbox.models import BenchmarkStats, CallOutcome, RunResult, TestOutcome, Verdict
from sandbox.models import TestStatus as Status

ROUNDS = 9


def machine(seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [2e-3 * (1 + rng.expovariate(5)) for _ in range(ROUNDS)]


def timed(base: list[float], factor: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [b * factor * (1 + 0.06 * (2 * rng.random() - 1)) for b in base]


def passed(memory: float = 11.0) -> RunResult:
    tests = [TestOutcome(name=f"test_{i}", status=Status.PASSED) for i in range(4)]
    return RunResult(verdict=Verdict.PASSED, tests=tests, peak_memory_mb=memory)


def failed() -> RunResult:
    tests = [
        TestOutcome(name="test_examples", status=Status.PASSED),
        TestOutcome(
            name="test_self_pair",
            status=Status.FAILED,
            message="assert [0, 0] == [1, 2]\n  At index 0 diff",
        ),
    ]
    return RunResult(verdict=Verdict.FAILED, tests=tests, message="1 of 2 tests failed")


def truth(seed: int = 0, with_same: bool = False) -> list[CandidateEvidence]:
    base = machine(seed)
    evidence = [
        CandidateEvidence(id="x10.py", run=passed(), timing_samples=timed(base, 10, seed + 1)),
        CandidateEvidence(id="wrong.py", run=failed(), timing_samples=timed(base, 0.5, seed)),
        CandidateEvidence(id="fast.py", run=passed(), timing_samples=timed(base, 1, seed + 2)),
        CandidateEvidence(
            id="crash.py",
            run=RunResult(verdict=Verdict.CRASHED, message="candidate process died (exit 3)"),
        ),
        CandidateEvidence(id="x2.py", run=passed(), timing_samples=timed(base, 2, seed + 3)),
        CandidateEvidence(
            id="hostile.py",
            run=RunResult(verdict=Verdict.MEMORY_LIMIT, message="exceeded 384 MB"),
        ),
    ]
    if with_same:
        same = timed(base, 1, seed + 4)
        evidence.append(CandidateEvidence(id="same.py", run=passed(), timing_samples=same))
    return evidence


def jury_for(points: dict[str, float], complexity: dict[str, str] | None = None) -> JuryResult:
    from codegen.ranking.ballots import Ballot

    ballots = [
        Ballot(
            judge="judge",
            aspect=Aspect.EFFICIENCY,
            shown_order=list(points),
            scores={c: 5 for c in points},
            complexity=complexity or {},
        )
    ]
    return JuryResult(
        candidates=list(points),
        ballots=ballots,
        failures=[],
        aspect_points={Aspect.EFFICIENCY: points},
        points=points,
        agreement={Aspect.EFFICIENCY: None},
    )


@pytest.mark.parametrize("seed", range(10))
def test_known_truth_pass_set_winner_and_order(seed: int) -> None:
    report = rank(truth(seed))
    assert report.winner == "fast.py" and report.tied_winners == []
    assert {c.id for c in report.candidates if c.passed} == {"fast.py", "x2.py", "x10.py"}
    assert [(c.id, c.rank) for c in report.candidates] == [
        ("fast.py", 1),
        ("x2.py", 2),
        ("x10.py", 3),
        ("wrong.py", None),
        ("crash.py", None),
        ("hostile.py", None),
    ]
    assert not any(c.tied for c in report.candidates)


def test_explanations_are_one_line_each() -> None:
    report = rank(truth())
    lines = {c.id: c.explanation for c in report.candidates}
    assert re.fullmatch(r"rank 1: correct, fastest \([\d.]+ ms median CPU\)", lines["fast.py"])
    assert re.fullmatch(
        r"rank 2: correct, [12]\.\d× slower than #1 \(CI [12]\.\d–2\.\d\)", lines["x2.py"]
    )
    assert re.fullmatch(r"rank 3: correct, \d+\.\d× slower than #1 \(CI .*\)", lines["x10.py"])
    assert lines["wrong.py"] == "not ranked: failed — 1 of 2 tests failed"
    wrong = report.candidate("wrong.py")
    assert "failed test_self_pair: assert [0, 0] == [1, 2] At index 0 diff" in wrong.reasons
    silent = failed().model_copy(update={"message": ""})
    bare = rank([CandidateEvidence(id="w.py", run=silent)]).candidates[0]
    assert bare.explanation == "not ranked: failed — test_self_pair: assert [0, 0] == [1, 2]"
    assert lines["crash.py"] == "not ranked: crashed — candidate process died (exit 3)"
    assert lines["hostile.py"].startswith("not ranked: memory_limit")
    assert all("\n" not in line for line in lines.values())
    x2 = report.candidate("x2.py")
    assert x2.timing and x2.timing.ratio_low <= x2.timing.ratio <= x2.timing.ratio_high
    assert x2.reasons[0] == "tests: 4/4 passed" and x2.peak_memory_mb == 11.0


def test_json_has_the_contract_fields() -> None:
    data = json.loads(rank(truth()).model_dump_json())
    assert data["winner"] == "fast.py"
    for candidate in data["candidates"]:
        assert {"id", "passed", "rank", "verdict", "timing", "peak_memory_mb", "reasons"} <= set(
            candidate
        )
    assert data["candidates"][1]["timing"]["ratio_low"] > 1.5


def test_equal_speed_is_a_tie_not_a_coin_flip() -> None:
    evidence = truth(with_same=True)
    evidence[-1] = evidence[-1].model_copy(update={"source": "def f():\n    return 1\n"})
    evidence[2] = evidence[2].model_copy(update={"source": "def f():\n    x = 1\n    return x\n"})
    report = rank(evidence)
    fast, same = report.candidate("fast.py"), report.candidate("same.py")
    assert fast.rank == same.rank == 1 and fast.tied and same.tied
    assert fast.tied_with == ["same.py"] and same.tied_with == ["fast.py"]
    assert set(report.tied_winners) == {"fast.py", "same.py"}
    assert report.winner == "same.py"  # fewer source lines, the documented preference
    assert report.candidate("x2.py").rank == 3  # competition ranking: 1, 1, 3
    assert "within noise" in (same.explanation + fast.explanation)
    assert "tied with" in fast.explanation


def test_identical_programs_tie_in_every_field_the_report_shows() -> None:
    """The same program measured twice (the same samples): every field of `codegen rank --json`
    says tie, the shorter source wins it. On the real machine a tie of identical code is a
    measurement, under noise: benchmarks/test_bench_ranking.py counts it, by the CLI too."""
    evidence = truth(with_same=True)
    fast = next(e for e in evidence if e.id == "fast.py")
    evidence[-1] = evidence[-1].model_copy(
        update={"timing_samples": list(fast.timing_samples or []),
                "source": "def f():\n    x = 1\n    return x\n"}
    )  # fmt: skip
    evidence[2] = fast.model_copy(update={"source": "def f():\n    return 1\n"})
    data = json.loads(rank(evidence).model_dump_json())
    by_id = {c["id"]: c for c in data["candidates"]}
    assert data["winner"] == "fast.py" and data["tied_winners"] == ["fast.py", "same.py"]
    assert by_id["fast.py"]["tied"] and by_id["fast.py"]["tied_with"] == ["same.py"]
    assert by_id["same.py"]["tied"] and by_id["same.py"]["tied_with"] == ["fast.py"]
    assert by_id["fast.py"]["rank"] == by_id["same.py"]["rank"] == 1
    assert by_id["fast.py"]["timing"]["tied_with_fastest"]
    assert by_id["same.py"]["timing"]["tied_with_fastest"]
    assert by_id["fast.py"]["explanation"].startswith("rank 1 (tied with same.py)")


def test_jury_breaks_a_tie_and_explains() -> None:
    points = {"fast.py": 2.0, "same.py": 5.0, "x2.py": 1.0, "x10.py": 0.0}
    report = rank(truth(with_same=True), jury=jury_for(points, {"x10.py": "O(n²)"}))
    assert report.winner == "same.py" and report.tied_winners == []
    assert report.candidate("fast.py").rank == 2
    assert "jury prefers same.py" in report.candidate("fast.py").explanation
    assert report.candidate("x10.py").explanation.endswith("O(n²) per jury")


def test_jury_never_overrides_measurement_or_correctness() -> None:
    points = {"x10.py": 9.0, "x2.py": 6.0, "fast.py": 0.0, "wrong.py": 9.0}
    report = rank(truth(), jury=jury_for(points))
    assert [c.id for c in report.candidates if c.passed] == ["fast.py", "x2.py", "x10.py"]
    assert report.candidate("wrong.py").rank is None


def test_weak_tests_demote_the_minority_behaviour() -> None:
    inputs = [([1, 2],), ([-3],), ([],)]
    right = [CallOutcome(ok=True, value=v) for v in (5, 9, 0)]
    wrong = [CallOutcome(ok=True, value=v) for v in (5, 0, 0)]
    base = machine()
    evidence = [
        CandidateEvidence(id="skips.py", run=passed(), outputs=wrong, timing_samples=base),
        CandidateEvidence(
            id="gen.py", run=passed(), outputs=right, timing_samples=timed(base, 3, 1)
        ),
        CandidateEvidence(
            id="loop.py", run=passed(), outputs=right, timing_samples=timed(base, 6, 2)
        ),
    ]
    report = rank(evidence, weak_tests=True, inputs=inputs, entry_point="sum_squares")
    assert report.winner == "gen.py"
    skips = report.candidate("skips.py")
    assert skips.demoted and skips.rank == 3 and skips.passed
    assert skips.disagreement and skips.disagreement.call == "sum_squares([-3])"
    assert "on sum_squares([-3]) returns 0, the best-supported returns 9" in skips.explanation
    assert [f.call for f in report.findings] == ["sum_squares([-3])"]
    strong = rank(evidence, weak_tests=False, inputs=inputs, entry_point="sum_squares")
    assert strong.winner == "skips.py" and not strong.candidate("skips.py").demoted
    assert len(strong.findings) == 1  # still reported


def test_memory_decides_only_beyond_its_noise() -> None:
    base = machine()
    evidence = [
        CandidateEvidence(id="hungry.py", run=passed(90.0), timing_samples=timed(base, 1, 1)),
        CandidateEvidence(id="lean.py", run=passed(12.0), timing_samples=timed(base, 1, 2)),
        CandidateEvidence(id="close.py", run=passed(14.0), timing_samples=timed(base, 1, 3)),
    ]
    report = rank(evidence)
    assert report.candidate("lean.py").rank == report.candidate("close.py").rank == 1
    hungry = report.candidate("hungry.py")
    assert hungry.rank == 3 and "more memory (90.0 MB vs 12.0 MB)" in hungry.explanation


def test_benchmark_samples_and_untimed_candidates() -> None:
    def bench(factor: float) -> RunResult:
        stats = [
            BenchmarkStats(
                test=f"test_big_{i}",
                rounds=5,
                min=0,
                max=0,
                mean=0,
                median=0,
                stddev=0,
                iqr=0,
                samples=[factor * (i + 1) * 1e-3 * (1 + r / 50) for r in range(5)],
            )
            for i in range(2)
        ]
        return passed().model_copy(update={"benchmarks": stats})

    evidence = [
        CandidateEvidence(id="untimed.py", run=passed()),
        CandidateEvidence(id="slow.py", run=bench(4)),
        CandidateEvidence(id="quick.py", run=bench(1)),
    ]
    assert samples_of(evidence[2]) == pytest.approx([3e-3 * (1 + r / 50) for r in range(5)])
    report = rank(evidence)
    assert [(c.id, c.rank) for c in report.candidates] == [
        ("quick.py", 1),
        ("slow.py", 2),
        ("untimed.py", 3),
    ]
    assert report.candidate("untimed.py").explanation == "rank 3: correct, not timed"


def test_nothing_passes() -> None:
    report = rank([e for e in truth() if not e.run.passed])
    assert report.winner is None and all(c.rank is None for c in report.candidates)


def test_rank_is_deterministic_and_ids_unique() -> None:
    assert rank(truth(3)) == rank(truth(3))
    shuffled = list(reversed(truth(3)))
    assert [c.id for c in rank(shuffled).candidates if c.passed] == ["fast.py", "x2.py", "x10.py"]
    with pytest.raises(ValueError, match="unique"):
        rank(truth() + truth())


def test_a_partial_jury_does_not_break_ties() -> None:
    report = rank(truth(with_same=True), jury=jury_for({"same.py": 5.0}))
    assert report.candidate("fast.py").rank == report.candidate("same.py").rank == 1
    data = json.loads(report.model_dump_json())
    assert data["jury"]["aspect_points"]["efficiency"] == {"same.py": 5.0}


# -- speed is only compared between candidates that gave the same timed answers ------------


def answers(*values: object) -> list[CallOutcome]:
    return [CallOutcome(ok=True, value=v) for v in values]


def test_fast_at_the_wrong_answer_is_not_ranked_on_speed_even_with_strong_tests() -> None:
    base = machine(3)
    right, cheat = answers(4950, 1.0, [1, 2]), answers(0, 1.0, [1, 2])
    evidence = [
        CandidateEvidence(
            id="loop", run=passed(), timing_samples=timed(base, 3, 1), timed_outputs=right
        ),  # fmt: skip
        CandidateEvidence(
            id="builtin", run=passed(), timing_samples=timed(base, 1, 2), timed_outputs=right
        ),  # fmt: skip
        CandidateEvidence(
            id="cheat", run=passed(), timing_samples=timed(base, 0.05, 3), timed_outputs=cheat
        ),  # fmt: skip
    ]
    report = rank(evidence, weak_tests=False)
    assert report.winner == "builtin"
    cheat_report = report.candidate("cheat")
    assert cheat_report.timing is None and "differ from those of 2" in cheat_report.untimed_reason
    assert cheat_report.rank == 3 and "not ranked on speed" in cheat_report.explanation


def test_floats_that_agree_to_ten_digits_are_the_same_answer() -> None:
    base = machine(4)
    evidence = [
        CandidateEvidence(
            id="a", run=passed(), timing_samples=timed(base, 1, 1), timed_outputs=answers(0.1 + 0.2)
        ),  # fmt: skip
        CandidateEvidence(
            id="b", run=passed(), timing_samples=timed(base, 2, 2), timed_outputs=answers(0.3)
        ),  # fmt: skip
    ]
    report = rank(evidence)
    assert all(c.untimed_reason == "" and c.timing for c in report.candidates)


def test_an_even_split_ranks_nobody_on_speed() -> None:
    base = machine(5)
    evidence = [
        CandidateEvidence(
            id="a", run=passed(), timing_samples=timed(base, 1, 1), timed_outputs=answers(1)
        ),  # fmt: skip
        CandidateEvidence(
            id="b", run=passed(), timing_samples=timed(base, 9, 2), timed_outputs=answers(2)
        ),  # fmt: skip
    ]
    report = rank(evidence)
    assert [c.timing for c in report.candidates] == [None, None]
    assert report.tied_winners == ["a", "b"]


def test_benchmark_answers_come_from_the_tested_run() -> None:
    def with_benchmark(behaviour: str) -> RunResult:
        stats = BenchmarkStats(test="t::test_speed", rounds=3, min=1, max=1, mean=1, median=1,
                               stddev=0, iqr=0, samples=[1, 1, 1], behaviour=behaviour)  # fmt: skip
        return passed().model_copy(update={"benchmarks": [stats]})

    base = machine(6)
    evidence = [
        CandidateEvidence(id=cid, run=with_benchmark(b), timing_samples=timed(base, f, i))
        for i, (cid, b, f) in enumerate([("a", "x", 1), ("b", "x", 2), ("sly", "y", 0.1)])
    ]
    report = rank(evidence)
    assert report.winner == "a" and report.candidate("sly").untimed_reason


class Licensed(CandidateEvidence):
    """The new evidence: one field on the candidate's record."""

    licence_clean: bool = True


class CleanLicence:
    """The new criterion: one class. A candidate whose code copies a restrictive licence's
    text ranks below the clean ones, before speed."""

    name = "licence"

    def tiers(self, group: Sequence[str], facts: Facts) -> dict[str, float]:
        return {cid: 0 if _clean(facts.evidence[cid]) else 1 for cid in group}

    def describe(self, report: CandidateReport, ctx: RankContext) -> str | None:
        return None if ctx.tier(report.id, self.name) == 0 else "copies licensed code"


def _clean(evidence: CandidateEvidence) -> bool:
    return not isinstance(evidence, Licensed) or evidence.licence_clean


def test_a_new_criterion_needing_new_evidence_is_one_field_and_one_class() -> None:
    """Adding a criterion that needs evidence the rule never had: one field on the record and
    one class, passed in order; the ranking, the explanations and the early decision follow,
    and nothing in codegen.ranking changes."""
    base = machine(9)
    evidence = [
        Licensed(id="fast.py", run=passed(), timing_samples=timed(base, 1, 1), licence_clean=False),
        Licensed(id="slow.py", run=passed(), timing_samples=timed(base, 10, 2)),
    ]
    assert rank(evidence).winner == "fast.py"  # the default rule: speed decides
    rule = (CRITERIA[0], CleanLicence(), *CRITERIA[1:])
    found = ordering(evidence, criteria=rule)
    assert found.report.winner == "slow.py" and not found.report.tied_winners
    assert "copies licensed code" in found.report.candidate("fast.py").explanation
    assert "licensed" not in found.report.candidate("slow.py").explanation
    decided = decide(found, Pending(), "timing")
    assert decided is not None and decided.winner == "slow.py" and "licence" in decided.reason


DOCTEST_FAILURE = """**********************************************************************
File "problem", line 4, in f
Failed example:
    f([1, 2])
Expected:
    3
Got:
    4
"""
DOCTEST_RAISED = """**********************************************************************
File "problem", line 6, in f
Failed example:
    f("ab")
Exception raised:
    Traceback (most recent call last):
      File "/usr/lib/python3.11/doctest.py", line 1351, in __run
        exec(compile(example.source, filename, "single",
    KeyError: 'a'
"""


@pytest.mark.parametrize(
    ("message", "line"),
    [
        (DOCTEST_FAILURE, "test_doctest[line4]: Failed example: f([1, 2]) Expected: 3 Got: 4"),
        (DOCTEST_RAISED, "test_doctest[line4]: Failed example: f(\"ab\") Exception raised: "
                         "KeyError: 'a'"),
        ("assert 4 == 3\n +  where 4 = f([1, 2])", "test_doctest[line4]: assert 4 == 3"),
    ],
)  # fmt: skip
def test_a_failure_is_one_line_that_says_what_failed(message: str, line: str) -> None:
    run = RunResult(
        verdict=Verdict.FAILED,
        message="1 of 2 tests failed: tests/test_doctests.py::test_doctest[line4]: *****",
        tests=[
            TestOutcome(name="tests/test_doctests.py::test_doctest[line2]", status=Status.PASSED),
            TestOutcome(name="tests/test_doctests.py::test_doctest[line4]", status=Status.FAILED,
                        message=message),
        ],
    )  # fmt: skip
    assert failure_line(run) == line
