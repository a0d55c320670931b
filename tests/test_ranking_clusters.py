"""Behaviour clusters and findings, on synthetic sandbox outcomes."""

from __future__ import annotations

import pytest

from codegen.ranking.clusters import cluster_outcomes, describe
from sandbox.models import CallOutcome, Verdict


def ok(value: object) -> CallOutcome:
    return CallOutcome(ok=True, value=value)


def raises(error: str) -> CallOutcome:
    return CallOutcome(ok=False, error=error)


INPUTS = [([1, 2],), ([],), ([-3],), ([0, 5],)]
TRUTH = [ok(5), ok(0), ok(9), ok(25)]


def test_identical_behaviour_is_one_dominant_cluster() -> None:
    report = cluster_outcomes({"a": TRUTH, "b": list(TRUTH), "c": list(TRUTH)}, INPUTS)
    assert [c.members for c in report.clusters] == [["a", "b", "c"]]
    assert report.dominant == 0 and report.findings == []
    assert report.disagreement("a") is None


def test_wrong_on_an_edge_case_is_a_finding() -> None:
    wrong = [ok(5), ok(0), ok(0), ok(25)]  # ignores negatives
    report = cluster_outcomes(
        {"gen": TRUTH, "wrong": wrong, "loop": list(TRUTH)}, INPUTS, entry_point="sum_squares"
    )
    assert [c.members for c in report.clusters] == [["gen", "loop"], ["wrong"]]
    assert report.dominant == 0
    (finding,) = report.findings
    assert finding.input_index == 2 and finding.call == "sum_squares([-3])"
    assert {g.behaviour: g.members for g in finding.groups} == {
        "returns 9": ["gen", "loop"],
        "returns 0": ["wrong"],
    }
    assert report.disagreement("wrong") == finding
    assert report.disagreement("gen") is None
    assert report.cluster_of("wrong") == 1


def test_exceptions_compare_by_type_and_limits_are_behaviours() -> None:
    a = [raises("IndexError: list index out of range"), ok(1)]
    b = [raises("IndexError: other words"), ok(1)]
    c = [raises("KeyError: 3"), CallOutcome(ok=False, cause=Verdict.TIMEOUT)]
    d = [ok(0), ok(1)]  # accepts the first input: raising there is a behaviour again
    report = cluster_outcomes({"a": a, "b": b, "c": c, "d": d}, [(1,), (2,)], entry_point="f")
    assert [cl.members for cl in report.clusters] == [["a", "b"], ["c"], ["d"]]
    behaviours = [{g.behaviour for g in f.groups} for f in report.findings]
    assert behaviours == [
        {"raises IndexError", "raises KeyError", "returns 0"},
        {"returns 1", "timeout"},
    ]


def test_an_input_every_candidate_rejects_splits_nobody() -> None:
    """HumanEval/20 asks for at least two numbers; on ``[1.0]`` (a model-written test's input)
    its four passing candidates raised four different exceptions and the ranking was disputed.
    Rejecting an input outside the domain is one behaviour, whichever exception says it."""
    a = [raises("UnboundLocalError: x"), ok((2.0, 2.2))]
    b = [raises("IndexError: list index out of range"), ok((2.0, 2.2))]
    c = [raises("ValueError: at least two numbers"), ok((2.2, 2.0))]
    report = cluster_outcomes({"a": a, "b": b, "c": c}, [([1.0],), ([2.2, 2.0],)])
    assert [cl.members for cl in report.clusters] == [["a", "b"], ["c"]]
    assert [f.input_index for f in report.findings] == [1]  # the real difference only
    stuck = [CallOutcome(ok=False, cause=Verdict.TIMEOUT), ok(1)]
    mixed = cluster_outcomes({"a": [raises("ValueError: no"), ok(1)], "b": stuck}, [(0,), (1,)])
    assert len(mixed.clusters) == 2  # a limit is not a rejection: it stays a behaviour


def test_float_noise_is_not_a_disagreement_but_types_are() -> None:
    report = cluster_outcomes({"a": [ok(0.1 + 0.2)], "b": [ok(0.3)], "c": [ok(-0.0)]}, [(0,)])
    assert report.clusters[0].members == ["a", "b"]
    same = cluster_outcomes({"z": [ok(0.0)], "n": [ok(-0.0)]}, [(0,)])
    assert len(same.clusters) == 1
    typed = cluster_outcomes({"i": [ok(1)], "f": [ok(1.0)], "b": [ok(True)]}, [(0,)])
    assert len(typed.clusters) == 3
    nested = cluster_outcomes({"x": [ok({"k": [1, {2}]})], "y": [ok({"k": [1, {2}]})]}, [(0,)])
    assert len(nested.clusters) == 1


def test_an_even_split_has_no_dominant_cluster() -> None:
    report = cluster_outcomes(
        {"a": [ok(1)], "b": [ok(1)], "c": [ok(2)], "d": [ok(2)]}, [(0,)], entry_point="f"
    )
    assert report.dominant is None
    assert report.disagreement("c") is None
    assert len(report.findings) == 1


def test_outcome_count_must_match_inputs() -> None:
    with pytest.raises(ValueError, match="a: 1 outcomes for 2 inputs"):
        cluster_outcomes({"a": [ok(1)]}, [(0,), (1,)])


def test_describe_is_short() -> None:
    assert describe(ok(list(range(1000)))).endswith("…")
    assert len(describe(ok(list(range(1000))))) <= 90
    assert describe(CallOutcome(ok=False, cause=Verdict.MEMORY_LIMIT)) == "memory_limit"
