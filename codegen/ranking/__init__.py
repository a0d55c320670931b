"""Ranking: pick the most efficient genuinely-correct candidate, and say why.

Pure modules (no I/O): ``inputs`` (what to draw; the drawing runs in the sandbox: ``drawing``),
``perturb`` (perturbed copies of a benchmark's inputs), ``clusters`` (behaviour
clusters and findings), ``statistics`` (timing ratios, intervals, ties), ``growth`` (inputs of
size n, the exponent of CPU time against n), ``votes`` (Borda, Kendall's W), ``rule`` (the final
ranking), ``explain``, ``report``. The one I/O module is ``jury`` (LLM judges through litellm).

Wiring (what ``codegen rank`` does; the sandbox calls are the caller's)::

    problem = load_problem(folder)
    runs = {c: sandbox(problem.sandbox_test_files(), source) for c, source in candidates}
    inputs = (await draw(problem, sandbox)).args    # drawn in the sandbox; call every passing
    workload = None if problem.has_benchmark_tests else (await timing_pool(problem, sandbox)).args
    timing = sandbox.time(TimingJob(...))  # samples_from_benchmarks(timing.timings[c]) each
    growth = measure_growth(...)  # codegen.evaluation.growth: scaled_input, then fit_growth
    jury = judge_candidates({c: src for passing c}, judges, task=problem.prompt)  # optional
    report = rank(
        [CandidateEvidence(id=c, source=..., run=runs[c], outputs=..., timing_samples=...,
                           growth=growth[c])],
        weak_tests=problem.weak_tests, inputs=inputs, entry_point=problem.entry_point, jury=jury,
    )
    print(report.model_dump_json())
"""

from typing import TYPE_CHECKING

from codegen.lazy import lazy_getattr
from codegen.ranking.ballots import JudgeSpec, JuryResult
from codegen.ranking.clusters import ClusterReport, Finding, cluster_outcomes
from codegen.ranking.consensus import Consensus, GeneratedTest
from codegen.ranking.growth import Growth, faster_growth, fit_growth, scaled_input
from codegen.ranking.jury_prompts import Aspect
from codegen.ranking.report import CandidateReport, RankingReport
from codegen.ranking.rule import CandidateEvidence, rank, samples_from_benchmarks, samples_of
from codegen.ranking.statistics import (
    DEFAULT_NOISE_FLOOR,
    TimingStats,
    compare_timings,
    noise_floor_from,
)

if TYPE_CHECKING:
    from codegen.ranking.inputs import InputSet, draw, draw_here, timing_here, timing_pool
    from codegen.ranking.jury import judge_candidates, run_jury

# Drawing inputs needs hypothesis, the jury asyncio and litellm's client: loaded when first
# asked for, so that reading a ranking does not pay for them.
_LAZY = {
    "InputSet": "inputs", "draw": "inputs", "timing_pool": "inputs",
    "draw_here": "inputs", "timing_here": "inputs",
    "judge_candidates": "jury", "run_jury": "jury",
}  # fmt: skip


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = [
    "DEFAULT_NOISE_FLOOR",
    "Aspect",
    "CandidateEvidence",
    "CandidateReport",
    "ClusterReport",
    "Consensus",
    "Finding",
    "GeneratedTest",
    "Growth",
    "InputSet",
    "JudgeSpec",
    "JuryResult",
    "RankingReport",
    "TimingStats",
    "cluster_outcomes",
    "compare_timings",
    "draw",
    "draw_here",
    "faster_growth",
    "fit_growth",
    "judge_candidates",
    "noise_floor_from",
    "rank",
    "run_jury",
    "samples_from_benchmarks",
    "samples_of",
    "scaled_input",
    "timing_here",
    "timing_pool",
]
