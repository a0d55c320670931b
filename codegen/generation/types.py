"""What goes into a generation run and what comes out of it (pydantic, written to disk later)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from codegen.llm.errors import ModelFault


class RepairFeedback(BaseModel):
    """For a repair round: a previous candidate and why it failed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    test_output: str


class OptimiseBrief(BaseModel):
    """For an optimisation round: the current version, where its time goes and how it grows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    profile: str = ""
    growth: str = ""


class GenerationTask(BaseModel):
    """The function to write: its stub (signature and docstring) and optional visible tests;
    ``feedback`` makes it a repair, ``optimise`` a request for a faster equivalent. A function
    that lives in a module has its ``module`` (whose names candidates may use) and the
    ``context`` the models are shown of it and of its package."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry_point: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    stub: str = Field(min_length=1)
    visible_tests: str | None = None
    module: str | None = None
    context: str | None = None
    feedback: RepairFeedback | None = None
    optimise: OptimiseBrief | None = None


class Proposal(BaseModel):
    """One reply that produced a candidate: who wrote it and what it cost."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    persona: str
    sample: int = Field(ge=0)
    latency_s: float = Field(ge=0.0)
    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)
    cost_usd: float = Field(default=0.0, ge=0.0)
    attempts: int = Field(default=1, ge=1)


class Candidate(BaseModel):
    """One distinct program (by normalised AST) and every proposal that produced it."""

    model_config = ConfigDict(extra="forbid")

    code: str
    fingerprint: str
    proposers: list[Proposal] = Field(min_length=1)


class Failure(BaseModel):
    """A request that yielded no candidate, with the class of the error that ended it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    persona: str
    sample: int = Field(ge=0)
    error_class: str
    message: str
    latency_s: float = Field(default=0.0, ge=0.0)
    fault: ModelFault | None = Field(
        default=None, description="the typed kind of a model error; None for an unusable reply"
    )
    attempts: int = Field(default=1, ge=0)


class GenerationResult(BaseModel):
    """Deduplicated candidates, in order of first arrival, and the failures of the run."""

    model_config = ConfigDict(extra="forbid")

    candidates: list[Candidate] = Field(default_factory=list)
    failures: list[Failure] = Field(default_factory=list)
    cancelled: int = Field(default=0, ge=0, description="requests stopped by early stop")
    wall_s: float = Field(default=0.0, ge=0.0)

    @property
    def proposals(self) -> list[Proposal]:
        return [p for c in self.candidates for p in c.proposers]

    @property
    def cost_usd(self) -> float:
        return sum(p.cost_usd for p in self.proposals)


class TesterReply(BaseModel):
    """What one tester request gave back: the reply's text, or why there is none."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    text: str = ""
    error: str = ""
    latency_s: float = Field(default=0.0, ge=0.0)
    cost_usd: float = Field(default=0.0, ge=0.0)


EventKind = Literal["started", "retrying", "finished", "failed", "cancelled"]


class GenerationEvent(BaseModel):
    """Progress of one request, for a live display; `candidates` counts distinct ones so far."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: EventKind
    model: str
    persona: str
    sample: int
    attempt: int = 1
    latency_s: float = 0.0
    error_class: str | None = None
    message: str | None = None
    candidates: int = 0
    total_requests: int = 0
