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
    stage: str  # context | generate | repair | sandbox | behaviour | timing | jury | rank | done
    message: str


SolveEvent = GenerationProgress | CandidateProgress | JudgeProgress | StageProgress
EventCallback = Callable[[SolveEvent], None]
