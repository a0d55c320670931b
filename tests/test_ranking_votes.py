"""Borda aggregation and Kendall's W."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codegen.ranking.votes import average_ranks, borda_points, kendall_w, mean_borda

IDS = ["a", "b", "c"]


def test_borda_with_ties() -> None:
    assert borda_points({"a": 9, "b": 5, "c": 5}) == {"a": 2.0, "b": 0.5, "c": 0.5}


@given(st.lists(st.fixed_dictionaries({c: st.integers(1, 10) for c in IDS}), max_size=6))
def test_every_ballot_hands_out_the_same_points(ballots: list[dict[str, int]]) -> None:
    points = mean_borda(ballots, IDS)
    assert sum(points.values()) == pytest.approx(3.0 if ballots else 0.0)
    assert all(0 <= p <= 2 for p in points.values())


def test_scale_does_not_matter() -> None:
    harsh, generous = {"a": 3, "b": 2, "c": 1}, {"a": 10, "b": 9, "c": 8}
    assert borda_points(harsh) == borda_points(generous)


def test_average_ranks() -> None:
    assert average_ranks({"a": 9, "b": 5, "c": 5}) == {"a": 1.0, "b": 2.5, "c": 2.5}


def test_kendall_w() -> None:
    same = [{"a": 9, "b": 5, "c": 1}, {"a": 8, "b": 6, "c": 2}]
    assert kendall_w(same, IDS) == pytest.approx(1.0)
    opposite = [{"a": 2, "b": 1}, {"a": 1, "b": 2}]
    assert kendall_w(opposite, ["a", "b"]) == pytest.approx(0.0)
    assert kendall_w(same[:1], IDS) is None  # one judge
    assert kendall_w([{"a": 5, "b": 5}, {"a": 5, "b": 5}], ["a", "b"]) is None  # all tied
    partial = [{"a": 9, "b": 5, "c": 1}, {"a": 9, "b": 1, "c": 5}]
    assert 0 < kendall_w(partial, IDS) < 1
