"""What a leaderboard run stores and reads back: plain pydantic data, shared by the store, the
executors (it crosses into Ray workers as JSON) and the pure metrics."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from codegen.problems import Problem
from codegen.ranking.ballots import JudgeSpec


class SampleStatus(StrEnum):
    OK = "ok"  # the model answered with code
    MODEL_ERROR = "model_error"  # it answered, but with nothing usable: a model failure
    INFRA_ERROR = "infra_error"  # no answer (timeout, connection, 5xx): retried on resume


class ProblemStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    INFRA_ERROR = "infra_error"  # Docker trouble or unfinished samples: retried on resume
    SUITE_ERROR = "suite_error"  # the problem's own tests do not load: not retried


class SampleKey(BaseModel):
    model_config = ConfigDict(frozen=True)

    model: str
    persona: str
    sample: int = Field(ge=0)


class SampleRecord(SampleKey):
    """One request of one model for one problem, and what it produced."""

    status: SampleStatus
    code: str | None = None
    code_hash: str | None = None
    error: str = ""
    latency_s: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


class CandidateOutcome(BaseModel):
    """One distinct program of a problem, judged by the hidden tests and timed."""

    verdict: str
    passed: bool
    message: str = ""
    infra: bool = Field(False, description="the sandbox failed, not the candidate")
    cpu_seconds: float = 0.0
    time_median_s: float | None = None
    efficiency: float | None = Field(
        None, description="median CPU time / the canonical solution's, same container and run"
    )


class EvalRequest(BaseModel):
    """All sandbox work for one problem, sent to an executor."""

    problem: Problem
    candidates: dict[str, str] = Field(description="code hash -> source, distinct programs")
    rounds: int = Field(ge=1)
    judges: list[JudgeSpec] = Field([], description="the jury of the ensemble's ranking")


class Evaluation(BaseModel):
    """What an executor returns for one problem."""

    candidates: dict[str, CandidateOutcome]
    pick: str | None = Field(None, description="the ensemble's pick (code hash), visible tests")
    pick_reason: str = ""
    canonical_s: float | None = None
    phases: dict[str, float] = Field({}, description="seconds: sandbox, ranking, timing")
    notes: list[str] = []
    executed_on: str = Field("", description="which executor and node did the work")


class ProblemRecord(BaseModel):
    """One problem of a run as stored: its status, samples and candidates."""

    problem: str
    position: int
    status: ProblemStatus
    message: str = ""
    attempts: int = 0
    pick: str | None = None
    pick_passed: bool | None = None
    canonical_s: float | None = None
    phases: dict[str, float] = {}
    executed_on: str = ""
    samples: list[SampleRecord] = []
    candidates: dict[str, CandidateOutcome] = {}

    def sample_passed(self, sample: SampleRecord) -> bool:
        outcome = self.candidates.get(sample.code_hash or "")
        return sample.status is SampleStatus.OK and outcome is not None and outcome.passed


class RunData(BaseModel):
    """Everything about one run, as the report and the metrics read it."""

    name: str
    config_hash: str
    config: dict
    created_at: str
    problems: list[ProblemRecord]
