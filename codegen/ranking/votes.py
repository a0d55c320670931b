"""Aggregating judges' scores: Borda points and Kendall's W. Pure functions.

Rule. Each ballot (one judge on one aspect) gives every candidate a 1–10 score. Within a
ballot a candidate earns one Borda point per candidate it beats and half a point per tie, so
a ballot of n candidates hands out n(n-1)/2 points whatever scale the judge used: a harsh
judge and a generous one weigh the same. A candidate's aspect points are its mean over that
aspect's ballots (failed judges are simply absent), in [0, n-1].

Agreement. Kendall's W (coefficient of concordance, with the tie correction) over the ballots
of one aspect: 1 = all judges order the candidates alike, 0 = no agreement. It needs two
judges and two candidates; otherwise it is None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def borda_points(scores: Mapping[str, float]) -> dict[str, float]:
    return {
        c: sum(
            1.0 if s > other else 0.5 if s == other else 0.0
            for d, other in scores.items()
            if d != c
        )
        for c, s in scores.items()
    }


def mean_borda(
    ballots: Sequence[Mapping[str, float]], candidates: Sequence[str]
) -> dict[str, float]:
    """Mean Borda points per candidate over the ballots (0.0 for all when there are none)."""
    totals = dict.fromkeys(candidates, 0.0)
    for ballot in ballots:
        for c, points in borda_points(ballot).items():
            totals[c] += points
    count = len(ballots)
    return {c: (total / count if count else 0.0) for c, total in totals.items()}


def average_ranks(scores: Mapping[str, float]) -> dict[str, float]:
    """Rank 1 = highest score; tied candidates share the mean of their ranks."""
    ordered = sorted(scores, key=lambda c: -scores[c])
    ranks: dict[str, float] = {}
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and scores[ordered[j + 1]] == scores[ordered[i]]:
            j += 1
        for c in ordered[i : j + 1]:
            ranks[c] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def kendall_w(ballots: Sequence[Mapping[str, float]], candidates: Sequence[str]) -> float | None:
    m, n = len(ballots), len(candidates)
    if m < 2 or n < 2:
        return None
    rankings = [average_ranks({c: ballot[c] for c in candidates}) for ballot in ballots]
    sums = [sum(r[c] for r in rankings) for c in candidates]
    mean = m * (n + 1) / 2
    s = sum((total - mean) ** 2 for total in sums)
    ties = 0.0
    for ballot in ballots:
        counts: dict[float, int] = {}
        for c in candidates:
            counts[ballot[c]] = counts.get(ballot[c], 0) + 1
        ties += sum(t**3 - t for t in counts.values())
    denominator = m**2 * (n**3 - n) - m * ties
    if denominator <= 0:
        return None  # every judge tied every candidate: agreement is undefined
    return max(0.0, min(1.0, 12 * s / denominator))
