"""Leaderboard metrics from a stored run. Pure: no I/O, no clock.

- pass@k with the unbiased estimator of Chen et al. (2021): ``1 - C(n-c, k) / C(n, k)`` per
  problem, averaged over problems (n samples of which c pass the hidden tests);
- the ensemble's pick accuracy (its pick passes the hidden tests) against each model's pass@1
  and against the oracle (any candidate of the problem passes);
- efficiency: a passing candidate's median CPU time over the canonical solution's, both timed
  in the same container and run (1.0 = as fast, 2.0 = twice as slow);
- median generation latency and total cost (the tester's requests count in the ensemble's);
- calibration of the pick's confidence: over the done problems with a pick, bins of confidence
  with their count, mean confidence and the share of picks that pass the hidden tests (a
  reliability diagram as a table), the Brier score (mean squared gap between the confidence
  and the 0/1 outcome) and the expected calibration error (the bins' gaps between accuracy and
  mean confidence, weighted by their share of the picks).

Only problems whose evaluation is done count; problems with infrastructure errors are counted
apart, never as failures.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence

from pydantic import BaseModel

from codegen.bench.records import ProblemRecord, ProblemStatus, RunData, SampleStatus

ENSEMBLE = "ensemble"
ORACLE = "oracle"
PASS_KS = (1, 2, 5, 10)
CONFIDENCE_EDGES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem: the chance that at least one of k samples drawn
    without replacement from n (c of them correct) is correct."""
    if not 0 <= c <= n or k < 1 or k > n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    # The product form avoids huge binomials: C(n-c, k)/C(n, k) = prod (1 - k/i), i=n-c+1..n.
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def mean_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float | None:
    """pass@k averaged over problems given as (n, c); None when some problem has n < k."""
    if not counts or any(n < k for n, _ in counts):
        return None
    return sum(pass_at_k(n, c, k) for n, c in counts) / len(counts)


def median(values: Iterable[float]) -> float | None:
    values = list(values)
    return statistics.median(values) if values else None


class ModelSummary(BaseModel):
    """One row of the leaderboard: a model, the ensemble or the oracle."""

    name: str
    problems: int
    samples: int = 0
    pass_at: dict[int, float] = {}
    pass1: float | None = None
    model_errors: int = 0
    infra_errors: int = 0
    median_latency_s: float | None = None
    cost_usd: float = 0.0
    tokens: int = 0
    efficiency: list[float] = []

    @property
    def median_efficiency(self) -> float | None:
        return median(self.efficiency)


class ReliabilityBin(BaseModel):
    """Picks whose confidence lies in [low, high) (the last bin includes 1.0)."""

    low: float
    high: float
    count: int = 0
    mean_confidence: float | None = None
    accuracy: float | None = None  # share of these picks that pass the hidden tests


class Reliability(BaseModel):
    """How well the pick's confidence predicts that the pick passes the hidden tests."""

    picks: int = 0
    bins: list[ReliabilityBin] = []
    brier: float | None = None
    ece: float | None = None


def _bin_index(confidence: float, edges: Sequence[float]) -> int:
    """Index of the bin [edges[i], edges[i+1]) holding ``confidence``; the last bin is closed
    and values outside the edges go to the nearest end bin."""
    for index in range(len(edges) - 2, -1, -1):
        if confidence >= edges[index]:
            return index
    return 0


def reliability_bins(
    pairs: Sequence[tuple[float, bool]], edges: Sequence[float] = CONFIDENCE_EDGES
) -> list[ReliabilityBin]:
    """(confidence, passed) pairs sorted into the bins between ``edges`` (every bin listed,
    empty ones with count 0)."""
    if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise ValueError(f"bin edges must increase: {edges}")
    groups: list[list[tuple[float, bool]]] = [[] for _ in edges[1:]]
    for confidence, passed in pairs:
        groups[_bin_index(confidence, edges)].append((confidence, passed))
    return [
        ReliabilityBin(
            low=low,
            high=high,
            count=len(group),
            mean_confidence=statistics.fmean(c for c, _ in group) if group else None,
            accuracy=sum(p for _, p in group) / len(group) if group else None,
        )
        for low, high, group in zip(edges, edges[1:], groups, strict=False)
    ]


def brier_score(pairs: Sequence[tuple[float, bool]]) -> float | None:
    """Mean of (confidence - outcome)², outcome 1 for a pick that passes; None without picks.
    0 is perfect; always answering 0.5 scores 0.25."""
    if not pairs:
        return None
    return statistics.fmean((c - float(p)) ** 2 for c, p in pairs)


def expected_calibration_error(
    pairs: Sequence[tuple[float, bool]], edges: Sequence[float] = CONFIDENCE_EDGES
) -> float | None:
    """Σ over bins of (bin count / picks) × |accuracy - mean confidence|; None without picks."""
    if not pairs:
        return None
    return sum(
        b.count / len(pairs) * abs((b.accuracy or 0.0) - (b.mean_confidence or 0.0))
        for b in reliability_bins(pairs, edges)
        if b.count
    )


def reliability(
    pairs: Sequence[tuple[float, bool]], edges: Sequence[float] = CONFIDENCE_EDGES
) -> Reliability:
    return Reliability(
        picks=len(pairs),
        bins=reliability_bins(pairs, edges),
        brier=brier_score(pairs),
        ece=expected_calibration_error(pairs, edges),
    )


