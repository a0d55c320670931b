"""What one solve run has found so far: every distinct program with who proposed it and how it
ran, the failures and costs; and the report all that amounts to."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from codegen.evaluation import Evaluation, RankingRun
from codegen.evaluation.ledger import CandidateRecord, Ledger
from codegen.generation import Candidate, Failure
from codegen.generation.types import TesterReply
from codegen.problems import Problem
from codegen.problems.model import TestFile
from codegen.ranking.consensus import GeneratedTest
from codegen.solve.events import SolveEvent
from codegen.solve.failures import first_failure
from codegen.solve.report import (
    CandidateSummary,
    Round,
    SolveReport,
    Totals,
    closeness,
    tests_passed,
)
from codegen.solve.session import SolveSession, describe_rosters
from sandbox import RunResult, Verdict

log = logging.getLogger(__name__)
CLOSEST_SHOWN = 3


@dataclass
class SolveRun:
    problem: Problem
    session: SolveSession
    on_event: Callable[[SolveEvent], None] | None
    evaluation: Evaluation | None = None  # once the sandbox is open
    ledger: Ledger = field(default_factory=Ledger)  # every distinct program; the evaluation's
    failures: list[Failure] = field(default_factory=list)
    requests: int = 0
    phases: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    settling: str = ""  # what the run did to settle a dispute, when there was one
    tester_replies: list[TesterReply] = field(default_factory=list)
    written_tests: list[GeneratedTest] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    enrich: bool = True  # measure what only enriches the report once the winner is known
    module: str = "solution"  # the name the returned snippet is checked under

    def emit(self, event: SolveEvent) -> None:
        """A broken progress display must not end the run."""
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:
            log.exception("on_event callback failed")

    def add(
        self, candidates: Sequence[Candidate], stage: Round, repair_of: str | None
    ) -> list[str]:
        """Record new programs (a repeat only adds its proposers); returns the new ids."""
        return self.ledger.propose(candidates, stage, repair_of)

    def passing(self) -> dict[str, str]:
        return self.ledger.passing()

    def report(
        self,
        ranking: RankingRun | None,
        winner: str | None,
        hidden: Verdict | None,
        repaired: bool,
    ) -> SolveReport:
        tests = self.problem.visible_tests
        summaries = {r.id: _summary(r, ranking, tests) for r in self.ledger}
        ranked = sorted((s for s in summaries.values() if s.rank is not None), key=_rank_of)
        rest = sorted(
            (s for s in summaries.values() if s.rank is None),
            key=lambda s: closeness(run) if (run := self.ledger[s.id].run) else (1.0, 9),
        )
        candidates = ranked + rest
        proposals = [p for s in candidates for p in s.proposers]
        problem = self.problem
        return SolveReport(
            problem=problem.name,
            entry_point=problem.entry_point,
            origin=problem.origin,
            solved=winner is not None,
            winner=winner,
            disputed=bool(ranking and ranking.disputed),
            dispute=(ranking.dispute if ranking else "") + self.settling,
            code=self.ledger[winner].code if winner else None,
            checked_as=f"{self.module}.py" if winner and self.problem.context is None else None,
            hidden_tests=hidden,
            repair_round=repaired,
            candidates=candidates,
            closest=[] if winner else [s.id for s in rest[:CLOSEST_SHOWN]],
            generation_failures=self.failures,
            roster=describe_rosters(self.session.rosters),
            judges=[j.shown for j in self.session.judges],
            totals=Totals(
                requests=self.requests,
                tester_requests=len(self.tester_replies),
                candidates=len(candidates),
                passing=sum(s.verdict is Verdict.PASSED for s in candidates),
                prompt_tokens=sum(p.prompt_tokens for p in proposals),
                completion_tokens=sum(p.completion_tokens for p in proposals),
                cost_usd=sum(p.cost_usd for p in proposals)
                + sum(r.cost_usd for r in self.tester_replies),
            ),
            phases_s={k: round(v, 3) for k, v in self.phases.items()},
            ranking=ranking,
            confidence=ranking.confidence if ranking else None,
            evidence=ranking.evidence if ranking else "",
            written_tests=self.written_tests,
            notes=[*self.notes, *(ranking.notes if ranking else [])],
            warnings=list(problem.warnings),
        )


def _rank_of(summary: CandidateSummary) -> int:
    return summary.rank or 0


def _summary(
    entry: CandidateRecord, ranking: RankingRun | None, tests: Sequence[TestFile]
) -> CandidateSummary:
    first = entry.proposers[0]
    proposers = entry.proposers
    run = entry.run or RunResult(verdict=Verdict.ERROR, message="not run")
    ranked = None
    if ranking is not None:
        ranked = next((c for c in ranking.candidates if c.id == entry.id), None)
    passed, total = tests_passed(run)
    return CandidateSummary(
        id=entry.id,
        round=entry.round,
        repair_of=entry.repair_of,
        model=first.model,
        persona=first.persona,
        proposers=proposers,
        prompt_tokens=sum(p.prompt_tokens for p in proposers),
        completion_tokens=sum(p.completion_tokens for p in proposers),
        cost_usd=sum(p.cost_usd for p in proposers),
        latency_s=first.latency_s,
        verdict=ranked.verdict if ranked else run.verdict,
        tests_passed=passed,
        tests_total=total,
        message=(ranked.message if ranked and ranked.message else run.message),
        first_failure="" if run.passed else first_failure(run, tests),
        cpu_seconds=run.cpu_seconds,
        wall_seconds=run.wall_seconds,
        peak_memory_mb=run.peak_memory_mb,
        timing=ranked.timing if ranked else None,
        growth=ranked.growth if ranked else None,
        rank=ranked.rank if ranked else None,
        tied=ranked.tied if ranked else False,
        explanation=ranked.explanation if ranked and ranked.rank else "",
        code=entry.code,
    )
