"""What `codegen solve` returns: every candidate with who wrote it, what it cost, how it ran and
where it ranked (printed as `--json`). Pure: also the judgements the flow makes about failing
candidates: which is closest to passing, what test output goes back to the models, and the
lines a user reads when none passes.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from codegen.evaluation import RankingRun
from codegen.evaluation.ledger import Round
from codegen.generation.types import Failure, Proposal
from codegen.problems.model import TestFile
from codegen.ranking.consensus import GeneratedTest
from codegen.ranking.growth import Growth
from codegen.ranking.report import TimingSummary
from codegen.solve.failures import failure_line
from codegen.solve.optimisation import OptimiseReport
from sandbox import RunResult, TestStatus, Verdict

SHOWN = 10  # failing candidates listed when none passes

# How far from passing each verdict is, for "closest candidates": a failed assertion is nearer
# than code that errors, which is nearer than code that never finishes or dies.
_DISTANCE = {
    Verdict.PASSED: 0,
    Verdict.FAILED: 1,
    Verdict.ERROR: 2,
    Verdict.OUTPUT_LIMIT: 3,
    Verdict.MEMORY_LIMIT: 4,
    Verdict.TIMEOUT: 5,
    Verdict.CRASHED: 6,
}


class CandidateSummary(BaseModel):
    """One distinct program: its authors (first proposer as `model`/`persona`), cost, run, rank."""

    id: str
    round: Round = "initial"
    repair_of: str | None = Field(None, description="the failing candidate it was repaired from")
    model: str
    persona: str
    proposers: list[Proposal]
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_s: float = Field(description="the first proposer's request latency")
    verdict: Verdict
    tests_passed: int = 0
    tests_total: int = 0
    message: str = ""
    first_failure: str = Field("", description="when not passing: its first failing assertion")
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    peak_memory_mb: float = 0.0
    timing: TimingSummary | None = None
    growth: Growth | None = Field(None, description="CPU time against input size: ≈ n^k")
    rank: int | None = None
    tied: bool = False
    explanation: str = ""
    code: str


class Totals(BaseModel):
    requests: int  # generation requests, the repair round's included
    tester_requests: int = 0
    candidates: int
    passing: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


class SolveReport(BaseModel):
    """The whole run; `solved` is False when no candidate passes (the CLI then exits 1) or
    when the passing ones are ``disputed`` (exit 4)."""

    problem: str
    entry_point: str
    origin: str
    solved: bool
    winner: str | None
    code: str | None = Field(None, description="the winner's source")
    checked_as: str | None = Field(
        None, description="the file name the code was checked under: it imports and passes"
    )
    hidden_tests: Verdict | None = Field(None, description="the winner on the hidden tests")
    repair_round: bool = False
    disputed: bool = Field(
        False, description="passing candidates disagree and none has more support: no winner"
    )
    dispute: str = Field("", description="where they disagree; how the run tried to settle it")
    candidates: list[CandidateSummary] = Field(
        description="ranked candidates first, then the others from closest to passing"
    )
    closest: list[str] = Field(default_factory=list, description="when unsolved: nearest ids")
    generation_failures: list[Failure] = Field(default_factory=list)
    roster: list[str] = Field(default_factory=list)
    judges: list[str] = Field(default_factory=list)
    totals: Totals
    phases_s: dict[str, float] = Field(default_factory=dict)
    ranking: RankingRun | None = None
    confidence: float | None = Field(
        None, description="how likely the winner is right, 0-1 (docs/confidence.md)"
    )
    evidence: str = Field("", description="what stands behind the winner, in words")
    written_tests: list[GeneratedTest] = Field(
        default_factory=list, description="the model-written test cases (soft evidence)"
    )
    optimisation: OptimiseReport | None = Field(
        None, description="with --optimise: the chain of faster versions; `code` is the last"
    )
    notes: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    def candidate(self, candidate_id: str) -> CandidateSummary:
        return next(c for c in self.candidates if c.id == candidate_id)


def tests_passed(run: RunResult) -> tuple[int, int]:
    return sum(t.status is TestStatus.PASSED for t in run.tests), len(run.tests)


def closeness(run: RunResult) -> tuple[float, int]:
    """Sort key, nearest to passing first: share of tests passed, then the kind of failure."""
    passed, total = tests_passed(run)
    return (-(passed / total) if total else 0.0, _DISTANCE.get(run.verdict, 9))


def feedback_text(run: RunResult, limit: int, tests: Sequence[TestFile] = ()) -> str:
    """The test output a model sees in the repair round: the verdict, each failing test (its
    assertion as written, what the code gave, then pytest's message), then the candidate's
    stderr; cut to `limit` characters."""
    passed, total = tests_passed(run)
    lines = [f"verdict: {run.verdict.value} ({passed} of {total} tests passed)"]
    if run.message:
        lines.append(run.message.strip())
    for test in run.tests:
        if test.status is not TestStatus.PASSED:
            lines.append(f"{test.status.value.upper()} {failure_line(test, tests)}\n"
                         f"{test.message.strip()}")  # fmt: skip
    if run.stderr.strip():
        lines.append("stderr:\n" + run.stderr.strip()[-500:])
    text = "\n\n".join(lines)
    return text if len(text) <= limit else text[: limit - 20] + "\n… (cut)"


def unsolved_lines(report: SolveReport) -> list[str]:
    """Each failing candidate once, closest first: who wrote it, tests passed, first failure."""
    failing = [c for c in report.candidates if c.rank is None]
    lines = [
        f"{c.id} {c.model.removeprefix('openai/')}[{c.persona}] "
        f"{c.tests_passed}/{c.tests_total}: {c.first_failure or c.verdict}"
        for c in failing[:SHOWN]
    ]
    if len(failing) > SHOWN:
        lines.append(f"… and {len(failing) - SHOWN} more (--json has them all)")
    return lines
