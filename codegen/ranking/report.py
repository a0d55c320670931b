"""What the ranking returns: plain pydantic data, printed as ``--json`` and stored as is."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from codegen.ranking.ballots import JuryResult
from codegen.ranking.clusters import ClusterReport, Finding
from codegen.ranking.confidence import Evidence
from codegen.ranking.consensus import Consensus
from codegen.ranking.growth import Growth
from sandbox.models import Verdict

Stage = Literal["tests", "timing", "growth", "all evidence"]


class Decision(BaseModel):
    """The winner (None: no winner) and the evidence it was decided after
    (:mod:`codegen.ranking.decision`); what came after only enriched the report."""

    winner: str | None
    after: Stage
    reason: str
    seconds: float | None = None  # from the start of the ranking


class TimingSummary(BaseModel):
    """CPU seconds per round; ratio to the fastest passing candidate with its interval."""

    rounds: int
    median_s: float
    iqr_s: float
    ratio: float
    ratio_low: float
    ratio_high: float
    confidence: float
    method: str
    tier: int  # 1 = tied with the fastest
    tied_with_fastest: bool


class JuryView(BaseModel):
    points: float  # summed mean Borda points over the aspects
    complexity: str | None = None
    risky_inputs: list[str] = []
    notes: list[str] = []


class CandidateReport(BaseModel):
    id: str
    votes: int = 1  # proposals that wrote this program
    passed: bool
    rank: int | None  # 1 = best; None when not passing
    tied: bool = False  # shares its rank with another candidate
    tied_with: list[str] = []
    verdict: Verdict
    message: str = ""
    tests_passed: int = 0
    tests_total: int = 0
    cluster: int | None = None
    demoted: bool = False  # weak tests and outside the best-scoring consensus set
    agreement: str = ""  # "7 of 9 candidates agree on 30 inputs; they pass 8 of 10 …"
    disagreement: Finding | None = None
    timing: TimingSummary | None = None
    untimed_reason: str = ""  # why it has timings but is not ranked on them
    growth: Growth | None = None  # CPU time against input size ("≈ n^2.0")
    grows_faster_than: list[str] = []  # quicker at small sizes than these, but grows faster
    peak_memory_mb: float | None = None
    jury: JuryView | None = None
    reasons: list[str] = []
    explanation: str = ""


class RankingReport(BaseModel):
    winner: str | None
    tied_winners: list[str] = []  # every rank-1 candidate when more than one shares rank 1
    # The passing candidates disagree on some input and no behaviour has more support than
    # every other: no winner is named (a tie-break would crown one side of a dispute).
    disputed: bool = False
    dispute: str = ""  # where they disagree, in words
    candidates: list[CandidateReport]  # passing ones by rank, then the others as given
    weak_tests: bool = False
    clusters: ClusterReport | None = None
    findings: list[Finding] = []
    consensus: Consensus | None = None
    confidence: float | None = None  # how likely the winner is right, in [0, 1]
    evidence: str = ""  # what stands behind the winner, in words
    counted: Evidence | None = None  # the same, counted: what the confidence is computed from
    jury: JuryResult | None = None
    noise_floor: float
    rule: str = ""

    def candidate(self, candidate_id: str) -> CandidateReport:
        return next(c for c in self.candidates if c.id == candidate_id)
