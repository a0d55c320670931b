"""Timing statistics: median and spread per candidate, ratio to the fastest with a confidence
interval, and ties. Pure and deterministic (no random numbers at all).

Method. Samples come from interleaved rounds (A B C, A B C, …), so sample *i* of every
candidate was taken under the same machine conditions. When two candidates have the same
number of samples they are compared **paired**: the ratio is the median over rounds of the
per-round ratio a_i / b_i, and its confidence interval comes from the sign test (order
statistics of the per-round log-ratios, exact binomial coverage). Otherwise they are compared
**unpaired**: the Hodges–Lehmann median of all pairwise log-ratios, with the Mann–Whitney
interval (normal approximation). Both are distribution-free, which matters because CPU-time
noise on a shared machine is skewed and heavy-tailed, and both need no seed. The reported
``confidence`` is the interval's achieved coverage: with few rounds it is below the requested
level (5 paired rounds can only give 93.75 %) and the interval is the full range of ratios.

Rounds are aligned across candidates timed in the same jobs: a candidate left out of a later
job (a second look only re-times the candidates still tied with the fastest) holds a prefix of
the others' rounds, so two candidates are compared, paired, on the rounds both ran.

Ties. A candidate is *tied* with a faster one unless the whole interval lies above the noise
floor (``low > noise_floor``): a difference the data cannot separate from noise is a tie, never
a coin flip. Tiers: candidates sorted by median; a tier is led by its fastest member and a
candidate joins it when it is tied with that leader.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel

DEFAULT_NOISE_FLOOR = 1.05  # differences under 5 % are not worth reporting on a shared machine
DEFAULT_LEVEL = 0.95
_TINY = 1e-9  # a CPU clock reading of 0 s becomes 1 ns, so that ratios stay finite


class RatioEstimate(BaseModel):
    """How many times slower ``a`` is than ``b`` (below 1: faster)."""

    ratio: float
    low: float
    high: float
    confidence: float
    method: Literal["paired", "unpaired", "identity"]


class TimingStats(BaseModel):
    id: str
    rounds: int
    median: float
    iqr: float
    ratio: float  # to the fastest candidate; 1.0 for the fastest itself
    ratio_low: float
    ratio_high: float
    confidence: float
    method: Literal["paired", "unpaired", "identity"]
    tier: int  # 1 = the fastest group; members of one tier are tied
    tied_with_fastest: bool


def median_iqr(samples: Sequence[float]) -> tuple[float, float]:
    if not samples:
        raise ValueError("no samples")
    if len(samples) == 1:
        return float(samples[0]), 0.0
    q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return statistics.median(samples), q3 - q1


def ratio_interval(
    a: Sequence[float], b: Sequence[float], level: float = DEFAULT_LEVEL
) -> RatioEstimate:
    """Ratio of ``a`` to ``b`` with a distribution-free interval (see the module docstring)."""
    if not a or not b:
        raise ValueError("both candidates need samples")
    if len(a) == len(b):
        diffs = sorted(_log(x) - _log(y) for x, y in zip(a, b, strict=True))
        low, high, coverage = _sign_test_interval(diffs, level)
        method: Literal["paired", "unpaired"] = "paired"
    else:
        diffs = sorted(_log(x) - _log(y) for x in a for y in b)
        low, high, coverage = _mann_whitney_interval(diffs, len(a), len(b), level)
        method = "unpaired"
    point = statistics.median(diffs)
    return RatioEstimate(
        ratio=math.exp(point),
        low=math.exp(low),
        high=math.exp(high),
        confidence=coverage,
        method=method,
    )


def is_tie(estimate: RatioEstimate, noise_floor: float = DEFAULT_NOISE_FLOOR) -> bool:
    """``a`` is only slower than ``b`` when the whole interval clears the noise floor."""
    return not estimate.low > noise_floor


def noise_floor_from(a: Sequence[float], b: Sequence[float]) -> float:
    """A measured noise floor from an A/A run (one candidate timed as two): the largest ratio
    the interval allows between identical code, never below 1."""
    estimate = ratio_interval(a, b)
    return max(1.0, estimate.high, 1.0 / estimate.low)


def compare_timings(
    samples: Mapping[str, Sequence[float]],
    noise_floor: float = DEFAULT_NOISE_FLOOR,
    level: float = DEFAULT_LEVEL,
) -> list[TimingStats]:
    """Statistics for every candidate with samples, fastest first; see the module docstring."""
    summaries = {cid: median_iqr(values) for cid, values in samples.items() if values}
    order = sorted(summaries, key=lambda cid: (summaries[cid][0], cid))
    if not order:
        return []
    fastest = order[0]
    tier, leader = 1, fastest
    results = []
    for cid in order:
        if cid != leader and not is_tie(
            ratio_interval(*_both_ran(samples[cid], samples[leader]), level), noise_floor
        ):
            tier, leader = tier + 1, cid
        if cid == fastest:
            versus = RatioEstimate(ratio=1.0, low=1.0, high=1.0, confidence=1.0, method="identity")
        else:
            versus = ratio_interval(*_both_ran(samples[cid], samples[fastest]), level)
        median, iqr = summaries[cid]
        results.append(
            TimingStats(
                id=cid,
                rounds=len(samples[cid]),
                median=median,
                iqr=iqr,
                ratio=versus.ratio,
                ratio_low=versus.low,
                ratio_high=versus.high,
                confidence=versus.confidence,
                method=versus.method,
                tier=tier,
                tied_with_fastest=tier == 1,
            )
        )
    return results


def _both_ran(a: Sequence[float], b: Sequence[float]) -> tuple[Sequence[float], Sequence[float]]:
    """The rounds two candidates both ran: the shorter one's, from the start (see the module
    docstring)."""
    n = min(len(a), len(b))
    return a[:n], b[:n]


def _log(seconds: float) -> float:
    return math.log(max(seconds, _TINY))


def sign_test_k(n: int, level: float = DEFAULT_LEVEL) -> int:
    """The paired interval of ``n`` rounds is ``[d_(k), d_(n-k+1)]``: the largest k whose
    binomial coverage reaches ``level`` (at least 1)."""
    k = 1
    while k + 1 <= (n + 1) // 2 and _sign_coverage(n, k + 1) >= level:
        k += 1
    return k


def _sign_test_interval(diffs: list[float], level: float) -> tuple[float, float, float]:
    """[d_(k), d_(n-k+1)] for the largest k whose binomial coverage reaches ``level``."""
    n = len(diffs)
    k = sign_test_k(n, level)
    return diffs[k - 1], diffs[n - k], _sign_coverage(n, k)


def _sign_coverage(n: int, k: int) -> float:
    """P(k <= B <= n-k) for B ~ Binomial(n, 1/2): the coverage of [d_(k), d_(n-k+1)]."""
    tail: float = sum(math.comb(n, i) for i in range(k)) / 2**n
    return max(0.0, 1.0 - 2.0 * tail)


def _mann_whitney_interval(
    diffs: list[float], m: int, n: int, level: float
) -> tuple[float, float, float]:
    total = m * n
    sd = math.sqrt(m * n * (m + n + 1) / 12)
    z = statistics.NormalDist().inv_cdf((1 + level) / 2)
    k = max(1, math.floor(total / 2 - z * sd))
    k = min(k, (total + 1) // 2)
    coverage = 1 - 2 * statistics.NormalDist().cdf((k - 0.5 - total / 2) / sd)
    return diffs[k - 1], diffs[total - k], max(0.0, coverage)
