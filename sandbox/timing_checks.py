"""What a timing job holds each candidate to, shared by the backends that time: the answers it
gave when tested or screened (as digests per benchmark), and the time a round of it may take."""

from __future__ import annotations

from .harness.plaindata import combine
from .models import CallOutcome, Fault, Limits, RunResult, TimingJob, TimingResult, Verdict

INPUTS_BENCHMARK = "inputs"  # the benchmark's name when `inputs` are the workload
# A timing round may take this many times what the candidate cost when tested, plus the floor,
# and never more than a test may: sleeping or stalling when timed cannot hold the job up.
ROUND_BUDGET_FACTOR = 10.0
ROUND_BUDGET_FLOOR_S = 1.0
ROUND_OVERHEAD_S = 0.2  # clean-up, a fresh process and the host's share of one round


def expected_digests(job: TimingJob) -> dict[str, dict[str, str]]:
    """What each candidate must answer when timed, as digests per benchmark: what it answered
    when tested (benchmark tests), or on these very inputs when screened."""
    expected: dict[str, dict[str, str]] = {}
    for cid in job.candidates:
        if job.inputs:
            outcomes = job.screened.get(cid)
            if outcomes and len(outcomes) == len(job.inputs) and all(o.digest for o in outcomes):
                expected[cid] = {INPUTS_BENCHMARK: combine([o.digest for o in outcomes])}
        elif cid in job.tested:
            expected[cid] = {b.test: b.digest for b in job.tested[cid].benchmarks if b.digest}
    return expected


def round_budgets(job: TimingJob, limits: Limits) -> dict[str, float]:
    """Seconds one timing round of each candidate may take: a multiple of what it cost when
    tested and screened, at least the floor, at most a test's limit."""
    budgets = {}
    for cid in job.candidates:
        run: RunResult | None = job.tested.get(cid)
        screened: list[CallOutcome] | None = job.screened.get(cid)
        if run is None and screened is None:
            budgets[cid] = limits.test_seconds
            continue
        cost = 0.0
        if run is not None:
            cost = max((b.median for b in run.benchmarks), default=run.cpu_seconds)
        cost += sum(o.cpu_seconds for o in screened or [])
        budget = ROUND_BUDGET_FLOOR_S + ROUND_BUDGET_FACTOR * cost
        budgets[cid] = min(limits.test_seconds, budget)
    return budgets


def job_limits(limits: Limits, budgets: list[float], rounds: int, margin: float) -> Limits:
    """A wall-clock limit the job cannot reach while every round keeps to its budget."""
    needed = rounds * (sum(budgets) + ROUND_OVERHEAD_S * len(budgets)) + margin
    return limits.model_copy(update={"wall_seconds": max(limits.wall_seconds, needed)})


def check_against_expected(
    timing: TimingResult, expected: dict[str, dict[str, str]]
) -> TimingResult:
    """Drop the timings of a candidate whose timed answers are not what it answered when
    tested or screened (the harness checks each round; this checks the harness's report)."""
    for cid, stats_list in list(timing.timings.items()):
        for stats in stats_list:
            want = expected.get(cid, {}).get(stats.test)
            if not stats.digest or (want is not None and stats.digest != want):
                del timing.timings[cid]
                timing.errors[cid] = Fault(
                    verdict=Verdict.FAILED,
                    message=f"{stats.test}: returned a different value when timed than when tested",
                )
                break
    return timing
