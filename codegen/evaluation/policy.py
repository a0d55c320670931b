"""What one evaluation measures beyond the visible tests, chosen before it starts: every caller
(solve, rank, the service, bench) says it in one object instead of configuring the engine
after it is built."""

from __future__ import annotations

from dataclasses import dataclass

from codegen.evaluation.report import DEFAULT_ROUNDS
from codegen.ranking import JudgeSpec


@dataclass(frozen=True)
class Policy:
    """``rounds``: interleaved timing rounds per job. ``growth``: measure how the timed
    candidates grow with the input (a few seconds each). ``judges``: the jury, which sits only
    when more than one candidate passes (a lone one needs no tie broken). ``seed``: the run's
    secret (16 hex digits), fixed only where the candidates are recorded ones, for a
    measurement's rerun; a fresh one otherwise. ``reference``: a trusted program (bench's
    canonical solution) timed in the candidates' rounds and never ranked. ``hidden_tests``:
    also run every candidate against the hidden tests (or, for a problem without any, the
    visible ones as written): the truth a leaderboard scores, run beside the ranking and never
    seen by it (:meth:`~codegen.evaluation.pipeline.Evaluation.hidden_runs`)."""

    rounds: int = DEFAULT_ROUNDS
    growth: bool = True
    judges: tuple[JudgeSpec, ...] = ()
    seed: str | None = None
    reference: str | None = None
    hidden_tests: bool = False
