"""What `codegen solve` reports while it works, for a live display (plain data)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from codegen.generation import GenerationEvent
from codegen.solve.report import Round


@dataclass(frozen=True)
class GenerationProgress:
    round: Round
    event: GenerationEvent


@dataclass(frozen=True)
class CandidateProgress:
    """A candidate's sandbox run: `status` is "testing" or the verdict."""

    candidate: str
    status: str
    author: str = ""
    detail: str = ""


@dataclass(frozen=True)
class JudgeProgress:
    judge: str
    status: str  # judging | done | failed
    detail: str = ""


@dataclass(frozen=True)
class StageProgress:
    stage: str  # context | generate | repair | sandbox | behaviour | timing | decided | growth
    # | jury | rank | done
    message: str


@dataclass(frozen=True)
class Decided:
    """The winner is known (:mod:`codegen.ranking.decision`): what follows only enriches the
    report. ``after``: the evidence it was decided after (tests, timing, growth, all
    evidence); ``seconds``: since the run began; ``enriching``: more of the report follows."""

    winner: str
    author: str
    code: str
    after: str
    reason: str
    seconds: float
    enriching: bool = True


SolveEvent = GenerationProgress | CandidateProgress | JudgeProgress | StageProgress | Decided
EventCallback = Callable[[SolveEvent], None]
