"""Timing statistics: intervals, ties and tiers. Property tests for the invariants."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.ranking.statistics import (
    compare_timings,
    is_tie,
    median_iqr,
    noise_floor_from,
    ratio_interval,
)

times = st.floats(1e-6, 10.0, allow_nan=False)
sample_sets = st.lists(times, min_size=1, max_size=25)


def noisy(base: list[float], factor: float, noise: float, seed: int) -> list[float]:
    """`base` scaled by `factor`, each round disturbed by up to ±noise (multiplicative)."""
    rng = random.Random(seed)
    return [b * factor * (1 + noise * (2 * rng.random() - 1)) for b in base]


def rounds(n: int, seed: int = 0) -> list[float]:
    """Per-round machine conditions: a 1 ms workload with heavy-tailed slow rounds."""
    rng = random.Random(seed)
    return [1e-3 * (1 + rng.expovariate(4)) for _ in range(n)]


@given(sample_sets)
def test_identical_samples_are_always_a_tie(samples: list[float]) -> None:
    stats = compare_timings({"a": samples, "b": list(samples)})
    assert [s.tier for s in stats] == [1, 1]
    assert all(s.tied_with_fastest for s in stats)


@given(st.lists(st.floats(1e-3, 2e-3), min_size=1, max_size=20), st.data())
def test_a_tenfold_separated_pair_is_never_a_tie(fast: list[float], data: st.DataObject) -> None:
    slow = [data.draw(st.floats(20 * f, 40 * f)) for f in fast]  # ≥ 10× even across rounds
    stats = {s.id: s for s in compare_timings({"fast": fast, "slow": slow})}
    assert stats["fast"].tier == 1 and stats["slow"].tier == 2
    assert stats["slow"].ratio_low > 10


@given(sample_sets, sample_sets)
def test_interval_contains_the_point_estimate(a: list[float], b: list[float]) -> None:
    estimate = ratio_interval(a, b)
    assert estimate.low <= estimate.ratio * (1 + 1e-9)
    assert estimate.ratio <= estimate.high * (1 + 1e-9)
    assert 0 <= estimate.confidence <= 1
    assert estimate.method == ("paired" if len(a) == len(b) else "unpaired")


@given(sample_sets, st.floats(0.01, 100))
def test_ratio_is_scale_free(samples: list[float], scale: float) -> None:
    a = ratio_interval([s * 3 for s in samples], samples)
    b = ratio_interval([s * 3 * scale for s in samples], [s * scale for s in samples])
    assert math.isclose(a.ratio, b.ratio, rel_tol=1e-6) and math.isclose(a.ratio, 3, rel_tol=1e-6)


@settings(max_examples=30)
@given(st.dictionaries(st.sampled_from("abcdef"), sample_sets, min_size=1))
def test_deterministic_and_order_independent(samples: dict[str, list[float]]) -> None:
    forward = compare_timings(samples)
    backward = compare_timings(dict(reversed(list(samples.items()))))
    assert forward == backward == compare_timings(samples)
    assert forward[0].ratio == 1.0 and forward[0].tier == 1
    assert [s.tier for s in forward] == sorted(s.tier for s in forward)


@pytest.mark.parametrize("seed", range(20))
def test_known_truth_under_noise(seed: int) -> None:
    base = rounds(9, seed)
    samples = {
        "fast": noisy(base, 1.0, 0.08, seed),
        "same": noisy(base, 1.0, 0.08, seed + 100),
        "x1.3": noisy(base, 1.3, 0.08, seed + 200),
        "x2": noisy(base, 2.0, 0.08, seed + 300),
        "x10": noisy(base, 10.0, 0.08, seed + 400),
    }
    stats = {s.id: s for s in compare_timings(samples)}
    assert stats["fast"].tier == stats["same"].tier == 1  # within noise: a tie, not an order
    assert stats["x1.3"].tier == 2 and stats["x2"].tier == 3 and stats["x10"].tier == 4
    assert 1.7 < stats["x2"].ratio_low <= stats["x2"].ratio <= stats["x2"].ratio_high < 2.4
    assert stats["x10"].confidence > 0.95 and stats["x10"].method == "paired"


def test_coverage_of_the_sign_test_interval() -> None:
    five = ratio_interval([2, 2, 2, 2, 2.5], [1, 1, 1, 1, 1])
    assert five.confidence == pytest.approx(1 - 2 / 32)  # 5 rounds: the full range, 93.75 %
    assert (five.low, five.high) == (2, 2.5)
    nine = ratio_interval([float(i) for i in range(1, 10)], [1.0] * 9)
    assert nine.confidence == pytest.approx(1 - 2 * 10 / 512)  # k = 2 of 9
    assert (nine.low, nine.high) == pytest.approx((2, 8))
    assert ratio_interval([1.0], [2.0]).confidence == 0.0  # one round proves nothing


def test_unpaired_interval() -> None:
    estimate = ratio_interval([2.0, 2.1, 1.9, 2.05], [1.0, 1.02, 0.98])
    assert estimate.method == "unpaired"
    assert 1.8 < estimate.low <= estimate.ratio <= estimate.high < 2.2


def test_tie_rule_and_noise_floor() -> None:
    inside = ratio_interval([1.03, 1.04, 1.03, 1.04, 1.03, 1.04], [1.0] * 6)
    assert inside.low > 1 and is_tie(inside)  # a real but tiny difference is inside the floor
    assert not is_tie(inside, noise_floor=1.01)
    floor = noise_floor_from([1.0, 1.1, 0.95, 1.02], [1.05, 1.0, 1.0, 0.97])
    assert 1.0 <= floor < 1.2


def test_median_iqr() -> None:
    assert median_iqr([3.0]) == (3.0, 0.0)
    assert median_iqr([1.0, 2.0, 3.0, 4.0, 5.0]) == (3.0, 2.0)
    with pytest.raises(ValueError):
        median_iqr([])


def test_zero_samples_stay_finite() -> None:
    stats = compare_timings({"a": [0.0, 0.0], "b": [1e-3, 1e-3]})
    assert all(math.isfinite(s.ratio) for s in stats)