def confidence_pairs(problems: Iterable[ProblemRecord]) -> list[tuple[float, bool]]:
    """(the pick's confidence, it passes the hidden tests) of every done problem with a pick
    and a stored confidence."""
    return [
        (p.confidence, bool(p.pick_passed))
        for p in problems
        if p.status is ProblemStatus.DONE and p.pick is not None and p.confidence is not None
    ]


class Leaderboard(BaseModel):
    run: str
    problems_total: int
    problems_done: int
    problems_infra: int
    problems_suite_error: int
    models: list[ModelSummary]
    ensemble: ModelSummary
    oracle: ModelSummary
    ensemble_minus_model: dict[str, float] = {}  # pick accuracy - the model's pass@1
    ensemble_gap_to_oracle: float | None = None
    total_cost_usd: float = 0.0
    tester_cost_usd: float = 0.0  # the tester's requests, in the ensemble's cost and the total
    reliability: Reliability = Reliability()


def summarize(run: RunData) -> Leaderboard:
    done = [p for p in run.problems if p.status is ProblemStatus.DONE]
    models = list(run.config.get("models") or _models_seen(run.problems))
    summaries = [_model_summary(model, done, run.problems) for model in models]
    ensemble = _ensemble_summary(done)
    tester_cost = sum(r.cost_usd for p in run.problems for r in p.tester)
    oracle = ModelSummary(
        name=ORACLE,
        problems=len(done),
        pass1=_fraction(any(p.sample_passed(s) for s in p.samples) for p in done),
    )
    gaps = {
        s.name: ensemble.pass1 - s.pass1
        for s in summaries
        if ensemble.pass1 is not None and s.pass1 is not None
    }
    return Leaderboard(
        run=run.name,
        problems_total=len(run.problems),
        problems_done=len(done),
        problems_infra=sum(p.status is ProblemStatus.INFRA_ERROR for p in run.problems),
        problems_suite_error=sum(p.status is ProblemStatus.SUITE_ERROR for p in run.problems),
        models=summaries,
        ensemble=ensemble,
        oracle=oracle,
        ensemble_minus_model=gaps,
        ensemble_gap_to_oracle=(
            oracle.pass1 - ensemble.pass1
            if oracle.pass1 is not None and ensemble.pass1 is not None
            else None
        ),
        total_cost_usd=sum(s.cost_usd for s in summaries) + tester_cost,
        tester_cost_usd=tester_cost,
        reliability=reliability(confidence_pairs(done)),
    )


def _models_seen(problems: Sequence[ProblemRecord]) -> list[str]:
    return sorted({s.model for p in problems for s in p.samples})


def _fraction(flags: Iterable[bool]) -> float | None:
    flags = list(flags)
    return sum(flags) / len(flags) if flags else None


def _model_summary(
    model: str, done: Sequence[ProblemRecord], every: Sequence[ProblemRecord]
) -> ModelSummary:
    counts: list[tuple[int, int]] = []
    latencies: list[float] = []
    efficiency: list[float] = []
    cost = 0.0
    tokens = model_errors = 0
    for problem in done:
        mine = [s for s in problem.samples if s.model == model]
        judged = [s for s in mine if s.status is not SampleStatus.INFRA_ERROR]
        if not judged:
            continue
        passed = [s for s in judged if problem.sample_passed(s)]
        counts.append((len(judged), len(passed)))
        model_errors += sum(s.status is SampleStatus.MODEL_ERROR for s in judged)
        for sample in passed:
            ratio = problem.candidates[sample.code_hash or ""].efficiency
            if ratio is not None:
                efficiency.append(ratio)
    for problem in every:  # what was spent counts even where the evaluation is not done
        for sample in problem.samples:
            if sample.model != model:
                continue
            cost += sample.cost_usd
            tokens += sample.prompt_tokens + sample.completion_tokens
            if sample.latency_s is not None and sample.status is not SampleStatus.INFRA_ERROR:
                latencies.append(sample.latency_s)
    infra = sum(
        s.status is SampleStatus.INFRA_ERROR for p in every for s in p.samples if s.model == model
    )
    pass_at = {k: v for k in PASS_KS if (v := mean_pass_at_k(counts, k)) is not None}
    return ModelSummary(
        name=model,
        problems=len(counts),
        samples=sum(n for n, _ in counts),
        pass_at=pass_at,
        pass1=pass_at.get(1),
        model_errors=model_errors,
        infra_errors=infra,
        median_latency_s=median(latencies),
        cost_usd=cost,
        tokens=tokens,
        efficiency=efficiency,
    )


def _ensemble_summary(done: Sequence[ProblemRecord]) -> ModelSummary:
    """The ensemble answers once per problem: its pick. Its latency is the fan-out's (the
    slowest reply of the problem), its cost the sum over every model."""
    efficiency = []
    for problem in done:
        pick = problem.candidates.get(problem.pick or "")
        if pick is not None and pick.passed and pick.efficiency is not None:
            efficiency.append(pick.efficiency)
    latencies = [
        max(s.latency_s for s in p.samples if s.latency_s is not None)
        for p in done
        if any(s.latency_s is not None for s in p.samples)
    ]
    accuracy = _fraction(bool(p.pick_passed) for p in done)
    return ModelSummary(
        name=ENSEMBLE,
        problems=len(done),
        samples=len(done),
        pass_at={1: accuracy} if accuracy is not None else {},
        pass1=accuracy,
        median_latency_s=median(latencies),
        cost_usd=sum(s.cost_usd for p in done for s in p.samples)
        + sum(r.cost_usd for p in done for r in p.tester),
        tokens=sum(s.prompt_tokens + s.completion_tokens for p in done for s in p.samples),
        efficiency=efficiency,
    )
